#!/usr/bin/env python3
"""Writes docs/grafana/ferry.json, the Grafana dashboard for Ferry's Prometheus metrics.

Run from the repository root: python3 tools/grafana_dashboard.py. Every query names only metrics that
ferry-micrometer registers (LoadCommandTest checks them against a real scrape, and against a real Prometheus).
"""
import json

DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "[$__rate_interval]"
POOL = '{pool=~"$pool"}'
BATCHER = '{batcher=~"$batcher"}'

panels = []
y = 0


def row(title):
    global y
    panels.append({"type": "row", "title": title, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "id": len(panels) + 1, "panels": []})
    y += 1


def panel(title, unit, targets, x, w=8, h=8, description=""):
    panels.append({
        "type": "timeseries", "title": title, "description": description, "datasource": DS,
        "id": len(panels) + 1, "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [{"datasource": DS, "expr": e, "legendFormat": l, "refId": chr(ord("A") + i)}
                    for i, (e, l) in enumerate(targets)],
    })


def quantiles(metric, by, flt):
    return [(f'histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{flt}{RATE})))', f"p{int(q * 100)} {{{{{by}}}}}")
            for q in (0.5, 0.95, 0.99)]


row("Connections")
panel("Acquire time p50 / p95 / p99", "s", quantiles("ferry_connections_acquire_seconds", "pool", POOL), 0,
      description="getConnection's time, waiting included (ferry.connections.acquire)")
panel("Connections: active, idle, pending, max", "short", [
    (f"ferry_connections_active{POOL}", "active {{pool}}"),
    (f"ferry_connections_idle{POOL}", "idle {{pool}}"),
    (f"ferry_connections_pending{POOL}", "pending {{pool}}"),
    (f"ferry_connections_max{POOL}", "max {{pool}}"),
], 8)
panel("Utilization (active / max)", "percentunit", [
    (f"ferry_connections_active{POOL} / ferry_connections_max{POOL}", "{{pool}}"),
], 16)
y += 8
panel("Acquisitions per second", "ops", [
    (f"sum by (pool) (rate(ferry_connections_acquire_seconds_count{POOL}{RATE}))", "{{pool}}"),
], 0, description="Connections lent per second: the pool's throughput")
panel("Timeouts and rejections per second", "ops", [
    (f"sum by (pool) (rate(ferry_connections_timeout_total{POOL}{RATE}))", "timeouts {{pool}}"),
    (f"sum by (pool, reason) (rate(ferry_connections_rejected_total{POOL}{RATE}))", "rejected {{reason}} {{pool}}"),
], 8, description="Pool exhaustion: callers that waited connectionTimeout in vain, or were refused at once")
panel("Emergency reserve uses and leaks", "short", [
    (f"sum by (pool) (increase(ferry_connections_reserve_used_total{POOL}{RATE}))", "reserve used {{pool}}"),
    (f"sum by (pool) (increase(ferry_connections_leaks_total{POOL}{RATE}))", "leaks suspected {{pool}}"),
], 16)
y += 8
panel("Connections opened per second, and connect time", "short", [
    (f"sum by (pool) (rate(ferry_connections_creation_seconds_count{POOL}{RATE}))", "opened/s {{pool}}"),
    (f"sum by (pool) (rate(ferry_connections_creation_seconds_sum{POOL}{RATE})) / "
     f"sum by (pool) (rate(ferry_connections_creation_seconds_count{POOL}{RATE}))", "mean connect s {{pool}}"),
], 0)
panel("Evictions by reason", "ops", [
    (f"sum by (pool, reason) (rate(ferry_connections_evicted_total{POOL}{RATE}))", "{{reason}} {{pool}}"),
], 8)
panel("Usage time p50 / p95 / p99", "s", quantiles("ferry_connections_usage_seconds", "pool", POOL), 16,
      description="How long callers hold a connection")
y += 8
row("Statements")
panel("Statements per second, and slow ones", "ops", [
    (f"sum by (pool) (rate(ferry_statements_seconds_count{POOL}{RATE}))", "statements {{pool}}"),
    (f"sum by (pool) (rate(ferry_statements_slow_total{POOL}{RATE}))", "slow {{pool}}"),
    (f"sum by (pool) (rate(ferry_statements_errors_total{POOL}{RATE}))", "errors {{pool}}"),
], 0, description="Needs sqlStatistics on")
panel("Statement time p50 / p95 / p99", "s", quantiles("ferry_statements_seconds", "pool", POOL), 8)
panel("Slowest statements (mean time, top 5)", "s", [
    (f"topk(5, ferry_statements_top_mean_seconds{POOL})", "{{fingerprint}}"),
], 16, description="The five slowest statement fingerprints by mean time (literals replaced by ?)")
y += 8
row("Batching")
panel("Batch efficiency (requests per round trip)", "short", [
    (f"sum by (batcher) (rate(ferry_batch_requests_total{BATCHER}{RATE})) / "
     f"sum by (batcher) (rate(ferry_batch_round_trips_total{BATCHER}{RATE}))", "{{batcher}}"),
], 0, description="How many callers' requests one round trip carried")
panel("Batch size p50 / p95 / p99", "short", quantiles("ferry_batch_size", "batcher", BATCHER), 8)
panel("Batches by flush reason", "ops", [
    (f"sum by (batcher, reason) (rate(ferry_batch_flushes_total{BATCHER}{RATE}))", "{{reason}} {{batcher}}"),
], 16)
y += 8
panel("Mean queue wait", "s", [
    (f"sum by (batcher) (rate(ferry_batch_queue_wait_seconds_sum{BATCHER}{RATE})) / "
     f"sum by (batcher) (rate(ferry_batch_queue_wait_seconds_count{BATCHER}{RATE}))", "{{batcher}}"),
], 0)
panel("Batch requests failed, timed out, rejected", "ops", [
    (f"sum by (batcher) (rate(ferry_batch_failed_total{BATCHER}{RATE}))", "failed {{batcher}}"),
    (f"sum by (batcher) (rate(ferry_batch_timeouts_total{BATCHER}{RATE}))", "timed out {{batcher}}"),
    (f"sum by (batcher) (rate(ferry_batch_rejected_total{BATCHER}{RATE}))", "rejected {{batcher}}"),
], 8)
panel("Requests queued", "short", [
    (f"ferry_batch_queued{BATCHER}", "{{batcher}}"),
], 16)

dashboard = {
    "title": "Ferry", "uid": "ferry", "schemaVersion": 39, "version": 1, "editable": True,
    "description": "Ferry's pool, statement and batching metrics (ferry-micrometer, Prometheus). See README, Metrics.",
    "time": {"from": "now-15m", "to": "now"}, "refresh": "10s", "tags": ["ferry", "jdbc"],
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
        {"name": "pool", "type": "query", "datasource": DS, "query": "label_values(ferry_connections, pool)",
         "includeAll": True, "multi": True, "current": {"text": "All", "value": "$__all"}, "refresh": 2},
        {"name": "batcher", "type": "query", "datasource": DS, "query": "label_values(ferry_batch_queued, batcher)",
         "includeAll": True, "multi": True, "current": {"text": "All", "value": "$__all"}, "refresh": 2},
    ]},
    "panels": panels,
}
with open("docs/grafana/ferry.json", "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
