"""The runbook's "Pre-Maintenance Checklist" (T-7 days, T-24 hours, T-1 hour) and "Metrics Before/After" as rules
over the window (opsproof/schedule.py), its plan (opsproof/plan.py), the status page's maintenances, the access
probes and the baselines (opsproof/baseline.py), judged against the [window] section."""

import datetime as dt
import fnmatch
from typing import Callable, Iterable

from ..config.window import Baseline, format_duration
from ..findings import SKIP, WAIVED, Finding, alarm, ok
from ..plan import Plan
from ..probes.readiness import Access
from ..probes.statuspage import Maintenance
from ..schedule import MaintenanceWindow

ANNOUNCE = "python -m actions announce --apply"
ACTIVE = ("scheduled", "in_progress", "verifying")


# ---- T-7 days ------------------------------------------------------------------------------------------------------
def announcement(w: MaintenanceWindow, m: Maintenance | None, listed: int, notice: dt.timedelta) -> list[Finding]:
    """The status page announces the window, covering all of it, at least `notice` (window.schedule.notice)
    ahead."""
    if m is None:
        return [alarm(f"window {w.label()}", f"the status page announces no maintenance for the window {w.label()} "
                      f"({listed} maintenance(s) listed)", fix=ANNOUNCE)]
    subject, found = f"status page maintenance {m.id} ({m.name})", []
    if not m.covers(w.start, w.end):
        shown = (f"{m.scheduled_for:%Y-%m-%d %H:%M}–{m.scheduled_until:%H:%M} UTC"
                 if m.scheduled_for and m.scheduled_until else "no times")
        found.append(alarm(subject, f"announces {shown}, which does not cover the window {w.label()}",
                           measured=shown, limit=w.label(), fix=ANNOUNCE))
    ahead = w.start - m.created_at if m.created_at else dt.timedelta(0)
    kw = dict(measured=format_duration(ahead), limit=format_duration(notice), key="window.schedule.notice")
    if ahead < notice:
        posted = f"{m.created_at:%Y-%m-%d %H:%M} UTC" if m.created_at else "at an unknown time"
        found.append(alarm(subject, f"was posted {posted}, only {format_duration(ahead)} before the window: less "
                           f"than {format_duration(notice)}", **kw))
    return found or [ok(subject, f"covers the window, posted {format_duration(ahead)} ahead", **kw)]


def change_requests(plan: Plan, window_id: str) -> list[Finding]:
    """The plan lists its change requests, every one approved, and the tasks (steps) to do."""
    found = []
    if not plan.change_requests:
        found.append(alarm(plan.name, f"lists no change request for the window {window_id}"))
    found += [alarm(plan.name, f"change request(s) not approved: {c.id} (set approved_by once reviewed)",
                    measured=None, limit="approved_by") if not c.approved_by
              else ok(c.id, f"approved by {c.approved_by}") for c in plan.change_requests]
    if not plan.steps:
        found.append(alarm(plan.name, "lists no step (runbook: 'Prepare maintenance tasks list')"))
    return found


def plan_fits(plan: Plan, w: MaintenanceWindow, reserve: dt.timedelta) -> list[Finding]:
    """The steps, by their estimates, fit the window with `reserve` kept for the post-maintenance checks."""
    length = plan.window.duration or w.length
    needed = sum((s.estimate for s in plan.steps), start=dt.timedelta(0))
    room = length - reserve
    kw = dict(measured=format_duration(needed), limit=format_duration(room), key="window.reserve")
    if needed <= room:
        return [ok(plan.name, f"the steps need {format_duration(needed)} of {format_duration(room)}", **kw)]
    longest = sorted(plan.steps, key=lambda s: s.estimate, reverse=True)[:3]
    return [alarm(plan.name, f"the steps need {format_duration(needed)} but the window {w.id} has "
                  f"{format_duration(room)} once {format_duration(reserve)} is kept for the post-maintenance checks: "
                  "longest steps " + ", ".join(f"{s.action} {format_duration(s.estimate)}" for s in longest), **kw)]


# ---- T-24 hours ----------------------------------------------------------------------------------------------------
def rollback_kind(rollback: str | None, actions: Iterable[str], is_file: Callable[[str], bool]) -> tuple[str, bool]:
    """(kind, exists) of a step's rollback: none, an action, a URL, or a procedure file (path#anchor)."""
    if not rollback:
        return "none", False
    if rollback in actions:
        return "action", True
    if rollback.startswith(("http://", "https://")):
        return "URL", True
    return "procedure", is_file(rollback.split("#")[0])


def rollbacks(plan: Plan, actions: Iterable[str], is_file: Callable[[str], bool]) -> list[Finding]:
    """Every step names a rollback (its own or the plan's), and each one exists: an action, a URL or a file."""
    if not plan.steps:
        return [alarm(plan.name, "lists no step")]
    found = []
    for i, s in enumerate(plan.steps, 1):
        rb = plan.rollback_of(s)
        kind, exists = rollback_kind(rb, actions, is_file)
        subject = f"{plan.name}: step {i} ({s.action})"
        if kind == "none":
            found.append(alarm(subject, "names no rollback", fix="set rollback on the step or the plan's [window]"))
        elif not exists:
            found.append(alarm(subject, f"rollback {rb} is neither an action nor an existing file", measured=rb))
        else:
            found.append(ok(subject, f"rollback {rb} ({kind})", measured=rb))
    return found


def access(found: list[Access]) -> list[Finding]:
    """Every credential the window needs works."""
    return [ok(a.target, a.detail) if a.ok else alarm(a.target, f"access not verified: {a.detail}") for a in found]


# ---- T-1 hour ------------------------------------------------------------------------------------------------------
def status_page_active(w: MaintenanceWindow, m: Maintenance | None) -> list[Finding]:
    """The status page shows the window's maintenance, scheduled or in progress."""
    if m is None:
        return [alarm(f"window {w.label()}", f"the status page shows no maintenance for the window {w.label()}",
                      fix=ANNOUNCE)]
    subject = f"status page maintenance {m.id} ({m.name})"
    if m.status not in ACTIVE:
        return [alarm(subject, f"is {m.status!r}, not one of {ACTIVE}", measured=m.status, limit=ACTIVE)]
    return [ok(subject, f"is {m.status!r}", measured=m.status, limit=ACTIVE)]


def baseline_complete(metrics) -> list[Finding]:
    """Every metric of the baseline (opsproof/baseline.py's Metric) was measured."""
    return [alarm(m.key, f"baseline incomplete: {m.key}: {m.error}") if m.error else ok(m.key, m.shown())
            for m in metrics]


# ---- after the window ----------------------------------------------------------------------------------------------
REGRESSION = "regression against the baseline: "


def metric_change(rule: str, b, a, tol: Baseline) -> tuple[bool, str, str | None, object]:
    """(regressed, why, the configuration key of the tolerance, the limit) of one metric's change under its rule."""
    if rule == "latency":
        limit = max(b * (1 + tol.api_p95_tolerance_pct / 100), b + tol.api_p95_floor_ms)
        return a > limit, (f"{a:.1f} ms > {limit:.1f} ms (+{tol.api_p95_tolerance_pct:g}%, at least "
                           f"+{tol.api_p95_floor_ms:g} ms: window.baseline.api_p95_floor_ms)"
                           if a > limit else "within tolerance"), "window.baseline.api_p95_tolerance_pct", limit
    if rule == "cpu":
        limit = b + tol.db_cpu_tolerance_points
        return a > limit, (f"+{a - b:.1f} points > {tol.db_cpu_tolerance_points:g}" if a > limit
                           else "within tolerance"), "window.baseline.db_cpu_tolerance_points", limit
    if rule == "storage":
        limit = b * (1 + tol.storage_tolerance_pct / 100)
        bad = bool(b) and a > limit
        return bad, (f"+{(a - b) / b * 100:.0f}% > {tol.storage_tolerance_pct:g}%" if bad else "within tolerance"), \
            "window.baseline.storage_tolerance_pct", limit
    if rule == "rows":
        limit = b * (1 - tol.rows_drop_tolerance_pct / 100)
        return a < limit, (f"{b - a:,} rows lost ({(b - a) / b * 100:.1f}%) > {tol.rows_drop_tolerance_pct:g}%"
                           if a < limit else "within tolerance"), "window.baseline.rows_drop_tolerance_pct", limit
    return False, ("changed" if a != b else "unchanged"), None, b


def baseline(before, after, tol: Baseline, expect_changes: Iterable[str] = ()) -> list[Finding]:
    """Each metric of the pre-maintenance baseline against the same metric after (opsproof/baseline.py's
    Snapshots), one Finding per metric key, measured = {before, after} as shown: a regression beyond its tolerance
    (window.baseline), or measured before but not after, is an alarm; a change the plan expects
    (plan.checks.expect_changes globs) is waived; a metric the baseline lacks is skipped."""
    found = []
    for key in dict.fromkeys([m.key for m in before.metrics] + [m.key for m in after.metrics]):
        b, a = before.get(key), after.get(key)
        shown = {"before": b.shown() if b else "not measured", "after": a.shown() if a else "not measured"}
        label = f"{(b or a).label} ({key})"
        if b is None or b.value is None:
            found.append(Finding(SKIP, label, (b.error or b.note) if b else "not in the baseline", measured=shown))
            continue
        if a is None or a.value is None:
            bad, why, cfg_key, limit = True, "measured before, not after: " + (
                (a.error or a.note) if a else "not measured"), None, shown["before"]
        else:
            bad, why, cfg_key, limit = metric_change((b or a).rule, b.value, a.value, tol)
        kw = dict(measured=shown, limit=limit, key=cfg_key)
        if (bad or why == "changed") and any(fnmatch.fnmatch(key, p) for p in expect_changes):
            found.append(Finding(WAIVED, label, "the plan expects it to change" + (f" ({why})" if bad else ""), **kw))
        elif bad:
            found.append(alarm(label, REGRESSION + why, **kw))
        else:
            found.append(ok(label, why, **kw))
    return found
