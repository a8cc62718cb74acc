"""completion-email: the runbook's "Send completion email to stakeholders" ([window.notify.email]): the verdict of a
run's record in the body, its change-request report attached, over SMTP with STARTTLS.

    python -m actions completion-email                 # who would get what
    python -m actions completion-email --apply         # send it

The window runner sends it at the window's end by itself; an undeliverable mail is recorded, never stops it.
"""

import json

from opsproof import completion_email, handover
from opsproof.errors import ConfigError

from . import Step, action, param


def subject_and_body(record: dict, extra: list[str] = ()) -> tuple[str, str]:
    counts = completion_email.tally(record.get("checks", []))
    w = record.get("window") or {}
    verdict = "FAILED" if counts["failed"] else "passed"
    subject = f"Maintenance complete: {w.get('id') or record.get('environment')}" + \
        (f" ({record['change_request']})" if record.get("change_request") else "") + f": checks {verdict}"
    return subject, "\n".join([*completion_email.verdict_lines(record), *extra,
                               "", "The change-request report is attached."])


@action("completion-email", help="email the stakeholders the run's verdict with the change-request report attached "
                                 "(SMTP with STARTTLS, [window.notify.email])",
        params=[param("--reports", default="reports", help="the run's report folder (default: reports)")])
def send_completion_email(ctx, reports: str):
    cfg = ctx.env.window.notify.email
    if cfg is None:
        raise ConfigError(f"{ctx.env.file}: [window.notify.email] is not set")
    folder = ctx.env.path(reports)
    try:
        record = json.loads((folder / "evidence.json").read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{folder / 'evidence.json'}: no run's record to report ({e})") from None
    subject, body = subject_and_body(record)
    report = folder / "change-request.html"
    plan = f"mail '{subject}' to {', '.join(cfg.to)} via {cfg.host}:{cfg.port} (STARTTLS)" + \
        (f", attaching {report.name}" if report.is_file() and cfg.attach_report else "")
    if not ctx.apply:
        ctx.step(plan)
        return None
    d = handover.email(ctx.env, report if report.is_file() else None, subject, body)
    ctx.report.steps.append(Step(plan, "done" if d.ok else "failed", d.detail))
    return d
