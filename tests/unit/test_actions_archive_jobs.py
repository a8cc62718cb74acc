"""archive-jobs against the sandbox (PostgreSQL + S3): killed with SIGKILL at several points and run again, no row
is lost and none is archived twice: rows in the table + rows in the archive == the original rows, exactly.

The kill is real: the action runs in a subprocess (`python -m actions archive-jobs --apply`) in which one of its
functions is wrapped to SIGKILL the process before or after its n-th call, so no `finally` runs and an open batch
transaction dies with its connection.
"""

import gzip
import json
import signal
import subprocess
import sys

import pytest

from opsproof import ROOT

KILLER = """
import os, signal, sys
import actions.archive_jobs as m
from actions.__main__ import main

for spec in sys.argv[1:]:
    name, nth, when = spec.split(":")
    original, count = getattr(m, name), [0]

    def wrapped(*a, _o=original, _c=count, _n=int(nth), _w=when, **k):
        _c[0] += 1
        if _c[0] == _n and _w == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = _o(*a, **k)
        if _c[0] == _n and _w == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(m, name, wrapped)
sys.exit(main(["archive-jobs", "--apply", "--batch-size", "1000"]))
"""

KILL_POINTS = {  # where: (function:nth call:before|after, due rows left in the table when killed there)
    # object uploaded, its manifest not yet: the next run must throw the orphan away and export again
    "mid-export": ("_put_manifest:1:before", 2500),
    # exported and verified, nothing deleted
    "between export and delete": ("_delete_batch:1:before", 2500),
    # two batches committed, the third's DELETE executed but not committed: it rolls back with the connection
    "mid-batch": ("_delete_rows:3:after", 500),
    # every row deleted, the run not yet marked done
    "after delete, before done": ("_mark_deleted:1:before", 0),
}


def run_action(*kill: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLER, *kill], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def old_jobs(sandbox):
    """The unarchived-jobs fault applied; yields the jobs table as it was (id → row JSON) and the archive's runs
    before; healed afterwards."""
    from sandbox import faults, lifecycle

    with lifecycle.lock(sandbox):
        faults.apply(sandbox, "unarchived-jobs")
    before = {k for k in _keys(sandbox)}
    with sandbox.admin() as c:
        rows = dict(c.execute("SELECT id, row_to_json(j)::text FROM jobs j").fetchall())
        due = {r[0] for r in c.execute("SELECT id FROM jobs WHERE status = 'completed' "
                                       "AND created_at < now() - interval '90 days'")}
    yield rows, due, before
    with lifecycle.lock(sandbox):
        faults.heal(sandbox, "unarchived-jobs")


def _keys(sb) -> list[str]:
    a = sb.env.database.archive
    s3 = sb.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=a.bucket, Prefix=a.prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def archived(sb, before: set[str]) -> tuple[dict, dict]:
    """Rows in the runs made since `before` that have a manifest (id → JSON, and id → count of copies), and the
    state of each of those runs."""
    a = sb.env.database.archive
    s3 = sb.client("s3")
    keys = [k for k in _keys(sb) if k not in before]
    runs = {}
    for k in keys:
        run, name = k[len(a.prefix):].split("/", 1)
        runs.setdefault(run, set()).add(name)
    rows, copies = {}, {}
    for run, names in runs.items():
        if "manifest.json" not in names:
            continue
        manifest = json.loads(s3.get_object(Bucket=a.bucket, Key=f"{a.prefix}{run}/manifest.json")["Body"].read())
        body = s3.get_object(Bucket=a.bucket, Key=manifest["object"]["key"])["Body"].read()
        for line in gzip.decompress(body).splitlines():
            doc = json.loads(line)
            rows[doc["id"]] = line.decode()
            copies[doc["id"]] = copies.get(doc["id"], 0) + 1
    return rows, copies, runs


def table_ids(sb) -> set[int]:
    with sb.admin() as c:
        return {r[0] for r in c.execute("SELECT id FROM jobs")}


@pytest.mark.parametrize("kills", [[k] for k in KILL_POINTS] + [["mid-batch", "after delete, before done"]],
                         ids=lambda ks: "+".join(ks))
def test_killed_and_rerun_loses_nothing_and_archives_nothing_twice(sandbox, old_jobs, kills):
    original, due, before = old_jobs
    assert len(due) == 2500
    for kill in kills:
        where, left = KILL_POINTS[kill]
        p = run_action(where)
        assert p.returncode == -signal.SIGKILL, f"not killed at {kill}: {p.returncode}\n{p.stdout}\n{p.stderr}"
        if kill == kills[0]:
            assert len(due & table_ids(sandbox)) == left, f"killed at {kill}: the batches did not commit as expected"
        # Killed anywhere, no row is lost: each is in the table or in a manifest-backed archive object.
        rows, _, _ = archived(sandbox, before)
        assert set(original) <= table_ids(sandbox) | set(rows), f"rows lost after a kill {kill}"
    p = run_action()
    assert p.returncode == 0, p.stdout + p.stderr
    rows, copies, runs = archived(sandbox, before)
    in_table = table_ids(sandbox)
    assert in_table | set(rows) == set(original), "table + archive is not the original set"
    assert not in_table & set(rows), "rows both in the table and in the archive"
    assert set(rows) == due, "the archive holds other rows than the completed jobs past retention"
    assert all(n == 1 for n in copies.values()), "rows archived twice"
    assert all(rows[i] == original[i] for i in rows), "an archived row differs from the table's"
    assert all({"manifest.json", "deleted.json"} <= names for names in runs.values()), f"unfinished runs: {runs}"
    assert "delete" in p.stdout and "VACUUM (ANALYZE, VERBOSE) jobs" in p.stdout


def test_plan_without_apply_changes_nothing(sandbox, old_jobs):
    original, due, before = old_jobs
    p = subprocess.run([sys.executable, "-m", "actions", "archive-jobs"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "plan only" in p.stdout and "[planned] freeze and export 2500 row(s)" in p.stdout
    assert "3 batch(es) of 1000" in p.stdout
    assert table_ids(sandbox) == set(original) and not [k for k in _keys(sandbox) if k not in before]


def test_a_corrupted_upload_is_never_deleted_against(sandbox, old_jobs):
    """The object in S3 no longer matches its manifest (killed after export; then the object changed): the rerun
    refuses to delete anything."""
    original, due, before = old_jobs
    assert run_action(KILL_POINTS["between export and delete"][0]).returncode == -signal.SIGKILL
    a = sandbox.env.database.archive
    key = next(k for k in _keys(sandbox) if k not in before and k.endswith(".jsonl.gz"))
    sandbox.client("s3").put_object(Bucket=a.bucket, Key=key, Body=gzip.compress(b'{"id": 1}\n'))
    p = run_action()
    assert p.returncode == 1 and "SHA-256 differs from its manifest: not deleting" in p.stdout + p.stderr
    assert table_ids(sandbox) == set(original)
    # leave the archive clean for the next test: the broken run is removed
    s3 = sandbox.client("s3")
    for k in [k for k in _keys(sandbox) if k not in before]:
        s3.delete_object(Bucket=a.bucket, Key=k)
