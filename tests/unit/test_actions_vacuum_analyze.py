"""vacuum-analyze and analyze against the sandbox: the plan changes nothing; --apply vacuums/analyzes each table,
keeps VACUUM VERBOSE's output as evidence, records the window, and repairs what the checks flag."""

import pytest

import actions
from opsproof import findings
from opsproof.config.database import Statistics, Vacuum
from opsproof.errors import OpsproofError
from opsproof.postgres import tables, window
from opsproof.rules import database as rules


def table(sb, name: str) -> tables.Table:
    with sb.admin() as c:
        return next(t for t in tables.tables(c) if t.name == name)


@pytest.fixture
def fault(sandbox):
    from sandbox import faults, lifecycle

    applied = []

    def apply(name):
        with lifecycle.lock(sandbox):
            faults.apply(sandbox, name)
        applied.append(name)

    yield apply
    with lifecycle.lock(sandbox):
        for name in applied:
            faults.heal(sandbox, name)


def test_plan_changes_nothing(sandbox):
    record = sandbox.env.path(sandbox.env.database.window.record)
    before, saved = table(sandbox, "public.users"), record.read_text() if record.exists() else None
    report = actions.run("vacuum-analyze", sandbox.env)
    assert report.ok and report.steps and all(s.status == "planned" for s in report.steps)
    assert {s.description.rsplit(" (", 1)[0] for s in report.steps} >= {
        "VACUUM (ANALYZE, VERBOSE) public.jobs", "VACUUM (ANALYZE, VERBOSE) public.users"}
    assert table(sandbox, "public.users").last_vacuum == before.last_vacuum
    assert (record.read_text() if record.exists() else None) == saved


def test_vacuum_analyze_repairs_a_never_vacuumed_table_and_records_the_window(sandbox, fault):
    fault("never-vacuumed-table")
    assert table(sandbox, "public.assets").vacuumed_at is None
    report = actions.run("vacuum-analyze", sandbox.env, apply=True, tables=["assets"])
    assert report.ok, report.as_text()
    t = table(sandbox, "public.assets")
    rec = window.read_record(sandbox.env.path(sandbox.env.database.window.record))
    assert t.last_vacuum and t.last_analyze and t.last_vacuum >= rec.started_at
    assert "public.assets" in rec.vacuumed and rec.finished_at is not None
    verbose = [i.payload for i in report.evidence.items if i.title == "VACUUM (ANALYZE, VERBOSE) public.assets"]
    assert verbose and 'vacuuming "aifilmstudio.public.assets"' in verbose[0]
    assert report.steps[0].output.startswith("tuples:")
    with sandbox.admin() as c:
        rows = tables.tables(c)
    assert not findings.failing(rules.vacuum(rows, Vacuum()) + rules.statistics(rows, Statistics()))


def test_analyze_repairs_stale_statistics(sandbox, fault):
    fault("stale-statistics")
    assert table(sandbox, "public.projects").mods_since_analyze == 3000
    report = actions.run("analyze", sandbox.env, apply=True, tables=["public.projects"])
    assert report.ok, report.as_text()
    assert table(sandbox, "public.projects").mods_since_analyze == 0
    assert "scanned" in report.steps[0].output


def test_unknown_table_is_one_clear_error(sandbox):
    with pytest.raises(OpsproofError, match="no such table.*nosuchtable"):
        actions.run("analyze", sandbox.env, tables=["nosuchtable"])


def test_window_record_merges_runs_of_one_window(tmp_path):
    import datetime as dt

    t0 = dt.datetime(2026, 1, 4, 2, 0, tzinfo=dt.timezone.utc)
    a = window.Record("vacuum-analyze", t0, ["public.a"], ["public.a"])
    b = window.Record("analyze", t0 + dt.timedelta(hours=1), [], ["public.b"])
    merged = window.merge(a, b)
    assert merged.started_at == t0 and merged.vacuumed == ["public.a"] and merged.analyzed == ["public.a", "public.b"]
    assert merged.action == "vacuum-analyze + analyze"
    later = window.Record("analyze", t0 + dt.timedelta(days=7), [], ["public.b"])
    assert window.merge(a, later) is later
    window.write_record(tmp_path / "w.json", merged)
    assert window.read_record(tmp_path / "w.json") == merged
    assert window.read_record(tmp_path / "none.json") is None
