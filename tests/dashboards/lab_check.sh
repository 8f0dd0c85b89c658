#!/bin/sh
# Runs every panel query of podpath's dashboards against a Prometheus and fails on any
# error or empty result; variables are resolved against that Prometheus as Grafana would.
#
#   tests/dashboards/lab_check.sh [--allow-empty TITLE_REGEX] [--var NAME=VALUE]
#       [--rate-interval 1m] [--range 1h] PROMETHEUS_URL [DASHBOARD.json ...]
#
# In the lab (2 s scrapes): tests/dashboards/lab_check.sh --rate-interval 10s --range 15m http://MGMT_IP:9090
# "Firing podpath alerts" lists pending alerts too; on a lab without any, add
# --allow-empty '^Firing podpath alerts$'.
exec python3 "$(dirname "$0")/dashboard_queries.py" lab-check "$@"
