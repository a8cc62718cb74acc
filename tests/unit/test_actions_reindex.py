"""reindex against the sandbox: a plan changes nothing; --apply rebuilds; a rebuild that really fails on its
lock_timeout is reported with its _ccnew leftover, which is dropped; a leftover of an earlier failure is dropped
before anything is rebuilt; the run never reports success when an index was not rebuilt."""

import threading

import pytest

import actions
from opsproof.postgres import indexes


def filenodes(sb) -> dict[str, int]:
    with sb.admin() as c:
        return dict(c.execute("SELECT relname, relfilenode FROM pg_class WHERE relname IN "
                              "('idx_users_email', 'users_pkey', 'idx_projects_user_id')").fetchall())


def broken(sb):
    with sb.admin() as c:
        return indexes.broken(c)


@pytest.fixture
def healed(sandbox):
    yield sandbox
    from sandbox import faults, lifecycle

    with lifecycle.lock(sandbox):
        faults.heal(sandbox, "invalid-index")


def test_plan_changes_nothing(sandbox):
    before = filenodes(sandbox)
    report = actions.run("reindex", sandbox.env)
    assert report.ok and all(s.status == "planned" for s in report.steps)
    assert "REINDEX INDEX CONCURRENTLY public.idx_users_email on public.users" in report.as_text()
    assert "REINDEX INDEX CONCURRENTLY public.jobs_pkey" in report.as_text()  # every index of the large tables
    assert filenodes(sandbox) == before


def test_apply_rebuilds_each_index(sandbox):
    before = filenodes(sandbox)
    report = actions.run("reindex", sandbox.env, apply=True, indexes=["idx_users_email", "idx_projects_user_id"],
                         tables=["users"])
    assert report.ok, report.as_text()
    after = filenodes(sandbox)
    assert all(after[n] != before[n] for n in before), "an index kept its old file: not rebuilt"
    assert report.result["rebuilt"] == ["public.idx_projects_user_id", "public.idx_users_email", "public.users_pkey"]
    assert not broken(sandbox)


def test_a_rebuild_failing_on_its_lock_timeout_is_reported_and_its_leftover_dropped(healed):
    sb = healed
    writer = sb.admin(autocommit=False)
    writer.execute("LOCK TABLE users IN ROW EXCLUSIVE MODE")  # an application transaction that stays open ...
    threading.Timer(1.0, writer.rollback).start()  # ... for a second
    try:
        report = actions.run("reindex", sb.env, apply=True, indexes=["idx_users_email"], tables=[],
                             lock_timeout_ms=300)
    finally:
        threading.Event().wait(1.2)
        writer.close()
    text = report.as_text()
    assert not report.ok, "a failed rebuild must not report success:\n" + text
    assert "[failed] REINDEX INDEX CONCURRENTLY public.idx_users_email" in text and "lock timeout" in text
    assert "[done] DROP INDEX CONCURRENTLY public.idx_users_email_ccnew (left by the failed rebuild" in text
    assert report.result == {"rebuilt": [], "failed": ["public.idx_users_email"]}
    assert not broken(sb)


def test_a_leftover_of_an_earlier_failure_is_dropped_first(healed):
    from sandbox import faults, lifecycle

    sb = healed
    with lifecycle.lock(sb):
        faults.apply(sb, "invalid-index")
    plan = actions.run("reindex", sb.env, indexes=["idx_users_email"], tables=[])
    assert "[planned] DROP INDEX CONCURRENTLY public.idx_users_email_ccnew (leftover from an earlier failure" \
        in plan.as_text()
    assert [b.name for b in broken(sb)] == ["public.idx_users_email_ccnew"], "the plan changed something"
    report = actions.run("reindex", sb.env, apply=True, indexes=["idx_users_email"], tables=[])
    assert report.ok, report.as_text()
    steps = [s.description for s in report.steps]
    assert steps[0].startswith("DROP INDEX CONCURRENTLY public.idx_users_email_ccnew")
    assert steps[1].startswith("REINDEX INDEX CONCURRENTLY public.idx_users_email")
    assert not broken(sb)
