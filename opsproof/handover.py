"""Handing a run's evidence over when it ends: the completion email to the stakeholders and the upload to the
change record, each as configured ([window.notify.email], [window.attach]). Neither ever raises: what happened is
returned as plain rows for the window's record, and the local evidence stays where it is.

    >>> handover(env, Path("reports/windows/2026-01-11_..."/"post"), ["CHG0030001"], subject="...", body="...")
    {'email': {'channel': 'email', 'ok': True, ...}, 'attachments': [{'file': 'change-request.html', 'ok': True, ...}]}
"""

from dataclasses import asdict
from pathlib import Path

from . import change_record, completion_email, config
from .errors import OpsproofError
from .notify import Delivery


def attach_config(env: config.Environment):
    """[window.attach] with its credentials file resolved against the environment (the sandbox's folder)."""
    cfg = env.window.attach
    return cfg.model_copy(update={"credentials_file": env.path(cfg.credentials_file)}) if cfg.credentials_file \
        else cfg


def evidence_files(env: config.Environment, reports: Path) -> list[Path]:
    return [Path(reports) / f for f in env.window.attach.files]


def attach(env: config.Environment, reports: Path, change_requests: list[str]) -> list[dict]:
    """Upload the run's files to each change record; one row per file and record (never raises)."""
    rows = []
    for cr in change_requests:
        try:
            ups = change_record.attach(attach_config(env), cr, evidence_files(env, reports))
        except OpsproofError as e:
            rows.append({"record": cr, "file": "*", "ok": False, "detail": str(e)})
            continue
        rows += [{"record": cr, **asdict(u)} for u in ups]
    return rows


def email(env: config.Environment, report: Path | None, subject: str, body: str) -> Delivery:
    cfg = env.window.notify.email
    msg = completion_email.compose(subject, body, cfg.sender, cfg.to, report if cfg.attach_report else None)
    return completion_email.send(cfg, msg, env.path)


def handover(env: config.Environment, reports: Path, change_requests: list[str], subject: str, body: str) -> dict:
    """Email (when [window.notify.email] is set) and attach (when [window.attach] system is set)."""
    out: dict = {"email": None, "attachments": []}
    report = Path(reports) / "change-request.html"
    if env.window.notify.email is not None:
        out["email"] = asdict(email(env, report if report.is_file() else None, subject, body))
    if env.window.attach.system and change_requests:
        out["attachments"] = attach(env, reports, change_requests)
    return out
