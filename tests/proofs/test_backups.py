"""Proofs of the backups checks: each passes on the healthy sandbox and fails under its fault, naming the snapshot,
instance or dump. The drill checks read what `python -m actions restore-drill --apply` recorded, so their proofs
run the real drill (a real restore into the sandbox's PostgreSQL) under the fault first."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from opsproof import ROOT

ENV = os.environ.get("OPSPROOF_ENV") or "sandbox"
SNAPSHOTS = "checks/backups/test_snapshots.py"
DRILL = "checks/backups/test_restore_drill.py"
LOGICAL = "checks/backups/test_logical_dump.py"


def action(*args: str, apply: bool = True) -> subprocess.CompletedProcess:
    """python -m actions ... on the proofs' sandbox (a subprocess, as a person would run it)."""
    argv = [sys.executable, "-m", "actions", *args, "--env", ENV] + (["--apply"] if apply else [])
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _secrets(sandbox) -> list[str]:
    return [p.read_text().strip() for p in sandbox.secrets_dir.iterdir() if p.is_file()]


def _no_secret_in(run, sandbox) -> None:
    texts = [run.output] + [(run.out / f).read_text() for f in ("junit.xml", "report.html", "evidence.json")
                            if (run.out / f).exists()]
    for secret in _secrets(sandbox):
        assert all(secret not in t for t in texts), "a sandbox secret leaked into a report"


# ---- snapshots -------------------------------------------------------------------------------------------------------
def test_latest_automated_snapshot_is_recent(healthy, broken):
    healthy.assert_passed("test_latest_automated_snapshot_is_recent")
    newest = [row for e in healthy.evidence("test_latest_automated_snapshot_is_recent") if e["kind"] == "table"
              for row in e["payload"]][0]
    assert newest["age_h"] < 24
    run = broken("stale-snapshot", SNAPSHOTS)
    run.assert_failed("test_latest_automated_snapshot_is_recent", "prod-db", newest["snapshot"], "30.0 h old",
                      "backups.latest_snapshot_max_age_h")


def test_backup_retention_is_enough(healthy, broken):
    healthy.assert_passed("test_backup_retention_is_enough")
    run = broken("short-backup-retention", SNAPSHOTS)
    run.assert_failed("test_backup_retention_is_enough", "prod-db keeps automated backups 1 day(s)",
                      "backups.min_retention_days = 7")


def test_snapshots_are_encrypted(healthy, broken):
    healthy.assert_passed("test_snapshots_are_encrypted")
    run = broken("unencrypted-snapshot", SNAPSHOTS)
    run.assert_failed("test_snapshots_are_encrypted", "prod-db-export-unencrypted", "backups.require_encryption")


def test_pre_window_snapshot_exists(healthy, broken):
    healthy.assert_passed("test_pre_window_snapshot_exists")
    run = broken("no-pre-window-snapshot", SNAPSHOTS)
    run.assert_failed("test_pre_window_snapshot_exists", "prod-db: no available manual snapshot in the last 24 h",
                      "prod-db-pre-maintenance-", "backups.pre_window_snapshot_max_age_h")


def test_snapshot_action_makes_the_pre_window_snapshot(broken, run_checks, sandbox):
    """The fix the check names works: `actions snapshot --apply` creates the manual snapshot (and its data)."""
    broken("no-pre-window-snapshot", SNAPSHOTS).assert_failed("test_pre_window_snapshot_exists")
    plan = action("snapshot", apply=False)
    assert plan.returncode == 0 and "create manual snapshot prod-db-pre-maintenance-" in plan.stdout
    done = action("snapshot")
    assert done.returncode == 0, done.stdout + done.stderr
    run_checks(SNAPSHOTS).assert_passed("test_pre_window_snapshot_exists")
    name = done.stdout.split("create manual snapshot ", 1)[1].split()[0]
    sandbox.client("rds").delete_db_snapshot(DBSnapshotIdentifier=name)


# ---- the restore drill -----------------------------------------------------------------------------------------------
def test_restore_drill_passed_this_month(healthy, broken, run_checks, sandbox):
    healthy.assert_passed("test_restore_drill_passed_this_month")
    ev = {e["title"]: e["payload"] for e in healthy.evidence("test_restore_drill_passed_this_month")}
    assert any(row["subject"] == "count(*) users" and row["status"] == "ok" for row in
               ev["validation queries (document results: runbook)"])
    run = broken("restore-validation-mismatch", DRILL)
    run.assert_passed("test_restore_drill_passed_this_month")  # the record is last month's good drill ...
    drill = action("restore-drill")  # ... until this month's drill restores a copy that disagrees
    assert drill.returncode == 1, drill.stdout + drill.stderr
    assert "verdict: the restored copy does not match its source" in drill.stdout
    assert "delete the drill instance test-restore-" in drill.stdout and "[done] delete" in drill.stdout
    run = run_checks(DRILL)
    msg = run.assert_failed("test_restore_drill_passed_this_month", "rds restore drill of rds:prod-db-",
                            "test-restore-", "count(*) projects", "max(created_at) jobs",
                            "orphan row(s) in public.jobs(project_id)", "backups.drill.count_tolerance_pct")
    assert "min behind the source (RPO 60 min)" in msg
    run.assert_passed("test_no_drill_instance_left_behind")  # the failed drill deleted its instance
    _no_secret_in(run, sandbox)


def test_restore_drill_waits_for_rds_restore_states(broken, run_checks, sandbox):
    """A restore passes through creating, modifying and backing-up before available: the drill waits (bounded) and
    passes, and the check shows the states."""
    broken("restore-slow-states", DRILL)
    drill = action("restore-drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "available after creating → modifying → backing-up → available" in drill.stdout, drill.stdout
    run = run_checks(DRILL)
    run.assert_passed("test_restore_drill_passed_this_month")
    states = [e["payload"][0] for e in run.evidence("test_restore_drill_passed_this_month")
              if e["title"] == "states while restoring"]  # [rds] and [logical] (which has none)
    assert "creating → modifying → backing-up → available" in states, states


def test_restore_drill_stuck_restore_fails_bounded(broken, run_checks, sandbox):
    """A restore that never leaves backing-up: the drill gives up at backups.drill.wait_timeout_min naming the
    instance and its state, deletes it, and the check fails on the record."""
    import time

    import actions
    from actions import StepFailed

    broken("restore-stuck", DRILL)
    e = sandbox.env
    d = e.backups.drill.model_copy(update={"wait_timeout_min": 0.1})
    env = e.model_copy(update={"backups": e.backups.model_copy(update={"drill": d})})
    t0 = time.monotonic()
    with pytest.raises(StepFailed, match=r"test-restore-\d{6} did not become available within 0.1 min .*still "
                                         r"'backing-up' after creating → (modifying → )?backing-up"):  # a phase may fall between polls
        actions.run("restore-drill", env, apply=True)
    assert time.monotonic() - t0 < 30
    run = run_checks(DRILL)
    run.assert_failed("test_restore_drill_passed_this_month", "rds restore drill", "test-restore-",
                      "did not become available within 0.1 min", "backing-up")
    run.assert_passed("test_no_drill_instance_left_behind")  # deleted even so


def test_logical_restore_drill_fails_on_a_corrupt_dump(broken, run_checks):
    """test_restore_drill_passed_this_month[logical]: the logical drill of a truncated dump fails and says why."""
    broken("corrupt-dump", DRILL).assert_passed("test_restore_drill_passed_this_month")
    drill = action("logical-restore-drill")
    assert drill.returncode == 1
    assert "pg_restore" in drill.stderr and "Traceback" not in drill.stderr, drill.stderr
    run = run_checks(DRILL)
    run.assert_failed("test_restore_drill_passed_this_month", "logical restore drill of aifilmstudio-",
                      "pg_restore")


def test_no_drill_instance_left_behind(healthy, broken, run_checks, sandbox):
    healthy.assert_passed("test_no_drill_instance_left_behind")
    last_month = dt.datetime.now(dt.timezone.utc).replace(day=1) - dt.timedelta(days=1)
    orphan = f"test-restore-{last_month:%Y%m}"
    run = broken("orphaned-drill-instance", DRILL)
    run.assert_failed("test_no_drill_instance_left_behind", orphan, "480 h old", "tag opsproof:purpose",
                      "python -m actions restore-drill --apply deletes them")
    plan = action("restore-drill", apply=False)  # found by tag and reported in the plan ...
    assert f"[planned] delete leftover drill instance {orphan}" in plan.stdout, plan.stdout
    drill = action("restore-drill")  # ... and removed with --apply (then this month's drill runs)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    record = json.loads((sandbox.dir / "backups" / "restore-drill.json").read_text()) \
        if (sandbox.dir / "backups" / "restore-drill.json").exists() else {}
    assert orphan in record.get("leftovers_removed", [orphan])
    run_checks(DRILL).assert_passed("test_no_drill_instance_left_behind")
    with sandbox.admin("postgres") as c:
        assert not c.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rds\\_test\\_restore%'").fetchall()


# ---- logical dumps ---------------------------------------------------------------------------------------------------
def test_logical_dump_is_readable(healthy, broken):
    healthy.assert_passed("test_logical_dump_is_readable")
    run = broken("corrupt-dump", LOGICAL)
    msg = run.assert_failed("test_logical_dump_is_readable", "the dump is not readable", "aifilmstudio-",
                            ".dump", "pg_restore")
    assert "Traceback" not in msg


@pytest.mark.slow
def test_restore_drill_plan_changes_nothing(sandbox):
    """Without --apply the drill only prints its plan: no instance is created."""
    def instances():
        return sorted(i["DBInstanceIdentifier"] for i in sandbox.client("rds").describe_db_instances()["DBInstances"])

    before = instances()
    plan = action("restore-drill", apply=False)
    assert plan.returncode == 0 and "plan only" in plan.stdout
    assert "[planned] restore rds:prod-db-" in plan.stdout and "[planned] ALWAYS delete test-restore-" in plan.stdout
    assert instances() == before
