"""Proofs of the capacity checks: each passes on the sandbox's healthy 90-day history and fails under its fault,
naming the metric, the threshold's configuration key and the date the threshold was (or is projected to be) crossed.

The healthy run here is the capacity checks alone (they share one history fetch; the whole suite's `healthy` run
would add every other area's checks to a capacity proof).
"""

import datetime as dt
import re
import subprocess

import pytest

from opsproof import ROOT

CHECKS = "checks/capacity"
MONTHLY = "checks/capacity/test_monthly_review.py"
QUARTERLY = "checks/capacity/test_quarterly_report.py"
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


@pytest.fixture(scope="module")
def capacity_healthy(sandbox, tmp_path_factory):
    """The capacity checks, run once on the healthy sandbox."""
    try:  # tests/conftest.py, as pytest registered it
        from conftest import CheckRun, _record, checks_command
    except ImportError:
        from tests.conftest import CheckRun, _record, checks_command

    out = tmp_path_factory.mktemp("capacity-healthy")
    proc = subprocess.run(checks_command(out, CHECKS), cwd=ROOT, capture_output=True, text=True, timeout=600)
    return CheckRun(proc.returncode, proc.stdout + proc.stderr, _record(out, proc.returncode), out)


def _dates(msg: str) -> list[dt.date]:
    return [dt.date.fromisoformat(d) for d in DATE.findall(msg)]


def test_capacity_metrics_have_history(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_capacity_metrics_have_history")
    ev = {e["title"]: e["payload"] for e in capacity_healthy.evidence("test_capacity_metrics_have_history")}
    assert ev["CloudWatch GetMetricData calls"][0] == 1  # 13 metrics × 30 days hourly: one batched call
    assert {row["metric"] for row in ev["forecasts"]} >= {"rds-cpu", "rds-free-storage", "queue-depth", "gpu-cpu"}
    assert all(row["3 months"] != "-" and row["12 months"] != "-" for row in ev["forecasts"])
    run = broken("gpu-metrics-missing", f"{MONTHLY}::test_capacity_metrics_have_history")
    msg = run.assert_failed("test_capacity_metrics_have_history", "gpu-cpu", "AutoScalingGroupName=gpu-workers",
                            "capacity.min_coverage_percent", "last datapoint")
    assert "Traceback" not in msg


def test_database_cpu_not_consistently_above_60_percent(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_database_cpu_not_consistently_above_60_percent")
    run = broken("cpu-sustained-high", f"{MONTHLY}::test_database_cpu_not_consistently_above_60_percent")
    msg = run.assert_failed("test_database_cpu_not_consistently_above_60_percent", "rds-cpu", "CPUUtilization",
                            "prod-db", "capacity.database_cpu.max_percent", "at or above 60 % since",
                            "Plan database upgrade", "db.r6g.xlarge → db.r6g.2xlarge")
    since = _dates(msg)[0]
    assert dt.date.today() - dt.timedelta(days=23) <= since <= dt.date.today() - dt.timedelta(days=19), msg


def test_storage_not_projected_to_reach_80_percent_within_3_months(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_storage_not_projected_to_reach_80_percent_within_3_months")
    run = broken("storage-growth-spike", f"{MONTHLY}::test_storage_not_projected_to_reach_80_percent_within_3_months")
    msg = run.assert_failed("test_storage_not_projected_to_reach_80_percent_within_3_months", "rds-free-storage",
                            "FreeStorageSpace", "of 1,000 GiB", "projected to reach 80 % (800 GiB) on",
                            "capacity.storage.max_used_percent", "capacity.storage.within_months",
                            "Increase storage")
    crossing = _dates(msg)[0]
    assert dt.date.today() < crossing <= dt.date.today() + dt.timedelta(days=92), msg


def test_database_connections_stay_under_share_of_max_connections(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_database_connections_stay_under_share_of_max_connections")
    run = broken("connections-near-limit", f"{MONTHLY}::test_database_connections_stay_under_share_of_max_connections")
    msg = run.assert_failed("test_database_connections_stay_under_share_of_max_connections", "rds-connections",
                            "DatabaseConnections", "max_connections 200", "capacity.connections.max_share_percent",
                            "at or above 160 since")
    assert _dates(msg), msg


def test_database_connections_max_connections_from_rds_formula(broken):
    """With the group at RDS's default, max_connections is LEAST({DBInstanceClassMemory/9531392},5000): worked out
    for db.r6g.xlarge (capacity.connections.instance_memory_gib), 3604."""
    check = "test_database_connections_stay_under_share_of_max_connections"
    run = broken("parameters-reset-to-defaults", f"{MONTHLY}::{check}")
    run.assert_passed(check)
    value = next(e["payload"] for e in run.evidence(check) if e["title"] == "max_connections")
    assert value[0] == 3604 and "LEAST({DBInstanceClassMemory/9531392},5000) on db.r6g.xlarge" in value[1], value


def test_render_queue_drains(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_render_queue_drains")
    run = broken("queue-backlog", f"{MONTHLY}::test_render_queue_drains")
    msg = run.assert_failed("test_render_queue_drains", "queue-depth", "render-jobs", "has not drained",
                            "capacity.queue.max_undrained_hours", "capacity.queue.max_messages",
                            "review auto-scaling policies")
    assert _dates(msg), msg


def test_scaling_events_are_not_frequent(capacity_healthy, broken):
    capacity_healthy.assert_passed("test_scaling_events_are_not_frequent")
    run = broken("scaling-flapping", f"{MONTHLY}::test_scaling_events_are_not_frequent")
    msg = run.assert_failed("test_scaling_events_are_not_frequent", "service/prod-cluster/backend-service",
                            "capacity.scaling.max_per_day", "capacity.scaling.max_flaps", "flapping since",
                            "review auto-scaling policies")
    assert "worker-service" not in msg


@pytest.mark.parametrize("fault, culprit", [("storage-growth-spike", "rds-free-storage"),
                                            ("cpu-sustained-high", "rds-cpu")])
def test_quarterly_capacity_report(capacity_healthy, broken, fault, culprit):
    capacity_healthy.assert_passed("test_quarterly_capacity_report")
    sections = [e["title"] for e in capacity_healthy.evidence("test_quarterly_capacity_report")]
    for n in range(1, 6):
        assert any(t.startswith(f"{n}. ") for t in sections), (n, sections)
    run = broken(fault, QUARTERLY)
    msg = run.assert_failed("test_quarterly_capacity_report", culprit, "capacity.quarterly.bottleneck_months",
                            "recommended:")
    assert _dates(msg), msg
