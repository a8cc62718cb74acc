"""The capacity rules on hand-built history: a month of hourly series for every configured metric (healthy unless a
test says otherwise), analysed as the checks' Review does, and each monthly action item and the quarterly bottleneck
rule failing on the series that should make it fail. No sandbox, no CloudWatch."""

import datetime as dt
import re

import numpy as np
import pytest

from opsproof import capacity, config, findings
from opsproof.probes.capacity import DatabaseSize
from opsproof.probes.cloudwatch import Fetch, Series
from opsproof.probes.rds import Instance
from opsproof.rules import capacity as rules

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, tzinfo=UTC)
ENV = config.load("sandbox")
C = ENV.capacity
DAYS = 30
GIB = 1024 ** 3
H = np.arange(DAYS * 24, dtype=float)
DAILY = 1 + 0.02 * np.sin(2 * np.pi * H / 24)  # a little daily rhythm: no series is a flat line
HEALTHY = {"rds-cpu": 30 * DAILY, "rds-connections": 50 * DAILY, "rds-free-storage": 700 * GIB * DAILY,
           "rds-freeable-memory": 8 * GIB * DAILY, "rds-network-in": 1e6 * DAILY, "rds-network-out": 1e6 * DAILY,
           "queue-depth": np.where(H % 24 < 12, 0.0, 100.0), "queue-age": 60 * DAILY}
DB = DatabaseSize(Instance("prod-db", "available", instance_class="db.r6g.xlarge", allocated_gb=1000.0,
                           parameter_group="prod-params"), 200, "parameter group prod-params")


def review(database=DB, drop: dict | None = None, **values) -> capacity.Review:
    """Every metric's hourly history (HEALTHY, else 40 % CPU-like), with values replaced by keyword (rds_cpu=...)
    and the first `drop[id]` datapoints of a metric missing."""
    start = NOW - dt.timedelta(days=DAYS)
    times = start.timestamp() + 3600 * H
    series = {}
    for mid in C.metrics:
        v = np.asarray(values.get(mid.replace("-", "_"), HEALTHY.get(mid, 40 * DAILY)), dtype=float)
        skip = (drop or {}).get(mid, 0)
        series[mid] = Series(mid, times[skip:], v[skip:], 3600)
    fetched = Fetch(series, start, NOW, 3600)
    analyses = {mid: capacity.analyse(mid, m, series[mid], fetched.coverage(mid), C.model, C.horizons_months)
                for mid, m in C.metrics.items()}
    r = capacity.Review(ENV, fetched, analyses, database, NOW, DAYS)
    r.apply_thresholds()
    return r


HEALTHY_REVIEW = review()


def alarms(found) -> list[str]:
    return [f.line() for f in findings.failing(found)]


def test_a_healthy_month_has_no_alarm_and_names_every_metric():
    r = HEALTHY_REVIEW
    for found in (rules.history(r, C), rules.database_cpu(r, C), rules.storage(r, C), rules.connections(r, C),
                  rules.queue(r, C), rules.bottlenecks(capacity.quarterly(r, []), C)):
        assert found and alarms(found) == [], alarms(found)
    assert len(rules.history(r, C)) == len(C.metrics)


# ---- history ---------------------------------------------------------------------------------------------------------
def test_a_metric_with_too_little_history_is_named_with_its_last_datapoint():
    [line] = alarms(rules.history(review(drop={"gpu-cpu": 600}), C))
    assert "gpu-cpu" in line and "data for 17 % of the last 30 days (under 80 %)" in line
    assert "last datapoint 2026-11-30 23:00 UTC" in line and "(capacity.min_coverage_percent)" in line


def test_a_metric_without_any_datapoint_says_so():
    [line] = alarms(rules.history(review(drop={"queue-age": DAYS * 24}), C))
    assert "queue-age" in line and "no datapoints at all" in line


def test_coverage_at_the_minimum_is_enough():
    assert alarms(rules.history(review(drop={"gpu-cpu": int(DAYS * 24 * 0.2)}), C)) == []


# ---- database CPU ----------------------------------------------------------------------------------------------------
def test_cpu_consistently_high_recommends_the_next_instance_class():
    [line] = alarms(rules.database_cpu(review(rds_cpu=70 * DAILY), C))
    assert "rds-cpu" in line and "p95 over the last 30 days is 71.4 % > 60 %" in line
    assert "(capacity.database_cpu.max_percent)" in line and "at or above 60 % since" in line
    assert "fix: Plan database upgrade" in line and "db.r6g.xlarge → db.r6g.2xlarge (+" in line


def test_cpu_p95_at_the_limit_passes():
    assert alarms(rules.database_cpu(review(rds_cpu=np.full(H.size, 60.0)), C)) == []


def test_cpu_without_datapoints_is_an_alarm():
    [line] = alarms(rules.database_cpu(review(drop={"rds-cpu": DAYS * 24}), C))
    assert "no datapoints in the last 30 days" in line


# ---- storage ---------------------------------------------------------------------------------------------------------
def test_storage_projected_past_80_percent_within_3_months_asks_for_more():
    free = (300 - 2.0 * H / 24) * GIB  # 300 GiB free, 2 GiB/day used: 800 GiB used in ~5 weeks
    [line] = alarms(rules.storage(review(rds_free_storage=free), C))
    assert "rds-free-storage" in line and "of 1,000 GiB" in line and "projected to reach 80 % (800 GiB) on" in line
    assert "capacity.storage.within_months" in line and "(capacity.storage.max_used_percent)" in line
    assert "Increase storage" in line


def test_storage_without_an_allocation_cannot_be_projected():
    [line] = alarms(rules.storage(review(database=None), C, "prod-db"))
    assert "cannot project storage: no allocated storage (RDS instance prod-db not found" in line


# ---- connections -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("peak, fails", [(159.0, False), (160.0, True), (190.0, True)])
def test_the_connections_peak_must_stay_under_the_share(peak, fails):
    values = np.full(H.size, 50.0)
    values[-30] = peak
    found = alarms(rules.connections(review(rds_connections=values), C))
    assert bool(found) == fails, found
    if fails:
        assert f"peak {peak:,.0f} connections" in found[0] and "max_connections 200" in found[0]
        assert "(capacity.connections.max_share_percent)" in found[0] and "connection pooling" in found[0]


def test_unknown_max_connections_is_an_alarm_naming_why():
    unknown = DatabaseSize(DB.instance, None, "parameter group prod-params does not set max_connections")
    [line] = alarms(rules.connections(review(database=unknown), C))
    assert "max_connections unknown (parameter group prod-params does not set max_connections)" in line
    assert "set capacity.connections.max_connections" in line


# ---- queue -----------------------------------------------------------------------------------------------------------
def test_a_queue_that_never_drains_is_an_alarm():
    [line] = alarms(rules.queue(review(queue_depth=np.full(H.size, 500.0)), C))
    assert re.search(r"has not drained to ≤ 10 messages for 7\d\d hours from 2026-11-01", line) and "capacity.queue.max_undrained_hours" in line
    assert "review auto-scaling policies" in line


def test_a_queue_peak_at_the_limit_is_an_alarm():
    depth = HEALTHY["queue-depth"].copy()
    depth[-5] = 1000.0
    [line] = alarms(rules.queue(review(queue_depth=depth), C))
    assert "peak depth 1,000" in line and "(capacity.queue.max_messages)" in line


# ---- scaling ---------------------------------------------------------------------------------------------------------
def summary(per_day, flaps, name="service/prod-cluster/backend-service"):
    first = NOW - dt.timedelta(days=3) if flaps else None
    return capacity.ScalingSummary(name, int(per_day * DAYS), per_day, flaps, first, [], [])


@pytest.mark.parametrize("s, key", [(summary(7.0, 0), "capacity.scaling.max_per_day"),
                                    (summary(1.0, 4), "capacity.scaling.max_flaps")], ids=["frequent", "flapping"])
def test_frequent_or_flapping_scaling_is_an_alarm(s, key):
    [line] = alarms(rules.scaling([s, summary(1.0, 0, "service/prod-cluster/worker-service")], C, DAYS))
    assert line.startswith("service/prod-cluster/backend-service: frequent scaling events") and f"({key})" in line
    assert "worker-service" not in line and "review auto-scaling policies" in line


def test_scaling_at_the_limits_passes_and_a_flap_says_since_when():
    assert alarms(rules.scaling([summary(6.0, 3)], C, DAYS)) == []
    assert "flapping since" in alarms(rules.scaling([summary(1.0, 5)], C, DAYS))[0]


# ---- quarterly bottlenecks -------------------------------------------------------------------------------------------
def test_a_bottleneck_within_the_quarter_names_its_recommendation():
    rising = (40 + 0.5 * H / 24) * DAILY  # 55 % now, +0.5 points/day: 60 % in about ten days
    q = capacity.quarterly(review(rds_cpu=rising), [])
    [line] = alarms(rules.bottlenecks(q, C))
    assert "rds-cpu" in line and "(capacity.database_cpu.max_percent)" in line
    assert "capacity.quarterly.bottleneck_months" in line and "recommended: Plan database upgrade" in line
