// "podpath / Node detail": one node's view of its peers over time — RTT and loss per peer
// and target, path MTU probed against computed, the road taken and when it changed.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as statetimeline from "@grafana/grafana-foundation-sdk/statetimeline";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import {
  LatencyBounds,
  MTU_UNIT,
  carrierMappings,
  colouredByMappings,
  datasource,
  datasourceVariable,
  instantTable,
  labelVariable,
  latencySteps,
  lossRatio,
  medianRtt,
  organize,
  query,
  thresholds,
  transportMappings,
  valueText,
} from "./common.ts";

export const NODE_UID = "podpath-node";

// $instance is the exporter of the chosen $node (hidden variable): selecting by it needs no
// join with podpath_node_info on every panel.
const mine = `job=~"$job", instance=~"$instance"`;
// A dual-stack peer has a road per address family; "All" also matches series of exporters from
// before the family label (an empty label matches ".*").
const peers = `${mine}, peer=~"$peer", family=~"$family"`;

export function nodeDetail(bounds: LatencyBounds): dashboard.DashboardBuilder {
  return (
    new dashboard.DashboardBuilder("podpath / Node detail")
      .uid(NODE_UID)
      .description("One node's pod paths to each peer over time: RTT, loss, path MTU and the road taken.")
      .tags(["podpath"])
      .editable()
      .timezone("browser")
      .refresh("1m")
      .time({ from: "now-6h", to: "now" })
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .withVariable(datasourceVariable())
      .withVariable(labelVariable("job", "Job", "label_values(podpath_node_info, job)", { multi: true }))
      .withVariable(labelVariable("node", "Node", 'label_values(podpath_node_info{job=~"$job"}, node)', { multi: false }))
      .withVariable(
        labelVariable("instance", "Exporter", 'label_values(podpath_node_info{job=~"$job", node="$node"}, instance)', {
          multi: false,
          hide: true,
        }),
      )
      .withVariable(labelVariable("peer", "Peer", `label_values(podpath_peer_path_info{${mine}}, peer)`, { multi: true }))
      .withVariable(
        labelVariable("family", "Family", `label_values(podpath_peer_path_info{${mine}}, family)`, { multi: true }),
      )
      .link(
        new dashboard.DashboardLinkBuilder("Cluster overview")
          .type(dashboard.DashboardLinkType.Dashboards)
          .tags(["podpath"])
          .asDropdown(false)
          .includeVars(true)
          .keepTime(true),
      )

      .withRow(new dashboard.RowBuilder("Round trip and loss"))
      .withPanel(
        new timeseries.PanelBuilder()
          .title("Median RTT per peer and target")
          .description(
            "overlay = through the pod network (flannel VXLAN or a Tailscale subnet route); underlay = to the " +
              "peer's node address. A large gap between them is encapsulation or a detour.",
          )
          .datasource(datasource)
          .unit("s")
          .thresholds(thresholds(latencySteps(bounds)))
          .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
          .withTarget(query(medianRtt(peers, "peer, target, family"), "{{peer}} {{target}} {{family}}"))
          .height(9)
          .span(12),
      )
      .withPanel(
        new timeseries.PanelBuilder()
          .title("Loss per peer and target")
          .description("Fraction of echoes without a reply in time.")
          .datasource(datasource)
          .unit("percentunit")
          .min(0)
          .max(1)
          .withTarget(
            query(
              lossRatio(
                `sum by (peer, target, family) (rate(podpath_probe_requests_total{${peers}}[$__rate_interval]))`,
                `sum by (peer, target, family) (rate(podpath_probe_responses_total{${peers}}[$__rate_interval]))`,
              ),
              "{{peer}} {{target}} {{family}}",
            ),
          )
          .height(9)
          .span(12),
      )

      .withRow(new dashboard.RowBuilder("Path MTU"))
      .withPanel(
        new timeseries.PanelBuilder()
          .title("Path MTU, probed vs computed")
          .description(
            "computed = from the device chain (e.g. tailscale0 1280 - 50 VXLAN = 1230); probed = largest " +
              "don't-fragment echo that got through. The dashed line is FLANNEL_MTU, what pods may send.",
          )
          .datasource(datasource)
          .unit(MTU_UNIT)
          .decimals(0)
          .withTarget(query(`podpath_peer_path_mtu_bytes{${peers}}`, "{{peer}} {{source}} {{family}}"))
          .withTarget(query(`podpath_flannel_mtu_bytes{${mine}}`, "FLANNEL_MTU", "B"))
          .overrideByName("FLANNEL_MTU", [
            { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
            { id: "color", value: { mode: "fixed", fixedColor: "red" } },
          ])
          .height(8)
          .span(24),
      )

      .withRow(new dashboard.RowBuilder("Roads"))
      .withPanel(
        new statetimeline.PanelBuilder()
          .title("Road per peer over time")
          .description(
            "One lane per road (podpath_peer_path_info): when a peer's lane ends and another begins, pod traffic " +
              "to it changed road.",
          )
          .datasource(datasource)
          .unit("none")
          .mappings(valueText({ "1": { text: "in use", color: "green" } }))
          .showValue(common.VisibilityMode.Never)
          .mergeValues(true)
          .withTarget(
            query(
              `podpath_peer_path_info{${peers}}`,
              "{{peer}}: {{carrier}} {{device}} table {{table}} over {{underlay_device}} ({{transport}} {{derp_region}})",
            ),
          )
          .height(9)
          .span(24),
      )
      .withPanel(
        new table.PanelBuilder()
          .title("Path changes in the time range")
          .description(
            "Roads seen minus one (a road is a label set of podpath_peer_path_info, so changes() on its constant " +
              "value cannot see it); changes() of the DERP flag and of the probed path MTU.",
          )
          .datasource(datasource)
          .unit("none")
          .decimals(0)
          .withTarget(instantTable(`count by (peer) (count_over_time(podpath_peer_path_info{${peers}}[$__range])) - 1`, "A"))
          .withTarget(instantTable(`sum by (peer) (changes(podpath_peer_route_via_derp{${peers}}[$__range]))`, "B"))
          .withTarget(
            instantTable(`sum by (peer) (changes(podpath_peer_path_mtu_bytes{${peers}, source="probed"}[$__range]))`, "C"),
          )
          .withTransformation({ id: "merge", options: {} })
          .withTransformation(
            organize(["Time"], {
              peer: "Peer",
              "Value #A": "Road changes",
              "Value #B": "DERP flips",
              "Value #C": "Probed MTU changes",
            }, ["peer", "Value #A", "Value #B", "Value #C"]),
          )
          .height(8)
          .span(12),
      )
      .withPanel(
        new table.PanelBuilder()
          .title("Current road per peer")
          .description("What `ip route get <peer pod IP>` and Tailscale's peer state say now.")
          .datasource(datasource)
          .unit("none")
          .withTarget(instantTable(`podpath_peer_path_info{${peers}}`))
          .withTransformation(
            organize(["Time", "Value", "__name__", "instance", "job", "same_group"], {
              peer: "Peer",
              peer_group: "Peer group",
              carrier: "Carrier",
              device: "Device",
              table: "Table",
              underlay_device: "Underlay",
              transport: "Transport",
              derp_region: "DERP region",
            }, ["peer", "peer_group", "carrier", "device", "table", "underlay_device", "transport", "derp_region"]),
          )
          .overrideByName("Transport", colouredByMappings(transportMappings))
          .overrideByName("Carrier", colouredByMappings(carrierMappings))
          .height(8)
          .span(12),
      )

      .withRow(new dashboard.RowBuilder("Exporter"))
      .withPanel(
        new table.PanelBuilder()
          .title("Flannel state per peer")
          .description("Whether the kernel's route, neighbour and FDB entries match the peer's flannel annotations.")
          .datasource(datasource)
          .unit("none")
          .mappings(
            valueText({
              "0": { text: "drift", color: "red" },
              "1": { text: "consistent", color: "green" },
            }),
          )
          .cellOptions({ type: common.TableCellDisplayMode.ColorText } as common.TableCellOptions)
          .withTarget(instantTable(`podpath_peer_flannel_consistent{${peers}}`))
          .withTransformation(
            organize(["Time", "__name__", "instance", "job", "same_group"], {
              peer: "Peer",
              peer_group: "Peer group",
              Value: "Kernel vs annotations",
            }, ["peer", "peer_group", "Value"]),
          )
          .height(8)
          .span(12),
      )
      .withPanel(
        new table.PanelBuilder()
          .title("Collectors")
          .description("podpath_collector_success and the duration of each collector's last run.")
          .datasource(datasource)
          .unit("none")
          .withTarget(instantTable(`podpath_collector_success{${mine}}`, "A"))
          .withTarget(instantTable(`podpath_collector_duration_seconds{${mine}}`, "B"))
          .withTransformation({ id: "merge", options: {} })
          .withTransformation(
            organize(["Time", "__name__", "instance", "job"], {
              collector: "Collector",
              "Value #A": "Last run",
              "Value #B": "Duration",
            }, ["collector", "Value #A", "Value #B"]),
          )
          .overrideByName("Last run", [
            {
              id: "mappings",
              value: valueText({
                "0": { text: "failed", color: "red" },
                "1": { text: "ok", color: "green" },
              }),
            },
            { id: "custom.cellOptions", value: { type: common.TableCellDisplayMode.ColorText } },
          ])
          .overrideByName("Duration", [{ id: "unit", value: "s" }])
          .height(8)
          .span(12),
      )
  );
}
