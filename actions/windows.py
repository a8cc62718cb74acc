"""The schedule's windows, and announcing one (runbook T-7 days and T-1 h).

    python -m actions windows                      # the next windows, their phase, notice date and plan
    python -m actions windows --apply              # ... and write them to reports/windows.ics for the calendar
    python -m actions announce --apply             # the next window: status page maintenance + Slack post
    python -m actions announce --event starting-soon --apply    # T-1 h: "Scheduled Maintenance Starting Soon"
"""

import datetime as dt

from opsproof import plan as plans, schedule
from opsproof.config.window import format_duration
from opsproof.errors import ConfigError
from opsproof.notify import Notifier

from . import action, param


@action("windows", help="list the next maintenance windows (with --apply: write them to an iCalendar file)",
        params=[param("--count", type=int, default=6, help="how many (default 6)"),
                param("--ics", default="reports/windows.ics", help="the calendar file --apply writes")])
def windows(ctx, count: int, ics: str):
    cfg = ctx.env.window
    now = schedule.now()
    found = schedule.upcoming(cfg.schedule, now, count)
    s = cfg.schedule
    weeks = " and ".join("last" if n == -1 else {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th") for n in s.weeks)
    lines = [f"schedule: {weeks} {s.weekday.capitalize()} of each month, {s.start:%H:%M}–{s.end:%H:%M} {s.timezone}, "
             f"at most {format_duration(s.max_duration)}, notice {format_duration(s.notice)}"]
    rows = []
    for w in found:
        plan = plans.find(cfg, ctx.env.path, w)
        notice_by = w.start - s.notice
        late = " (notice period already begun)" if notice_by <= now < w.start else ""
        shown = plan.relative_to(ctx.env.root) if plan and plan.is_relative_to(ctx.env.root) else plan
        lines.append(f"  {schedule.describe(w, now, cfg)}; announce by {notice_by:%Y-%m-%d %H:%M} UTC{late}; "
                     f"plan: {shown or 'none yet'}")
        rows.append({**w.as_dict(), "phase": schedule.phase(w, now, cfg), "announce_by": notice_by.isoformat(),
                     "plan": str(plan) if plan else None})
    ctx.evidence.text("next maintenance windows", "\n".join(lines))
    path = ctx.env.path(ics)

    def write():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schedule.ics(found, description=f"opsproof: {ctx.env.name}"))
        return f"wrote {len(found)} window(s)"

    ctx.step(f"write {path} ({len(found)} windows, for the team calendar)", write)
    return rows


@action("announce", help="announce a window on the status page and in Slack (T-7 days), or post 'starting soon'",
        params=[param("--window", default="next", help="a date of the schedule, or next (default)"),
                param("--event", default="announce", choices=["announce", "starting-soon"],
                      help="announce (T-7 days, default) or starting-soon (T-1 h)"),
                param("--plan", default=None, help="the window's plan (default: found in window.plans_dir)")])
def announce(ctx, window: str, event: str, plan: str | None):
    cfg = ctx.env.window
    now = schedule.now()
    if window == "next":
        w = schedule.upcoming(cfg.schedule, now, 1)[0]
    else:
        w = schedule.on(cfg.schedule, dt.date.fromisoformat(window))
        if w is None:
            raise ConfigError(f"--window {window}: not a maintenance window of the schedule")
    path = plans.find(cfg, ctx.env.path, w) if plan is None else ctx.env.path(plan)
    p = plans.load(path) if path else None
    crs = tuple(c.id for c in p.change_requests) if p else ()
    text = announcement(w, p, event)
    ctx.evidence.text("message", text)
    receivers = [r for r, on in (("Slack", cfg.notify.slack), ("the status page", cfg.notify.status_page)) if on]

    def send():
        deliveries = Notifier(ctx.env).send(event, w, text, crs)
        failed = [d for d in deliveries if not d.ok]
        if failed:
            raise RuntimeError("; ".join(d.line() for d in failed))
        return "; ".join(d.line() for d in deliveries) or "no receiver configured (window.notify)"

    ctx.step(f"post {event} for the window {w.label()} to {' and '.join(receivers) or 'nobody'}", send)


def announcement(w: schedule.MaintenanceWindow, p, event: str) -> str:
    if event == "starting-soon":
        return f"Scheduled Maintenance Starting Soon: {w.label()}."
    lines = [f"Scheduled maintenance {w.label()}."]
    if p and p.change_requests:
        lines.append("Change requests: " + "; ".join(f"{c.id} {c.title}".strip() for c in p.change_requests))
    if p and p.steps:
        lines.append("Tasks: " + ", ".join(s.label for s in p.steps))
    lines.append("The service may be briefly unavailable. Updates here and on the status page.")
    return "\n".join(lines)
