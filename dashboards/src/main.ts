// Writes podpath's dashboards as Grafana JSON: `tsx src/main.ts OUTDIR LATENCY_JSON` writes
// OUTDIR/<uid>.json for each; LATENCY_JSON is alerts/config.yaml's `latency` section. scripts/generate runs it (and wraps the files in ConfigMaps
// for Grafana's sidecar); the committed dashboards/*.json must equal its output.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OVERVIEW_UID, overview } from "./overview.ts";
import { NODE_UID, nodeDetail } from "./node.ts";
import { parseLatencyBounds } from "./common.ts";

const [outdir, latency] = process.argv.slice(2);
if (!outdir || !latency) {
  console.error('usage: tsx src/main.ts OUTDIR \'{"same_group_ms":20,"cross_group_ms":100}\'');
  process.exit(2);
}
const bounds = parseLatencyBounds(latency);
mkdirSync(outdir, { recursive: true });
for (const [uid, builder] of [
  [OVERVIEW_UID, overview(bounds)],
  [NODE_UID, nodeDetail(bounds)],
] as const) {
  const json = builder.build();
  // Two-space JSON with a final newline: stable, diffable output.
  writeFileSync(join(outdir, `${uid}.json`), JSON.stringify(json, null, 2) + "\n");
}
