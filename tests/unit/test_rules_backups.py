"""The backups rules on hand-built facts: each way a snapshot, the retention, a drill record, a leftover drill
instance or a logical dump can be wrong is an alarm naming its culprit and the configuration key. No sandbox."""

import datetime as dt
import json

import pytest

from opsproof import findings
from opsproof.config.backups import Backups, Drill, Logical
from opsproof.probes import rds
from opsproof.probes.backups import DumpRead, DumpToc
from opsproof.probes.rds import Instance, Snapshot
from opsproof.rules import backups as rules

NOW = dt.datetime.now(dt.timezone.utc)
B, D, LG = Backups(), Drill(), Logical(dump="/backups/*.dump")


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    """Ages are worked out against NOW, not the clock a slow run reaches later."""
    monkeypatch.setattr(rds, "now", lambda: NOW)


def snap(id, hours, status="available", type="automated", encrypted=True) -> Snapshot:
    return Snapshot(id, "prod-db", type, status, NOW - dt.timedelta(hours=hours), encrypted)


def alarms(found) -> list[str]:
    return [f.line() for f in findings.failing(found)]


# ---- latest automated snapshot ---------------------------------------------------------------------------------------
def test_a_recent_available_snapshot_is_ok():
    found = rules.latest_automated_snapshots({"prod-db": [snap("s2", 5), snap("s1", 29)]}, B)
    assert alarms(found) == [] and found[0].subject == "prod-db" and found[0].measured == pytest.approx(5, abs=0.1)


@pytest.mark.parametrize("snaps, expected", [
    ([snap("s1", 30)], "prod-db: latest automated snapshot s1 is 30.0 h old"),
    ([], "prod-db: no available automated snapshot"),
    ([snap("s2", 1, "creating")], "no available automated snapshot (latest s2 is 'creating')"),
    ([snap("s3", 1, "failed"), snap("s1", 5)], "prod-db: automated snapshot s3 is 'failed'"),
], ids=["too old", "none", "only creating", "failed since the newest"])
def test_each_way_a_snapshot_fails(snaps, expected):
    [line] = alarms(rules.latest_automated_snapshots({"prod-db": snaps}, B))
    assert expected in line, line


def test_the_snapshot_age_limit_is_inclusive():
    assert alarms(rules.latest_automated_snapshots({"prod-db": [snap("s1", 23.99)]}, B)) == []
    assert "(backups.latest_snapshot_max_age_h)" in alarms(
        rules.latest_automated_snapshots({"prod-db": [snap("s1", 24.1)]}, B))[0]


def test_a_failed_snapshot_older_than_the_newest_good_one_is_history():
    assert alarms(rules.latest_automated_snapshots({"prod-db": [snap("s2", 2), snap("s1", 30, "failed")]}, B)) == []


# ---- retention -------------------------------------------------------------------------------------------------------
def inst(id="prod-db", retention=7, **kw) -> Instance:
    return Instance(id, kw.pop("status", "available"), backup_retention_days=retention, **kw)


def test_retention_at_the_minimum_is_ok_and_shorter_is_an_alarm():
    assert alarms(rules.retention({"prod-db": inst(retention=7)}, B)) == []
    [line] = alarms(rules.retention({"prod-db": inst(retention=1)}, B))
    assert "prod-db keeps automated backups 1 day(s)" in line and "backups.min_retention_days = 7" in line
    assert "--backup-retention-period 7" in line


def test_a_missing_instance_is_an_alarm():
    assert alarms(rules.retention({"prod-db": None}, B, "us-east-1")) == [
        "prod-db: RDS instance prod-db not found in us-east-1"]


# ---- encryption ------------------------------------------------------------------------------------------------------
def test_every_plain_snapshot_is_named_and_an_encrypted_instance_is_ok():
    found = rules.encryption({"prod-db": [snap("a", 1), snap("b", 2, type="manual", encrypted=False)],
                              "other-db": [snap("c", 1)]})
    assert [f.subject for f in findings.failing(found)] == ["b"]
    assert "(backups.require_encryption)" in alarms(found)[0]
    assert [f.subject for f in found if not f.failing] == ["other-db"]


# ---- pre-window snapshot ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("manual, expected", [
    ([], "prod-db: no available manual snapshot in the last 24 h (none at all)"),
    ([snap("prod-db-pre-maintenance-1", 30, type="manual")], "(newest: prod-db-pre-maintenance-1, available, 30.0 h"),
    ([snap("m2", 1, "creating", "manual")], "(newest: m2, creating"),
], ids=["none", "too old", "not available yet"])
def test_each_way_the_pre_window_snapshot_is_missing(manual, expected):
    [line] = alarms(rules.pre_window_snapshot({"prod-db": manual}, B))
    assert expected in line and "fix: python -m actions snapshot --apply" in line, line


def test_a_fresh_manual_snapshot_is_ok():
    assert alarms(rules.pre_window_snapshot({"prod-db": [snap("m1", 2, type="manual")]}, B)) == []


# ---- drill record ----------------------------------------------------------------------------------------------------
GOOD = {"snapshot": "rds:prod-db-1", "drill_instance": "test-restore-202612", "passed": True, "failures": []}


def test_a_recent_passed_drill_is_ok():
    [f] = rules.drill_record("rds", GOOD, 3, D)
    assert f.status == "ok" and f.subject == "rds restore drill of rds:prod-db-1"


def test_no_record_names_the_action():
    [line] = alarms(rules.drill_record("logical", None, float("inf"), D, "reports/x.json"))
    assert "none recorded (reports/x.json)" in line and "python -m actions logical-restore-drill --apply" in line


def test_an_old_drill_is_an_alarm_and_the_boundary_is_not():
    assert alarms(rules.drill_record("rds", GOOD, D.max_age_days, D)) == []
    [line] = alarms(rules.drill_record("rds", GOOD, 40, D))
    assert "finished 40 days ago, more than backups.drill.max_age_days = 35" in line


def test_a_failed_drill_lists_its_failures():
    bad = {**GOOD, "passed": False, "failures": ["count(*) projects: -12 rows", "orphan row(s) in public.jobs"]}
    [line] = alarms(rules.drill_record("rds", bad, 1, D))
    assert "into test-restore-202612 FAILED: count(*) projects: -12 rows; orphan row(s)" in line
    assert "backups.drill.count_tolerance_pct" in line


# ---- drill instances left behind -------------------------------------------------------------------------------------
def test_no_drill_instance_is_one_ok():
    assert [f.status for f in rules.drill_instances_left([], D)] == ["ok"]


def test_each_leftover_is_named_with_how_it_was_found():
    tagged = inst("test-restore-202611", created=NOW - dt.timedelta(hours=480), tags={D.tag_key: D.tag_value})
    by_name = inst("test-restore-202610", created=NOW - dt.timedelta(hours=5))
    lines = alarms(rules.drill_instances_left([tagged, by_name], D))
    assert "test-restore-202611: restore drill instance left behind (available, 480 h old, tag opsproof:purpose)" \
        in lines[0]
    assert "name test-restore-*" in lines[1] and "restore-drill --apply deletes them" in lines[1]


# ---- logical dump ----------------------------------------------------------------------------------------------------
TOC = DumpToc("/backups/a.dump", 10, NOW, "app", [f"public.{v.table}" for v in D.validations], 40)


def dump(**kw) -> DumpRead:
    return DumpRead(**{"path": "/backups/a.dump", "size_bytes": 10, "age_h": 3.0, "toc": TOC, "read_s": 1.2, **kw})


def test_a_fresh_complete_readable_dump_is_ok():
    assert [f.status for f in rules.logical_dump("/backups/*.dump", dump(), LG, D)] == ["ok"]


@pytest.mark.parametrize("read, expected", [
    (None, "/backups/*.dump: no dump matches it (backups.logical.dump)"),
    (dump(age_h=30.0), "the newest dump is 30.0 h old, more than backups.logical.max_age_h = 26"),
    (dump(toc=None, read_s=None, error="/backups/a.dump: pg_restore: error: could not read input file"),
     "the dump is not readable: /backups/a.dump: pg_restore: error"),
    (dump(toc=DumpToc("/backups/a.dump", 10, NOW, "app", ["public.users"], 3)), "holds no data for public."),
], ids=["no dump", "too old", "unreadable", "tables missing"])
def test_each_way_a_logical_dump_fails(read, expected):
    [line] = alarms(rules.logical_dump("/backups/*.dump", read, LG, D))
    assert expected in line, line


def test_a_drill_recorded_before_findings_reads_as_finding_rows(tmp_path):
    from opsproof.probes.backups import read_record

    old = {"name": "count(*) users", "source": 5000, "restored": 4000, "ok": False, "detail": "-1000 rows"}
    (tmp_path / "r.json").write_text(json.dumps({**GOOD, "validations": [old]}))
    [row] = read_record(tmp_path / "r.json")["validations"]
    assert row["status"] == "alarm" and row["subject"] == "count(*) users" and row["limit"] == 5000
