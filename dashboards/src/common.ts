// Shared pieces of podpath's dashboards: the data source reference, variables, thresholds
// and the PromQL fragments every panel uses. Pure: builders and strings, no I/O.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";

// Every panel and variable queries the data source picked in the $datasource variable.
export const datasource: dashboard.DataSourceRef = { type: "prometheus", uid: "${datasource}" };

// The alerts' latency bounds (alerts/config.yaml `latency`), handed over by scripts/generate
// so that dashboards and alerts never disagree.
export interface LatencyBounds {
  same_group_ms: number;
  cross_group_ms: number;
}

export function parseLatencyBounds(json: string): LatencyBounds {
  const bounds = JSON.parse(json) as LatencyBounds;
  if (!(bounds.same_group_ms > 0 && bounds.cross_group_ms >= bounds.same_group_ms)) {
    throw new Error(`bad latency bounds: ${json}`);
  }
  return bounds;
}

// Reference lines where one series may be either kind of pair: green below the same-group
// bound, orange up to the cross-group bound, red above.
export function latencySteps(bounds: LatencyBounds): dashboard.Threshold[] {
  return [
    { value: null, color: "green" },
    { value: bounds.same_group_ms / 1000, color: "orange" },
    { value: bounds.cross_group_ms / 1000, color: "red" },
  ];
}

// Where every value is one kind of pair: red at the bound PodpathPeerLatencyHigh applies to it
// (same_group="true": same_group_ms, "false": cross_group_ms), green below.
export function latencyBoundSteps(boundMs: number): dashboard.Threshold[] {
  return [
    { value: null, color: "green" },
    { value: boundMs / 1000, color: "red" },
  ];
}

// Overlay loss: red is PodpathPeerUnreachable's condition (every echo lost, loss >= 1). The
// alerts have no bound for partial loss; orange starts at 5% because an echo still in flight
// at a scrape counts lost until the next one (requests are counted at send), which with one
// echo a second is about 2% of a one-minute $__rate_interval on a healthy pair.
export const LOSS_PARTIAL = 0.05;
export const lossSteps: dashboard.Threshold[] = [
  { value: null, color: "green" },
  { value: LOSS_PARTIAL, color: "orange" },
  { value: 1, color: "red" },
];

// MTUs are read as exact byte counts (1450, 1280, 1230): Grafana's custom unit "suffix:B"
// prints "1450 B", where "decbytes" would scale it to "1.45 kB".
export const MTU_UNIT = "suffix:B";

export function thresholds(steps: dashboard.Threshold[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

export function valueText(options: Record<string, { text: string; color: string }>): dashboard.ValueMapping[] {
  const mapped: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(options).forEach(([value, result], index) => {
    mapped[value] = { text: result.text, color: result.color, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options: mapped }];
}

// Cells of a node × peer matrix: no series for the pair (null: not in this matrix) stays
// blank instead of taking the base colour; NaN (a median without a single reply) is red.
export const matrixGaps: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.SpecialValue,
    options: { match: dashboard.SpecialValueMatch.Null, result: { text: "", color: "transparent", index: 0 } },
  },
  {
    type: dashboard.MappingType.SpecialValue,
    options: { match: dashboard.SpecialValueMatch.NotANumber, result: { text: "no reply", color: "red", index: 1 } },
  },
];

// podpath_peer_path_info{transport} (docs/metrics/analysis.md): a relay in the road is the
// colour; "unknown" (Tailscale idle, nothing to say) stays uncoloured.
export const transportMappings = valueText({
  lan: { text: "lan", color: "green" },
  "tailscale-direct": { text: "tailscale-direct", color: "green" },
  "tailscale-peer-relay": { text: "tailscale-peer-relay", color: "orange" },
  "tailscale-derp": { text: "tailscale-derp", color: "red" },
  "tailscale-no-handshake": { text: "tailscale-no-handshake", color: "red" },
  unknown: { text: "unknown", color: "transparent" },
});

// podpath_peer_path_info{carrier}: "none" = no route carries pod traffic to the peer.
export const carrierMappings = valueText({
  vxlan: { text: "vxlan", color: "transparent" },
  "host-gw": { text: "host-gw", color: "transparent" },
  "direct-routing": { text: "direct-routing", color: "transparent" },
  wireguard: { text: "wireguard", color: "transparent" },
  ipip: { text: "ipip", color: "transparent" },
  other: { text: "other (untraced backend)", color: "transparent" },
  "tailscale-subnet-route": { text: "tailscale-subnet-route", color: "transparent" },
  none: { text: "none (no route)", color: "red" },
});

// Field overrides that colour a label column's cells by its value mappings; a value without
// a mapping stays uncoloured rather than taking Grafana's default green base threshold.
export function colouredByMappings(mappings: dashboard.ValueMapping[]): dashboard.DynamicConfigValue[] {
  return [
    { id: "mappings", value: mappings },
    {
      id: "thresholds",
      value: { mode: dashboard.ThresholdsMode.Absolute, steps: [{ value: null, color: "transparent" }] },
    },
    { id: "custom.cellOptions", value: { type: "color-background" } },
  ];
}

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder("datasource").label("Data source").type("prometheus");
}

// A variable filled from label values; multi-valued ones select everything with ".*".
export function labelVariable(
  name: string,
  label: string,
  query: string,
  options: { multi: boolean; hide?: boolean },
): dashboard.QueryVariableBuilder {
  const variable = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(datasource)
    // The classic string form: every Grafana since 7 reads it (newer ones migrate it).
    .query(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
  if (options.multi) variable.multi(true).includeAll(true).allValue(".*");
  if (options.hide) variable.hide(dashboard.VariableHide.HideVariable);
  return variable;
}

export function query(expr: string, legend = "", refId = "A"): prometheus.DataqueryBuilder {
  const target = new prometheus.DataqueryBuilder().datasource(datasource).expr(expr).range().refId(refId);
  if (legend) target.legendFormat(legend);
  return target;
}

export function instantTable(expr: string, refId = "A"): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(datasource)
    .expr(expr)
    .instant()
    .format(prometheus.PromQueryFormat.Table)
    .refId(refId);
}

// Names the node of each series through the exporter's own podpath_node_info (the same
// join the alerts use) and keeps only the nodes selected in $node.
export function onNodes(expr: string): string {
  return `${expr}\n* on (instance, job) group_left (node)\n  podpath_node_info{job=~"$job", node=~"$node"}`;
}

// Median of the RTT histogram, per the given labels: from the classic buckets, or from the
// native histogram where Prometheus scrapes those instead (it then keeps no _bucket series;
// docs/decisions/0007-native-histograms-over-protobuf.md).
// `metric` is podpath_probe_rtt_seconds (per peer) or podpath_group_probe_rtt_seconds (the
// sums per peer group that the series budget keeps; docs/metrics/core.md, "Series budget").
export function medianRtt(selector: string, by: string, metric = "podpath_probe_rtt_seconds"): string {
  return (
    `histogram_quantile(0.5,\n  sum by (${by}, le) (\n` +
    `    rate(${metric}_bucket{${selector}}[$__rate_interval])\n  )\n)\nor\n` +
    `histogram_quantile(0.5,\n  sum by (${by}) (\n` +
    `    rate(${metric}{${selector}}[$__rate_interval])\n  )\n)`
  );
}

// Fraction of echo requests without a reply in time, clamped like the recording rule.
export function lossRatio(requests: string, responses: string): string {
  return `clamp(1 - (\n  ${responses}\n  /\n  ${requests}\n), 0, 1)`;
}

// Table transformations: hide bookkeeping columns and name the rest.
export function organize(
  exclude: string[],
  rename: Record<string, string>,
  order: string[] = [],
): dashboard.DataTransformerConfig {
  const excludeByName: Record<string, boolean> = {};
  for (const name of exclude) excludeByName[name] = true;
  const indexByName: Record<string, number> = {};
  order.forEach((name, index) => (indexByName[name] = index));
  return { id: "organize", options: { excludeByName, renameByName: rename, indexByName } };
}
