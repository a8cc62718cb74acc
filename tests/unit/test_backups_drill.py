"""The restore drill's cleanup, proven on the sandbox's real restores: whatever happens after the restore (a failure,
Ctrl-C in-process, SIGINT to `python -m actions restore-drill --apply`), no drill instance and no restored database
is left behind, and the record says what happened."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import actions
from actions import StepFailed
from actions import restore_drill as drill_module
from opsproof import ROOT
from opsproof.probes import backups as probe


@pytest.fixture
def env(sandbox, tmp_path):
    """The sandbox's environment with the drill records in a temporary folder (the sandbox's stay as they are)."""
    e = sandbox.env
    d = e.backups.drill.model_copy(update={"record": tmp_path / "rds.json", "logical_record": tmp_path / "log.json"})
    return e.model_copy(update={"backups": e.backups.model_copy(update={"drill": d})})


def _left_behind(sandbox) -> tuple[list[str], list[str]]:
    d = sandbox.env.backups.drill
    instances = [i.id for i in probe.drill_instances(sandbox.client("rds"), d.instance_prefix, d.tag_key,
                                                       d.tag_value)]
    with sandbox.admin("postgres") as c:
        dbs = [r[0] for r in c.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rds\\_test\\_restore%' "
                                       "OR datname LIKE 'opsproof\\_scratch\\_%'")]
    return instances, dbs


def test_drill_passes_and_records_on_the_healthy_sandbox(env, sandbox):
    report = actions.run("restore-drill", env, apply=True, drill_instance="test-restore-unit")
    assert report.ok, report.as_text()
    record = json.loads(env.backups.drill.record.read_text())
    assert record["passed"] and record["cleanup"] == {"deleted": True}
    assert {v["subject"] for v in record["validations"]} == {"count(*) users", "count(*) projects",
                                                          "max(created_at) jobs"}
    assert record["amcheck"]["status"] == "ok" and record["amcheck"]["checked"] > 0
    assert record["foreign_keys_checked"] == 4 and record["orphans"] == []
    assert record["restore_duration_s"] < record["rto_s"]
    history = env.backups.drill.record.with_name("rds.json.history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["drill_instance"] == "test-restore-unit"
    assert _left_behind(sandbox) == ([], [])


def test_a_failure_after_the_restore_leaves_nothing_behind(env, sandbox, monkeypatch):
    seen = {}

    def fail(ctx, record, src, restored, as_of, d):
        seen["restored"] = restored.info.dbname  # the restored copy was really there
        raise RuntimeError("injected failure after the restore")

    monkeypatch.setattr(drill_module, "_validate", fail)
    with pytest.raises(StepFailed, match="injected failure after the restore"):
        actions.run("restore-drill", env, apply=True, drill_instance="test-restore-unit")
    assert seen["restored"] == "rds_test_restore_unit"
    assert _left_behind(sandbox) == ([], [])
    record = json.loads(env.backups.drill.record.read_text())
    assert not record["passed"] and record["cleanup"] == {"deleted": True}
    assert "injected failure" in record["failures"][0]


def test_ctrl_c_during_validation_still_deletes_the_instance(env, sandbox, monkeypatch):
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(drill_module, "_validate", interrupt)
    with pytest.raises(KeyboardInterrupt):
        actions.run("restore-drill", env, apply=True, drill_instance="test-restore-unit")
    assert _left_behind(sandbox) == ([], [])
    record = json.loads(env.backups.drill.record.read_text())
    assert record["failures"][0] == "drill did not complete: interrupted" and record["cleanup"]["deleted"]


def test_sigint_to_the_command_line_drill_while_it_waits(sandbox):
    """A person presses Ctrl-C while `python -m actions restore-drill --apply` waits for the restore."""
    from sandbox.aws import admin

    record = probe.record_path(sandbox.env, "rds")
    kept = record.with_suffix(".unit-kept")
    if record.exists():
        shutil.copyfile(record, kept)
    admin.post(sandbox.endpoint_url, "rds/restore-tamper", {"sql": ["SELECT pg_sleep(20)"]})  # a slow restore
    proc = subprocess.Popen([sys.executable, "-m", "actions", "restore-drill", "--env", os.environ.get(
        "OPSPROOF_ENV") or "sandbox", "--apply", "--drill-instance", "test-restore-sigint"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rds = sandbox.client("rds")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [i for i in rds.describe_db_instances()["DBInstances"]
                     if i["DBInstanceIdentifier"] == "test-restore-sigint"]
            if found and found[0]["DBInstanceStatus"] == "creating":
                break
            time.sleep(0.1)
        else:
            pytest.fail("the drill instance never showed up as creating")
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        admin.post(sandbox.endpoint_url, "rds/restore-tamper", {"sql": []})
        if proc.poll() is None:
            proc.kill()
        got = json.loads(record.read_text()) if record.exists() else {}
        if kept.exists():
            shutil.move(kept, record)
    assert proc.returncode != 0
    assert got.get("failures", [""])[0] == "drill did not complete: interrupted", got
    assert got["cleanup"] == {"deleted": True}
    assert _left_behind(sandbox) == ([], [])


def test_logical_drill_drops_its_scratch_database_on_failure(env, sandbox, monkeypatch):
    def fail(*args):
        raise RuntimeError("injected failure after pg_restore")

    monkeypatch.setattr(drill_module, "_validate", fail)
    with pytest.raises(StepFailed, match="injected failure after pg_restore"):
        actions.run("logical-restore-drill", env, apply=True)
    assert _left_behind(sandbox) == ([], [])
    record = json.loads(env.backups.drill.logical_record.read_text())
    assert record["cleanup"] == {"deleted": True} and not record["passed"]


def test_logical_drill_restores_with_parallel_jobs(env, sandbox):
    report = actions.run("logical-restore-drill", env, apply=True)
    assert report.ok, report.as_text()
    assert any("pg_restore --jobs 2" in s.description and s.status == "done" for s in report.steps)
    record = json.loads(env.backups.drill.logical_record.read_text())
    assert record["passed"], record["failures"]
    assert _left_behind(sandbox) == ([], [])


def test_a_dead_aws_endpoint_is_one_line(env, sandbox):
    dead = env.model_copy(update={"aws": env.aws.model_copy(update={"endpoint_url": "http://127.0.0.1:9"})})
    r = subprocess.run([sys.executable, "-c", "import sys, actions.__main__ as m; sys.exit(m.main(sys.argv[1:]))",
                        "restore-drill"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "OPSPROOF_ENV": _write_env(dead, sandbox)})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "refused or could not be reached" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _write_env(env, sandbox) -> str:
    """A copy of the sandbox's environment file with the AWS endpoint moved (for subprocesses)."""
    import re

    from opsproof import config

    src = config.ENV_DIR / "sandbox.toml" if not os.environ.get("OPSPROOF_ENV") else os.environ["OPSPROOF_ENV"]
    text = open(src).read()
    text = re.sub(r'endpoint_url = "http://127\.0\.0\.1:\d+"', f'endpoint_url = "{env.aws.endpoint_url}"', text)
    path = sandbox.dir / "unit-dead-aws.toml"
    path.write_text(text.replace('state_dir = ".sandbox"', f'state_dir = "{sandbox.dir}"'))
    return str(path)
