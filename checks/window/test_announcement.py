"""T-7 days before a window (runbook: "Notify users via email and status page", "Prepare maintenance tasks list",
"Review and approve change requests"). Skipped until the window is window.schedule.notice away (or --phase t-7d)."""

import pytest

from opsproof.config.window import format_duration
from opsproof.probes import statuspage

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.maintenance]


def test_window_announced_on_status_page(env, announce_phase, evidence):
    """The status page announces the window, covering all of it, at least the notice period (7 days) ahead."""
    w = announce_phase.window
    if w.kind == "emergency":
        pytest.skip("an emergency window has no notice period")
    items = statuspage.maintenances(env)
    evidence.table("scheduled maintenances on the status page", items[:20])
    m = statuspage.for_window(items, w.id, w.start, w.end)
    assert m is not None, (
        f"the status page announces no maintenance for the window {w.label()} "
        f"({len(items)} maintenance(s) listed): announce it with python -m actions announce --apply")
    assert m.covers(w.start, w.end), (
        f"status page maintenance {m.id} ({m.name}) announces {m.scheduled_for:%Y-%m-%d %H:%M}–"
        f"{m.scheduled_until:%H:%M} UTC, which does not cover the window {w.label()}")
    notice = w.start - m.created_at
    evidence.value("announced", f"{m.created_at:%Y-%m-%d %H:%M} UTC, {format_duration(notice)} ahead")
    need = env.window.schedule.notice
    assert notice >= need, (
        f"status page maintenance {m.id} ({m.name}) was posted {m.created_at:%Y-%m-%d %H:%M} UTC, only "
        f"{format_duration(notice)} before the window: less than {format_duration(need)} (window.schedule.notice)")


def test_change_requests_listed_and_approved(announce_phase, window_plan, evidence):
    """The window's plan lists its change requests, every one approved, and the tasks (steps) to do."""
    evidence.value("plan", str(window_plan.path))
    evidence.table("change requests", window_plan.change_requests)
    evidence.table("steps", [{"step": i, "action": s.action, "estimate": format_duration(s.estimate),
                              "change request": s.change_request or ""} for i, s in enumerate(window_plan.steps, 1)])
    assert window_plan.change_requests, f"{window_plan.name} lists no change request for the window " \
                                        f"{announce_phase.window.id}"
    unapproved = [c.id for c in window_plan.change_requests if not c.approved_by]
    assert not unapproved, f"{window_plan.name}: change request(s) not approved: {', '.join(unapproved)} " \
                           "(set approved_by once reviewed)"
    assert window_plan.steps, f"{window_plan.name} lists no step (runbook: 'Prepare maintenance tasks list')"


def test_plan_fits_the_window(env, announce_phase, window_plan, evidence):
    """The plan's steps, by their estimates, fit the window with the reserve for post-maintenance checks kept."""
    w = announce_phase.window
    reserve = window_plan.window.reserve if window_plan.window.reserve is not None else env.window.reserve
    length = window_plan.window.duration or w.length
    needed = sum((s.estimate for s in window_plan.steps), start=w.length * 0)
    evidence.table("time budget", [{"window": format_duration(length), "reserve": format_duration(reserve),
                                    "steps need": format_duration(needed),
                                    "spare": format_duration(length - reserve - needed)}])
    assert needed <= length - reserve, (
        f"{window_plan.name}: the steps need {format_duration(needed)} but the window {w.id} has "
        f"{format_duration(length - reserve)} once {format_duration(reserve)} is kept for the post-maintenance checks "
        f"(window.reserve): longest steps " + ", ".join(
            f"{s.action} {format_duration(s.estimate)}" for s in sorted(window_plan.steps, key=lambda s: s.estimate,
                                                                        reverse=True)[:3]))
