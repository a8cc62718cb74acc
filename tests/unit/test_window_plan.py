"""Plans: validated on load with one line naming the file and the key; resolved to a window of the schedule; found
by date (else the routine plan); their steps checked against the actions' real parameters."""

import datetime as dt

import pytest

from actions.window import action_kwargs, validate
from opsproof import ROOT, plan as plans
from opsproof.config.window import Schedule, Window
from opsproof.errors import ConfigError
from opsproof.schedule import utc

GOOD = """
[window]
date = 2026-01-11
rollback = "docs/window.md#rollback"

[[change_requests]]
id = "CR-1"
approved_by = "jane"

[[steps]]
action = "soak"
options = { seconds = 1 }
estimate = "5m"
change_request = "CR-1"
"""


def write(tmp_path, text, name="plan.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_good_plan_loads(tmp_path):
    p = plans.load(write(tmp_path, GOOD))
    assert p.window.date == dt.date(2026, 1, 11) and p.steps[0].estimate == dt.timedelta(minutes=5)
    assert p.rollback_of(p.steps[0]) == "docs/window.md#rollback"
    w = p.resolve(Window(), utc(2026, 1, 11, 2, 5))
    assert w.id == "2026-01-11" and w.length == dt.timedelta(hours=4)


@pytest.mark.parametrize("change, culprit", [
    (lambda s: s.replace('estimate = "5m"', 'estimate = "5 minutes"'), "steps.0.estimate: not a duration"),
    (lambda s: s.replace('estimate = "5m"\n', ''), "steps.0.estimate: required key is missing"),
    (lambda s: s.replace('[window]', '[window]\ncolour = "red"'), "window.colour: unknown key"),
    (lambda s: s.replace('date = 2026-01-11', ''), "a scheduled window needs date"),
    (lambda s: s.replace('change_request = "CR-1"', 'change_request = "CR-9"'), "CR-9 is not among change_requests"),
    (lambda s: s + '\n[[change_requests]]\nid = "CR-1"\n', "listed twice: CR-1"),
    (lambda s: s + "\n[[steps\n", "not valid TOML"),
    (lambda s: s.replace("[window]", '[window]\ntype = "emergency"'), "an emergency window needs start"),
])
def test_bad_plans_fail_with_one_line_naming_file_and_key(tmp_path, change, culprit):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as e:
        plans.load(path)
    msg = str(e.value)
    assert str(path) in msg and culprit in msg and "\n" not in msg, msg


def test_a_date_that_is_not_a_window_is_refused(tmp_path):
    p = plans.load(write(tmp_path, GOOD.replace("2026-01-11", "2026-01-12")))
    with pytest.raises(ConfigError, match="2026-01-12 is not a maintenance window of the schedule"):
        p.resolve(Window(), utc(2026, 1, 1))


def test_next_and_a_shorter_duration(tmp_path):
    p = plans.load(write(tmp_path, GOOD.replace("date = 2026-01-11", 'date = "next"\nduration = "2h"')))
    w = p.resolve(Window(), utc(2026, 1, 12))
    assert w.id == "2026-01-25" and w.length == dt.timedelta(hours=2)
    long = plans.load(write(tmp_path, GOOD.replace("date = 2026-01-11", 'date = "next"\nduration = "5h"')))
    with pytest.raises(ConfigError, match="longer than the window"):
        long.resolve(Window(), utc(2026, 1, 12))


def test_emergency_windows_start_now_and_are_capped_by_the_schedules_maximum(tmp_path):
    text = GOOD.replace("date = 2026-01-11", 'type = "emergency"\nstart = "now"\nduration = "45m"')
    w = plans.load(write(tmp_path, text)).resolve(Window(), utc(2026, 1, 5, 14, 12))
    assert w.kind == "emergency" and w.start == utc(2026, 1, 5, 14, 12) and w.end == utc(2026, 1, 5, 14, 57)
    too_long = plans.load(write(tmp_path, text.replace("45m", "5h")))
    with pytest.raises(ConfigError, match="longer than schedule.max_duration"):
        too_long.resolve(Window(), utc(2026, 1, 5))


def test_plans_are_found_by_date_else_the_routine_plan(tmp_path):
    cfg = Window(plans_dir=tmp_path)
    w = Schedule()
    from opsproof import schedule

    jan11 = schedule.on(w, dt.date(2026, 1, 11))
    assert plans.find(cfg, lambda p: p, jan11) is None
    write(tmp_path, GOOD, "routine.toml")
    assert plans.find(cfg, lambda p: p, jan11).name == "routine.toml"
    write(tmp_path, GOOD, "2026-01-11.toml")
    assert plans.find(cfg, lambda p: p, jan11).name == "2026-01-11.toml"


def test_steps_are_checked_against_the_actions_parameters(tmp_path):
    assert action_kwargs("soak", {"seconds": 1}, "steps.0") == {"minutes": 30.0, "seconds": 1, "every": 30.0}
    with pytest.raises(ConfigError, match="steps.0.action: no action 'soke'"):
        action_kwargs("soke", {}, "steps.0")
    with pytest.raises(ConfigError, match=r"steps.0.options: soak has no option hours \(it takes: every, minutes"):
        action_kwargs("soak", {"hours": 1}, "steps.0")
    bad = plans.load(write(tmp_path, GOOD.replace('action = "soak"', 'action = "reindx"')))
    with pytest.raises(ConfigError, match="reindx"):
        validate(bad)


def test_the_example_plans_are_valid():
    for path in (ROOT / "examples" / "plans").glob("*.toml"):
        p = plans.load(path)
        validate(p)
        assert p.change_requests and all(c.approved_by for c in p.change_requests), path.name


def _collect(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart",
                           "--collect-only", "-q", "checks/window", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args, culprit", [
    (["--window", "2026-01-12"], "--window 2026-01-12: not a maintenance window of the schedule"),
    (["--window", "soon"], "--window soon: use auto, a date (YYYY-MM-DD) or START/END"),
    (["--phase", "t-2h"], "--phase: unknown phase 't-2h'"),
    (["--plan", "/nonexistent/plan.toml"], "/nonexistent/plan.toml: no such plan file"),
], ids=["not-a-window", "bad-window", "bad-phase", "missing-plan"])
def test_bad_window_options_are_one_line_usage_errors(args, culprit):
    p = _collect(*args)
    errors = [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("ERROR:")]
    assert p.returncode == 4 and len(errors) == 1 and culprit in errors[0], p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
