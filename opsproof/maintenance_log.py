"""The runbook's "Maintenance Log Template", filled in from what actually happened.

    text = render(Inputs(record=evidence_json, env_name="prod", window=w, next_window=nxt, tasks=env.window.tasks,
                         performed_by="DevOps Team (alice)", started=t0, finished=t1))

- Tasks Completed: a runbook task is ticked only when every check of its area that ran passed (and at least one
  ran), and every window step running one of its actions succeeded; each window step is listed with its outcome.
- Issues Encountered: failed checks (with their messages), waived failures, the window's deviations (steps skipped,
  failed, rolled back), undelivered notifications, expired or malformed waivers.
- Metrics Before/After: the post-maintenance comparison against the baseline, the runbook's three lines first.
- Next Maintenance: the schedule's next window, and the plan's special tasks plus any step carried over.
"""

import datetime as dt
from dataclasses import dataclass, field

from . import findings
from .baseline import COMPARISON_TITLE
from .config.window import LogTask, format_duration
from .schedule import MaintenanceWindow

RUNBOOK_METRICS = ("api.p95_ms", "db.cpu_pct", "storage.used_gb")


@dataclass
class Inputs:
    record: dict
    """The pytest run's record (reports/evidence.json): every check's outcome, markers, message and evidence."""
    env_name: str
    window: MaintenanceWindow | None
    next_window: MaintenanceWindow | None
    tasks: list[LogTask]
    performed_by: str
    started: dt.datetime
    finished: dt.datetime
    run: dict | None = None
    """The window runner's record (window.json) when a window ran: steps, deviations, notifications."""
    comparison: list[dict] | None = None
    """Rows of the before/after comparison; default: the evidence the comparison check left in the record."""
    waivers: dict | None = None
    links: dict[str, str] = field(default_factory=dict)
    """Evidence to link: {"Post-maintenance report": "post/report.html", ...}."""


def _checks(record: dict) -> list[dict]:
    return [c for c in record.get("checks", []) if c.get("when") in ("call", "setup")]


def _short(nodeid: str) -> str:
    return nodeid.split("::")[-1]


def comparison_rows(record: dict) -> list[dict] | None:
    for c in record.get("checks", []):
        for e in c.get("evidence", []):
            if e.get("kind") == "table" and e.get("title") == COMPARISON_TITLE:
                return e.get("payload") or []
    return None


def task_lines(inp: Inputs) -> list[str]:
    checks = _checks(inp.record)
    steps = (inp.run or {}).get("steps", [])
    lines = []
    for t in inp.tasks:
        mine = [c for c in checks if t.area in c.get("markers", [])]
        passed = [c for c in mine if c["outcome"] == "passed"]
        failed = [c for c in mine if c["outcome"] == "failed"]
        waived = [c for c in mine if c["outcome"] == "waived"]
        my_steps = [s for s in steps if s.get("action") in t.actions]
        bad_steps = [s for s in my_steps if s.get("status") != "done"]
        why = []
        if failed:
            why.append(f"{len(failed)} check(s) failed: {', '.join(_short(c['nodeid']) for c in failed)}")
        if waived:
            why.append(f"{len(waived)} failure(s) waived: {', '.join(_short(c['nodeid']) for c in waived)}")
        if bad_steps:
            why.append("step(s) " + ", ".join(f"{s['index']} {s['action']} {s['status']}" for s in bad_steps))
        done = bool(passed or (my_steps and not bad_steps)) and not why
        if done:
            detail = f"{len(passed)} check(s) passed" if passed else "no check of this area ran"
            if my_steps:
                detail += "; step(s) " + ", ".join(f"{s['index']} {s['action']}" for s in my_steps) + " done"
        elif why:
            detail = "; ".join(why)
        else:
            detail = "not verified in this run"
        lines.append(f"- [{'x' if done else ' '}] {t.label} — {detail}")
    for s in steps:
        mark = "x" if s.get("status") == "done" else " "
        took = f", {format_duration(dt.timedelta(seconds=s['duration_s']))}" if s.get("duration_s") else ""
        lines.append(f"- [{mark}] Step {s['index']}: {s.get('title') or s['action']} ({s['status']}{took})")
    return lines


def issue_lines(inp: Inputs) -> list[str]:
    lines = []
    for c in _checks(inp.record):
        alarms = [f for f in c.get("findings", []) if f.get("status") in ("alarm", "error")]
        if c["outcome"] == "failed" and len(alarms) > 1:
            # one line per culprit: what the person doing the follow-up works through
            lines.append(f"- Check {_short(c['nodeid'])} failed: {len(alarms)} finding(s)")
            lines += [f"  - {findings.from_row(f).line()}" for f in alarms]
        elif c["outcome"] == "failed":
            lines.append(f"- Check {_short(c['nodeid'])} failed: {c.get('message') or '(no message)'}")
        elif c["outcome"] == "waived":
            w = c.get("waiver") or {}
            lines.append(f"- Check {_short(c['nodeid'])} failed but is WAIVED until {w.get('expires', '?')} "
                         f"({w.get('justification', '')}; owner {w.get('owner', '?')}): {c.get('message') or ''}")
    run = inp.run or {}
    lines += [f"- Deviation: {d}" for d in run.get("deviations", [])]
    for n in run.get("notifications", []):
        if not n.get("ok"):
            lines.append(f"- Notification {n['event']} to {n['channel']} not delivered: {n['detail']}")
    w = inp.waivers or {}
    lines += [f"- Waiver file: {p}" for p in w.get("report", [])]
    return lines or ["- None"]


def metric_lines(inp: Inputs) -> list[str]:
    rows = inp.comparison if inp.comparison is not None else comparison_rows(inp.record)
    if rows is None:
        return ["- No comparison: no baseline was compared in this run (a pre-maintenance run records one)"]
    ordered = sorted(rows, key=lambda r: (RUNBOOK_METRICS.index(r["key"]) if r["key"] in RUNBOOK_METRICS else 99))
    lines = []
    for r in ordered:
        flag = {"regression": f" — **REGRESSION**: {r.get('reason', '')}",
                "expected": " — expected by the plan", "changed": " — changed"}.get(r["verdict"], "")
        lines.append(f"- {r['label']}: {r['before']} → {r['after']}{flag}")
    return lines


def _target_lines(target: dict | None) -> list[str]:
    """The AWS account, caller and endpoints the run verified before its first check."""
    if not target:
        return []
    eps = ", ".join(f"{k} {v}" for k, v in target.get("endpoints", {}).items())
    return [f"**AWS**: account {target['account']}, region {target['region']}, as {target['caller_arn']}  ",
            f"**Endpoints used**: {eps}  "]


def render(inp: Inputs) -> str:
    run = inp.run or {}
    w = inp.window
    kind = "Emergency" if w and w.kind == "emergency" else "Scheduled" if w else "Unscheduled (no window)"
    day = (w.local_start.date() if w else inp.started.date()).isoformat()
    crs = run.get("change_requests", [])
    cr_text = ", ".join(f"{c['id']}" + (f" (approved by {c['approved_by']})" if c.get("approved_by") else
                                         " (NOT approved)") for c in crs) if crs else \
        (inp.record.get("change_request") or "none named")
    specials = list(run.get("special_tasks", []))
    specials += [f"carry over step {s['index']} {s['action']} ({s['status']})" for s in run.get("steps", [])
                 if s.get("status") in ("skipped", "failed", "rolled back")]
    status = run.get("outcome") or ("passed" if inp.record.get("exitstatus") == 0 else "failed")
    out = [
        f"# Maintenance Log - {day}",
        "",
        f"**Type**: {kind}  ",
        f"**Duration**: {inp.started.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} - "
        f"{inp.finished.astimezone(dt.timezone.utc):%H:%M} UTC  ",
        f"**Performed By**: {inp.performed_by}  ",
        f"**Window**: {w.label() if w else 'none'}  ",
        f"**Change requests**: {cr_text}  ",
        f"**Environment**: {inp.env_name}  ",
        *_target_lines(inp.record.get("target")),
        f"**Outcome**: {status}",
        "",
        "## Tasks Completed",
        *task_lines(inp),
        "",
        "## Issues Encountered",
        *issue_lines(inp),
        "",
        "## Metrics Before/After",
        *metric_lines(inp),
        "",
        "## Next Maintenance",
        f"- Scheduled: {inp.next_window.label() if inp.next_window else 'none in the schedule'}",
        f"- Special tasks: {'; '.join(specials) if specials else 'none'}",
    ]
    if inp.links:
        out += ["", "## Evidence", *[f"- [{name}]({href})" for name, href in inp.links.items()]]
    return "\n".join(out) + "\n"
