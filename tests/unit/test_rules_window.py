"""The window rules on hand-built facts: the status page's maintenance, the plan (change requests, time budget,
rollbacks), the access probes, the baseline's completeness and its comparison. No sandbox, no status page."""

import datetime as dt
from pathlib import Path

import pytest

from opsproof import findings, plan
from opsproof.baseline import Metric, Snapshot
from opsproof.config.window import Baseline
from opsproof.probes.readiness import Access
from opsproof.probes.statuspage import Maintenance
from opsproof.rules import window as rules
from opsproof.schedule import MaintenanceWindow

UTC = dt.timezone.utc
START = dt.datetime(2026, 12, 13, 2, tzinfo=UTC)
W = MaintenanceWindow(START, START + dt.timedelta(hours=4))
WEEK = dt.timedelta(days=7)


def maintenance(created=START - WEEK, start=START, end=START + dt.timedelta(hours=4), status="scheduled"):
    return Maintenance("m-1", "Scheduled maintenance", status, created, start, end, W.id)


def a_plan(steps=None, crs=None, **window) -> plan.Plan:
    steps = steps if steps is not None else [plan.Step(action="vacuum-analyze", estimate="35m"),
                                             plan.Step(action="soak", estimate="1h")]
    crs = crs if crs is not None else [plan.ChangeRequest(id="CR-1", approved_by="cab")]
    return plan.Plan(window=plan.PlanWindow(date="next", **window), change_requests=crs, steps=steps,
                     path=Path("plans/window.toml"))


def alarms(found) -> list[str]:
    return [f.line() for f in findings.failing(found)]


# ---- announcement ----------------------------------------------------------------------------------------------------
def test_an_announcement_a_week_ahead_covering_the_window_is_ok():
    [f] = rules.announcement(W, maintenance(), 3, WEEK)
    assert f.status == "ok" and f.key == "window.schedule.notice"


@pytest.mark.parametrize("m, expected", [
    (None, "the status page announces no maintenance for the window 2026-12-13"),
    (maintenance(end=START + dt.timedelta(hours=2)), "which does not cover the window"),
    (maintenance(created=START - dt.timedelta(days=2)), "only 2d before the window: less than 7d "
                                                        "(window.schedule.notice)"),
], ids=["not announced", "does not cover", "short notice"])
def test_each_way_the_announcement_fails(m, expected):
    [line] = alarms(rules.announcement(W, m, 3, WEEK))
    assert expected in line, line


def test_notice_of_exactly_the_period_is_enough():
    assert alarms(rules.announcement(W, maintenance(created=START - WEEK), 1, WEEK)) == []


# ---- change requests, time budget ------------------------------------------------------------------------------------
def test_approved_change_requests_and_steps_are_ok():
    assert alarms(rules.change_requests(a_plan(), W.id)) == []


@pytest.mark.parametrize("p, expected", [
    (a_plan(crs=[]), "window.toml: lists no change request for the window 2026-12-13"),
    (a_plan(crs=[plan.ChangeRequest(id="CR-9")]), "window.toml: change request(s) not approved: CR-9"),
    (a_plan(steps=[]), "window.toml: lists no step"),
], ids=["none listed", "not approved", "no steps"])
def test_each_way_the_change_requests_fail(p, expected):
    [line] = alarms(rules.change_requests(p, W.id))
    assert expected in line, line


def test_a_plan_that_fills_the_window_to_the_reserve_fits_and_one_minute_more_does_not():
    fits = a_plan(steps=[plan.Step(action="soak", estimate="3h30m")])
    assert alarms(rules.plan_fits(fits, W, dt.timedelta(minutes=30))) == []
    [line] = alarms(rules.plan_fits(a_plan(steps=[plan.Step(action="soak", estimate="3h31m")]), W,
                                    dt.timedelta(minutes=30)))
    assert "the steps need 3h31m but the window 2026-12-13 has 3h30m" in line and "soak 3h31m" in line
    assert "(window.reserve)" in line


def test_the_plans_own_duration_sets_the_budget():
    p = a_plan(steps=[plan.Step(action="soak", estimate="1h")], duration="1h")
    assert "the steps need 1h" in alarms(rules.plan_fits(p, W, dt.timedelta(minutes=30)))[0]


# ---- rollbacks, access -----------------------------------------------------------------------------------------------
def rollbacks(p, files=("docs/window.md",)):
    return rules.rollbacks(p, {"vacuum-analyze", "db-parameters"}, lambda path: path in files)


def test_rollbacks_that_are_actions_urls_or_files_are_ok():
    steps = [plan.Step(action="vacuum-analyze", estimate="5m", rollback="db-parameters"),
             plan.Step(action="soak", estimate="5m", rollback="https://wiki/rollback"),
             plan.Step(action="soak", estimate="5m")]
    found = rollbacks(a_plan(steps=steps, rollback="docs/window.md#rollback"))
    assert alarms(found) == [] and [f.reason.split("(")[-1] for f in found] == ["action)", "URL)", "procedure)"]


def test_a_missing_rollback_and_a_missing_file_are_alarms():
    steps = [plan.Step(action="vacuum-analyze", estimate="5m", rollback="docs/nope.md"),
             plan.Step(action="soak", estimate="5m")]
    assert alarms(rollbacks(a_plan(steps=steps))) == [
        "window.toml: step 1 (vacuum-analyze): rollback docs/nope.md is neither an action nor an existing file",
        "window.toml: step 2 (soak): names no rollback; fix: set rollback on the step or the plan's [window]"]


def test_a_plan_without_steps_has_no_rollback_to_judge():
    assert alarms(rollbacks(a_plan(steps=[]))) == ["window.toml: lists no step"]


def test_each_failed_access_is_named():
    found = rules.access([Access("AWS identity", True, "arn:aws:iam::1:user/x"),
                          Access("database login as opsproof_action (action role)", False,
                                 'role "opsproof_action" is not permitted to log in')])
    assert alarms(found) == ['database login as opsproof_action (action role): access not verified: role '
                             '"opsproof_action" is not permitted to log in']


# ---- status page at T-1 h, baseline completeness ---------------------------------------------------------------------
@pytest.mark.parametrize("status, fails", [("scheduled", False), ("in_progress", False), ("completed", True)])
def test_the_maintenance_must_be_active(status, fails):
    assert bool(alarms(rules.status_page_active(W, maintenance(status=status)))) == fails


def test_no_maintenance_at_t_minus_one_hour_is_an_alarm():
    assert "the status page shows no maintenance" in alarms(rules.status_page_active(W, None))[0]


def test_every_unmeasured_baseline_metric_is_named():
    found = rules.baseline_complete([Metric("api.p95_ms", "API p95", 12.0, "ms"),
                                     Metric("rows.users", "Rows in users", error="OperationalError: connection refused")])
    assert alarms(found) == ["rows.users: baseline incomplete: rows.users: OperationalError: connection refused"]


# ---- the comparison --------------------------------------------------------------------------------------------------
def snap(*metrics) -> Snapshot:
    return Snapshot("2026-12-13T01:00:00+00:00", "test", W.id, list(metrics))


def test_a_regression_names_the_metric_and_the_tolerance_key():
    before, after = snap(Metric("api.p95_ms", "API p95 response time", 10.0, "ms", "latency")), \
        snap(Metric("api.p95_ms", "API p95 response time", 300.0, "ms", "latency"))
    [line] = alarms(rules.baseline(before, after, Baseline()))
    assert line.startswith("API p95 response time (api.p95_ms): regression against the baseline: 300.0 ms > 60.0 ms")
    assert line.endswith("(window.baseline.api_p95_tolerance_pct)")


def test_expected_changes_are_waived_and_unmeasured_baselines_skipped():
    before = snap(Metric("rows.jobs", "Rows in jobs", 120_000, "rows", "rows"),
                  Metric("db.cpu_pct", "Database CPU", None, "%", "cpu", error="down"))
    after = snap(Metric("rows.jobs", "Rows in jobs", 90_000, "rows", "rows"),
                 Metric("db.cpu_pct", "Database CPU", 20.0, "%", "cpu"))
    found = rules.baseline(before, after, Baseline(), ["rows.*"])
    assert [f.status for f in found] == ["waived", "skip"] and alarms(found) == []
    assert alarms(rules.baseline(before, after, Baseline())) == [
        "Rows in jobs (rows.jobs): regression against the baseline: 30,000 rows lost (25.0%) > 1% "
        "(window.baseline.rows_drop_tolerance_pct)"]
