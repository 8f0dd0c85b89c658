// "podpath / Cluster overview": every node × peer pair at once — how fast, how lossy,
// which road, what MTU — plus exposure, DERP relays and the podpath alerts firing.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import {
  LOSS_PARTIAL,
  LatencyBounds,
  MTU_UNIT,
  carrierMappings,
  colouredByMappings,
  datasource,
  datasourceVariable,
  instantTable,
  labelVariable,
  latencyBoundSteps,
  latencySteps,
  lossRatio,
  lossSteps,
  matrixGaps,
  medianRtt,
  onNodes,
  organize,
  query,
  thresholds,
  transportMappings,
  valueText,
} from "./common.ts";

export const OVERVIEW_UID = "podpath-overview";

// A dual-stack peer has a road per address family; "All" also matches series of exporters from
// before the family label (an empty label matches ".*").
const peers = `job=~"$job", peer=~"$peer", family=~"$family"`;
const bookkeeping = ["Time", "Value", "__name__", "instance", "job", "same_group"];

function bigNumber(title: string, description: string, expr: string, steps: dashboard.Threshold[]) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit("none")
    .decimals(0)
    .thresholds(thresholds(steps))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
    .withTarget(instantTable(expr))
    .height(4)
    .span(4);
}

// A node × peer matrix from an instant table with node, peer and Value columns: one row per
// node (the exporter's podpath_node_info name), one column per peer, cells coloured by steps.
function matrix(title: string, description: string, expr: string, unit: string, steps: dashboard.Threshold[]) {
  return new table.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .decimals(1)
    .thresholds(thresholds(steps))
    .mappings(matrixGaps)
    .cellOptions({ type: common.TableCellDisplayMode.ColorBackground } as common.TableCellOptions)
    .withTarget(instantTable(expr))
    .withTransformation({
      id: "groupingToMatrix",
      options: { columnField: "peer", rowField: "node", valueField: "Value", emptyValue: "null" },
    })
    .overrideByName("node\\peer", [
      { id: "custom.cellOptions", value: { type: common.TableCellDisplayMode.Auto } },
    ])
    .height(9)
    .span(8);
}

function labelTable(title: string, description: string, expr: string, rename: Record<string, string>) {
  return new table.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit("none")
    .withTarget(instantTable(expr))
    .withTransformation(organize(bookkeeping, rename, Object.keys(rename)))
    .sortBy([new common.TableSortByFieldStateBuilder().displayName(Object.values(rename)[0])])
    .height(8)
    .span(12);
}

// The road of every pair, the relays coloured: transport says what carries the packets
// (red = DERP relay, orange = peer relay, green = direct or LAN), carrier "none" = no route.
function roadTable(expr: string) {
  const columns: Record<string, string> = {
    node: "Node",
    peer: "Peer",
    transport: "Transport",
    derp_region: "DERP region",
    carrier: "Carrier",
    device: "Device",
    underlay_device: "Underlay",
    table: "Table",
    peer_group: "Peer group",
  };
  return new table.PanelBuilder()
    .title("Road per pair")
    .description(
      "The road a pod packet to the peer takes, from the kernel's route lookups and Tailscale's peer state " +
        "(podpath_peer_path_info). Transport: red = a Tailscale DERP relay carries every packet " +
        "(PodpathRouteViaDERP), orange = a Tailscale peer relay, green = direct (LAN or Tailscale " +
        "direct). Carrier: vxlan = flannel's VXLAN, tailscale-subnet-route = table 52, none (red) = no " +
        "route carries pod traffic. Underlay = the device under flannel's encapsulation.",
    )
    .datasource(datasource)
    .unit("none")
    .withTarget(instantTable(expr))
    .withTransformation(organize(bookkeeping, columns, Object.keys(columns)))
    .overrideByName("Transport", colouredByMappings(transportMappings))
    .overrideByName("Carrier", colouredByMappings(carrierMappings))
    .sortBy([new common.TableSortByFieldStateBuilder().displayName("Node")])
    .height(9)
    .span(24);
}

export function overview(bounds: LatencyBounds): dashboard.DashboardBuilder {
  const same = bounds.same_group_ms;
  const cross = bounds.cross_group_ms;
  const overlay = `${peers}, target="overlay"`;
  const overlayRtt = onNodes(`(\n${medianRtt(overlay, "instance, job, peer, family")}\n)`);
  // PodpathPeerLatencyHigh holds each pair to one bound by its same_group label.
  const sameGroupRtt = onNodes(`(\n${medianRtt(`${overlay}, same_group="true"`, "instance, job, peer, family")}\n)`);
  const crossGroupRtt = onNodes(`(\n${medianRtt(`${overlay}, same_group="false"`, "instance, job, peer, family")}\n)`);
  const overlayLoss = onNodes(
    lossRatio(
      `sum by (instance, job, peer, family) (rate(podpath_probe_requests_total{${peers}, target="overlay"}[$__rate_interval]))`,
      `sum by (instance, job, peer, family) (rate(podpath_probe_responses_total{${peers}, target="overlay"}[$__rate_interval]))`,
    ),
  );

  return (
    new dashboard.DashboardBuilder("podpath / Cluster overview")
      .uid(OVERVIEW_UID)
      .description("Whether every pod-to-pod path of the cluster works, how fast it is and which road it takes.")
      .tags(["podpath"])
      .editable()
      .timezone("browser")
      .refresh("1m")
      .time({ from: "now-3h", to: "now" })
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .withVariable(datasourceVariable())
      .withVariable(labelVariable("job", "Job", "label_values(podpath_node_info, job)", { multi: true }))
      .withVariable(labelVariable("node", "Node", 'label_values(podpath_node_info{job=~"$job"}, node)', { multi: true }))
      .withVariable(labelVariable("peer", "Peer", 'label_values(podpath_peer_path_info{job=~"$job"}, peer)', { multi: true }))
      .withVariable(
        labelVariable("family", "Family", 'label_values(podpath_peer_path_info{job=~"$job"}, family)', { multi: true }),
      )
      .link(
        new dashboard.DashboardLinkBuilder("Node detail")
          .type(dashboard.DashboardLinkType.Dashboards)
          .tags(["podpath"])
          .asDropdown(false)
          .includeVars(true)
          .keepTime(true),
      )

      .withRow(new dashboard.RowBuilder("Now"))
      .withPanel(
        bigNumber(
          "Podpath alerts firing",
          "Alerts of alerts/podpath.rules.yml firing now (Prometheus' ALERTS series).",
          'count(ALERTS{alertname=~"Podpath.*", alertstate="firing"}) or vector(0)',
          [
            { value: null, color: "green" },
            { value: 1, color: "red" },
          ],
        ),
      )
      .withPanel(
        bigNumber(
          "Exporters down",
          "podpath exporters Prometheus cannot scrape: their nodes' paths are not measured.",
          'count(up{job=~"$job"} == 0) or vector(0)',
          [
            { value: null, color: "green" },
            { value: 1, color: "red" },
          ],
        ),
      )
      .withPanel(
        bigNumber(
          "Pairs relayed via DERP",
          "Node-to-peer pairs whose pod traffic a Tailscale DERP relay carries (podpath_peer_route_via_derp).",
          `sum(\n${onNodes(`podpath_peer_route_via_derp{${peers}}`)}\n)`,
          [
            { value: null, color: "green" },
            { value: 1, color: "orange" },
          ],
        ),
      )
      .withPanel(
        bigNumber(
          "Public VXLAN answers",
          "Public addresses on which a peer's VXLAN port answered an encapsulated probe (podpath_vxlan_exposed).",
          `sum(\n${onNodes(`podpath_vxlan_exposed{${peers}}`)}\n)`,
          [
            { value: null, color: "green" },
            { value: 1, color: "red" },
          ],
        ),
      )
      .withPanel(
        bigNumber(
          "Pairs over their RTT bound",
          `Node-to-peer pairs whose median overlay RTT is above the bound of PodpathPeerLatencyHigh: ${same} ms ` +
            `within a group (Longhorn's bound), ${cross} ms across groups.`,
          `count(\n(\n${sameGroupRtt}\n) > ${same / 1000}\nor\n(\n${crossGroupRtt}\n) > ${cross / 1000}\n) or vector(0)`,
          [
            { value: null, color: "green" },
            { value: 1, color: "red" },
          ],
        ),
      )
      .withPanel(
        bigNumber(
          "Pairs losing every probe",
          "Node-to-peer pairs whose overlay answered no echo in the interval.",
          `count(\n${overlayLoss}\n>= 1\n) or vector(0)`,
          [
            { value: null, color: "green" },
            { value: 1, color: "red" },
          ],
        ),
      )

      .withRow(new dashboard.RowBuilder("Latency and loss"))
      .withPanel(
        matrix(
          "Median overlay RTT within groups, node × peer",
          `Median ICMP round trip through the pod overlay between nodes of one group (same_group="true"). Red at ` +
            `${same} ms, PodpathPeerLatencyHigh's bound within a group (Longhorn's synchronous replicas). ` +
            "Blank: the pair is across groups (next matrix); empty without --peers.group-label groups.",
          sameGroupRtt,
          "s",
          latencyBoundSteps(same),
        ),
      )
      .withPanel(
        matrix(
          "Median overlay RTT across groups, node × peer",
          "Median ICMP round trip through the pod overlay between nodes of different groups, or without a " +
            `group (same_group="false"). Red at ${cross} ms, PodpathPeerLatencyHigh's bound across groups. ` +
            "Blank: the pair is within a group (previous matrix).",
          crossGroupRtt,
          "s",
          latencyBoundSteps(cross),
        ),
      )
      .withPanel(
        matrix(
          "Overlay loss, node × peer",
          "Fraction of overlay echoes without a reply in time. Red = every echo lost, PodpathPeerUnreachable's " +
            `condition; orange from ${LOSS_PARTIAL * 100}% (the alerts have no partial-loss bound: an echo in ` +
            "flight at a scrape counts lost for a while, about 2% of a one-minute window).",
          overlayLoss,
          "percentunit",
          lossSteps,
        ),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title("Median overlay RTT")
          .description("Per node → peer; a step usually means the road changed (see Roads).")
          .datasource(datasource)
          .unit("s")
          .thresholds(thresholds(latencySteps(bounds)))
          .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
          .withTarget(query(overlayRtt, "{{node}} → {{peer}}"))
          .height(8)
          .span(12),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title("Overlay loss")
          .description("Per node → peer.")
          .datasource(datasource)
          .unit("percentunit")
          .min(0)
          .max(1)
          .thresholds(thresholds(lossSteps))
          .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
          .withTarget(query(overlayLoss, "{{node}} → {{peer}}"))
          .height(8)
          .span(12),
      )

      .withPanel(
        new timeseries.PanelBuilder()
          .title("Median overlay RTT per peer group")
          .description(
            "Per node → group, over every peer of the group the node probes (podpath_group_probe_rtt_seconds, " +
              "or the peers' own histograms where all of them are kept). In a large cluster the series budget " +
              "keeps per-peer RTTs for a few peers per node; the group sums keep every group's latency.",
          )
          .datasource(datasource)
          .unit("s")
          .thresholds(thresholds(latencySteps(bounds)))
          .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
          .withTarget(
            query(
              onNodes(
                // Where every probed peer of a group is kept in detail the budget leaves its
                // sums out as redundant: then the peers' own histograms, summed by group.
                `(\n${medianRtt(
                  `job=~"$job", family=~"$family", target="overlay"`,
                  "instance, job, peer_group, family",
                  "podpath_group_probe_rtt_seconds",
                )}\n)\nor\n(\n${medianRtt(
                  `job=~"$job", family=~"$family", target="overlay"`,
                  "instance, job, peer_group, family",
                )}\n)`,
              ),
              "{{node}} → {{peer_group}}",
            ),
          )
          .height(8)
          .span(24),
      )

      .withRow(new dashboard.RowBuilder("Roads"))
      .withPanel(roadTable(onNodes(`podpath_peer_path_info{${peers}}`)))
      .withPanel(
        new table.PanelBuilder()
          .title("Pairs per road class")
          .description("How many node → peer pairs use each carrier and transport.")
          .datasource(datasource)
          .unit("none")
          .withTarget(
            instantTable(`count by (carrier, transport) (\n${onNodes(`podpath_peer_path_info{${peers}}`)}\n)`),
          )
          .withTransformation(
            organize(["Time"], { carrier: "Carrier", transport: "Transport", Value: "Pairs" }, [
              "carrier",
              "transport",
              "Value",
            ]),
          )
          .overrideByName("Transport", colouredByMappings(transportMappings))
          .overrideByName("Carrier", colouredByMappings(carrierMappings))
          .height(8)
          .span(12),
      )
      .withPanel(
        new table.PanelBuilder()
          .title("Pod traffic via DERP")
          .description("1 when a Tailscale DERP relay carries the pod traffic of the pair (podpath_peer_route_via_derp).")
          .datasource(datasource)
          .unit("none")
          .mappings(
            valueText({
              "0": { text: "direct", color: "green" },
              "1": { text: "DERP relay", color: "orange" },
            }),
          )
          .cellOptions({ type: common.TableCellDisplayMode.ColorText } as common.TableCellOptions)
          .withTarget(instantTable(onNodes(`podpath_peer_route_via_derp{${peers}}`)))
          .withTransformation(
            organize(["Time", "__name__", "instance", "job", "same_group", "peer_group"], {
              node: "Node",
              peer: "Peer",
              derp_region: "DERP region",
              Value: "Road",
            }, ["node", "peer", "derp_region", "Value"]),
          )
          .sortBy([new common.TableSortByFieldStateBuilder().displayName("Road").desc(true)])
          .height(8)
          .span(12),
      )

      .withRow(new dashboard.RowBuilder("MTU"))
      .withPanel(
        new table.PanelBuilder()
          .title("Path MTU per pair")
          .description(
            "The largest packet the overlay path carries, computed from the device chain and probed with " +
              "don't-fragment echoes. Below the node's overlay MTU = fragmentation or an MTU black hole.",
          )
          .datasource(datasource)
          .unit(MTU_UNIT)
          .decimals(0)
          .withTarget(instantTable(onNodes(`podpath_peer_path_mtu_bytes{${peers}}`)))
          .withTransformation(
            organize(["Time", "__name__", "instance", "job", "same_group", "peer_group"], {
              node: "Node",
              peer: "Peer",
              source: "Source",
              Value: "Path MTU",
            }, ["node", "peer", "source", "Value"]),
          )
          .sortBy([new common.TableSortByFieldStateBuilder().displayName("Path MTU")])
          .height(8)
          .span(12),
      )
      .withPanel(
        new table.PanelBuilder()
          .title("Overlay MTU per node")
          .description("FLANNEL_MTU from subnet.env: what pods are told they may send.")
          .datasource(datasource)
          .unit(MTU_UNIT)
          .decimals(0)
          .withTarget(instantTable(onNodes(`podpath_flannel_mtu_bytes{job=~"$job"}`)))
          .withTransformation(organize(["Time", "__name__", "instance", "job", "group"], { node: "Node", Value: "FLANNEL_MTU" }))
          .height(8)
          .span(12),
      )

      .withRow(new dashboard.RowBuilder("Exposure"))
      .withPanel(
        new table.PanelBuilder()
          .title("VXLAN answers on public addresses")
          .description(
            "Encapsulated probes sent to peers' public addresses: ANSWERS means anyone on the internet can inject " +
              "packets into the pod network (VXLAN has no authentication).",
          )
          .datasource(datasource)
          .unit("none")
          .mappings(
            valueText({
              "0": { text: "closed", color: "green" },
              "1": { text: "ANSWERS", color: "red" },
            }),
          )
          .cellOptions({ type: common.TableCellDisplayMode.ColorBackground } as common.TableCellOptions)
          .withTarget(instantTable(onNodes(`podpath_vxlan_exposed{${peers}}`)))
          .withTransformation(
            organize(["Time", "__name__", "instance", "job", "same_group", "peer_group"], {
              node: "From node",
              peer: "Peer",
              address: "Public address",
              Value: "VXLAN port",
            }, ["node", "peer", "address", "Value"]),
          )
          .sortBy([new common.TableSortByFieldStateBuilder().displayName("VXLAN port").desc(true)])
          .height(8)
          .span(12),
      )
      .withPanel(
        labelTable(
          "Advertised VTEP addresses",
          "Each node's flannel.alpha.coreos.com/public-ip: where its peers send VXLAN. Scope global = across the internet.",
          onNodes(`podpath_flannel_annotation_info{job=~"$job"}`),
          {
            node: "Node",
            public_ip: "public-ip",
            public_ip_scope: "Scope",
            public_ip_overwrite: "public-ip-overwrite",
            backend_type: "Backend",
            vni: "VNI",
            vtep_mac: "VtepMAC",
          },
        ),
      )

      .withRow(new dashboard.RowBuilder("Alerts"))
      .withPanel(
        new table.PanelBuilder()
          .title("Firing podpath alerts")
          .description("Prometheus' ALERTS series for the Podpath* alerts; pending ones are shown too.")
          .datasource(datasource)
          .unit("none")
          .withTarget(instantTable('ALERTS{alertname=~"Podpath.*"}'))
          .withTransformation(
            organize(["Time", "Value", "__name__", "instance", "job"], {
              alertname: "Alert",
              alertstate: "State",
              severity: "Severity",
              node: "Node",
              peer: "Peer",
            }, ["alertname", "alertstate", "severity", "node", "peer"]),
          )
          .height(8)
          .span(24),
      )
  );
}
