// Writes podpath's dashboards as Grafana JSON: `tsx src/main.ts OUTDIR` writes
// OUTDIR/<uid>.json for each. scripts/generate runs it (and wraps the files in ConfigMaps
// for Grafana's sidecar); the committed dashboards/*.json must equal its output.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OVERVIEW_UID, overview } from "./overview.ts";
import { NODE_UID, nodeDetail } from "./node.ts";

const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: tsx src/main.ts OUTDIR");
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });
for (const [uid, builder] of [
  [OVERVIEW_UID, overview()],
  [NODE_UID, nodeDetail()],
] as const) {
  const json = builder.build();
  // Two-space JSON with a final newline: stable, diffable output.
  writeFileSync(join(outdir, `${uid}.json`), JSON.stringify(json, null, 2) + "\n");
}
