"""T-7 days before a window (runbook: "Notify users via email and status page", "Prepare maintenance tasks list",
"Review and approve change requests"). Skipped until the window is window.schedule.notice away (or --phase t-7d)."""

import pytest

from opsproof import findings
from opsproof.config.window import format_duration
from opsproof.probes import statuspage
from opsproof.rules import window as rules

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.window]


def test_window_announced_on_status_page(env, announce_phase, evidence):
    """The status page announces the window, covering all of it, at least the notice period (7 days) ahead."""
    w = announce_phase.window
    if w.kind == "emergency":
        pytest.skip("an emergency window has no notice period")
    items = statuspage.maintenances(env)
    evidence.table("scheduled maintenances on the status page", items[:20])
    m = statuspage.for_window(items, w.id, w.start, w.end)
    findings.expect_no_alarm(rules.announcement(w, m, len(items), env.window.schedule.notice), evidence)


def test_change_requests_listed_and_approved(announce_phase, window_plan, evidence):
    """The window's plan lists its change requests, every one approved, and the tasks (steps) to do."""
    evidence.value("plan", str(window_plan.path))
    evidence.table("change requests", window_plan.change_requests)
    evidence.table("steps", [{"step": i, "action": s.action, "estimate": format_duration(s.estimate),
                              "change request": s.change_request or ""} for i, s in enumerate(window_plan.steps, 1)])
    findings.expect_no_alarm(rules.change_requests(window_plan, announce_phase.window.id), evidence)


def test_plan_fits_the_window(env, announce_phase, window_plan, evidence):
    """The plan's steps, by their estimates, fit the window with the reserve for post-maintenance checks kept."""
    w = announce_phase.window
    reserve = window_plan.window.reserve if window_plan.window.reserve is not None else env.window.reserve
    length = window_plan.window.duration or w.length
    needed = sum((s.estimate for s in window_plan.steps), start=w.length * 0)
    evidence.table("time budget", [{"window": format_duration(length), "reserve": format_duration(reserve),
                                    "steps need": format_duration(needed),
                                    "spare": format_duration(length - reserve - needed)}])
    findings.expect_no_alarm(rules.plan_fits(window_plan, w, reserve), evidence)
