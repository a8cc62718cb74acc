"""db-parameters against the sandbox's RDS (moto): the review, the parameter group fixed with --apply
(pending-reboot, in RDS's units), and a reboot only inside the window."""

import datetime as dt

import pytest

import actions
from actions.db_parameters import rds_value
from opsproof.postgres import parameters


@pytest.fixture
def drift(sandbox):
    from sandbox import faults, lifecycle

    with lifecycle.lock(sandbox):
        faults.apply(sandbox, "parameter-drift")
    yield sandbox
    with lifecycle.lock(sandbox):
        faults.heal(sandbox, "parameter-drift")


def group(sb) -> dict[str, str]:
    return parameters.group_values(sb.client("rds"), "prod-params", ["work_mem", "random_page_cost"])


def with_window(env, inside: bool):
    """The environment with a schedule whose window is open right now (inside) or three days away."""
    now = dt.datetime.now(dt.timezone.utc)
    start = now - dt.timedelta(hours=1) if inside else now + dt.timedelta(days=3)
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    sched = env.window.schedule.model_copy(update={
        "weekday": days[start.weekday()], "weeks": [1, 2, 3, 4, 5], "start": start.time().replace(microsecond=0),
        "end": (start + dt.timedelta(hours=2)).time().replace(microsecond=0), "timezone": "UTC", "skip": []})
    return env.model_copy(update={"window": env.window.model_copy(update={"schedule": sched})})


def test_rds_units():
    assert rds_value("shared_buffers", "8GB") == "1048576"  # 8kB pages
    assert rds_value("work_mem", "50MB") == "51200"  # kB
    assert rds_value("max_connections", "200") == "200" and rds_value("random_page_cost", "1.1") == "1.1"


def test_plan_shows_the_drift_and_changes_nothing(drift):
    report = actions.run("db-parameters", drift.env)
    text = report.as_text()
    assert "[planned] modify-db-parameter-group prod-params: work_mem 4096 → 51200 (50MB)" in text
    assert "[planned] modify-db-parameter-group prod-params: random_page_cost 4 → 1.1" in text
    assert group(drift) == {"work_mem": "4096", "random_page_cost": "4"}


def test_apply_fixes_the_group_and_leaves_the_reboot_to_the_window(drift):
    report = actions.run("db-parameters", drift.env, apply=True)
    assert report.ok, report.as_text()
    assert group(drift) == {"work_mem": "51200", "random_page_cost": "1.1"}
    assert report.steps[-1].status == "skipped" and "not asked (--reboot)" in report.steps[-1].output


def test_a_reboot_outside_the_window_is_refused(drift):
    env = with_window(drift.env, inside=False)
    report = actions.run("db-parameters", env, apply=True, reboot=True)
    assert not report.ok
    assert report.steps[-1].status == "failed" and "refused" in report.steps[-1].output
    assert report.result["rebooted"] is False


def test_a_reboot_inside_the_window_happens(drift):
    env = with_window(drift.env, inside=True)
    report = actions.run("db-parameters", env, apply=True, reboot=True)
    assert report.ok, report.as_text()
    assert report.steps[-1].description.startswith("reboot-db-instance prod-db (inside the window")
    assert report.steps[-1].status == "done" and report.result["rebooted"] is True
