"""The completion email (runbook, Post-Maintenance Checklist: "Send completion email to stakeholders"): the verdict
in the body, the change-request report attached, sent over SMTP with STARTTLS.

    >>> msg = compose("Maintenance complete: 2026-01-11 (CHG0030001): checks passed", "\n".join(verdict_lines(record)),
    ...               "opsproof@example.com", ["cab@example.com"], Path("reports/change-request.html"))
    >>> send(env.window.notify.email, msg, env.path)
    Delivery(channel='email', event='complete', ok=True, attempts=1, detail='to 1 recipient(s) via smtp.example.com:587 (STARTTLS)', ...)

``send`` never raises: an undeliverable mail (server down, credentials refused, recipients rejected, no STARTTLS)
is a ``Delivery(ok=False)`` with one line, and the window goes on. The password never appears in it.
"""

import datetime as dt
import smtplib
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path

from . import secrets
from .change_record import credentials
from .config.change_record import Email
from .errors import ConfigError, DeliveryFailed
from .notify import Delivery


def verdict_lines(record: dict) -> list[str]:
    """The verdict of a run's record (reports/evidence.json) as the body's lines."""
    counts = tally(record.get("checks", []))
    w = record.get("window") or {}
    lines = [f"Environment: {record.get('environment')}",
             f"Change request(s): {record.get('change_request') or ', '.join(w.get('change_requests', [])) or 'none'}",
             f"Window: {w.get('label') or w.get('id') or 'not a window run'}",
             f"Checks: {counts['passed']} passed, {counts['failed']} failed, {counts['waived']} waived, "
             f"{counts['skipped']} skipped"]
    failed = [c for c in record.get("checks", []) if c["outcome"] == "failed"]
    if failed:
        lines.append("")
        lines.append("Failed:")
        lines += [f"- {c['nodeid'].split('::')[-1]}: {c.get('message') or ''}" for c in failed[:20]]
    return lines


def tally(checks: list[dict]) -> dict[str, int]:
    out = {"passed": 0, "failed": 0, "waived": 0, "skipped": 0}
    for c in checks:
        out[c["outcome"] if c["outcome"] in out else "failed"] += 1
    return out


def compose(subject: str, body: str, sender: str, to: list[str], report: Path | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, ", ".join(to)
    msg["Date"] = dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg.set_content(secrets.redact(body))
    if report is not None and report.is_file():
        msg.add_attachment(report.read_bytes(), maintype="text", subtype="html", filename=report.name)
    return msg


def send(cfg: Email, msg: EmailMessage, resolve=Path, clock=None) -> Delivery:
    """Deliver msg over SMTP with STARTTLS (required); resolve turns configured paths into files (env.path)."""
    at = (clock or (lambda: dt.datetime.now(dt.timezone.utc)))().isoformat(timespec="seconds")
    shown = f"{cfg.host}:{cfg.port}"
    try:
        user, password = None, None
        if cfg.user_env or cfg.credentials_file:
            user, password = credentials("the SMTP server", cfg.user_env, cfg.password_env,
                                         resolve(cfg.credentials_file) if cfg.credentials_file else None)
        ctx = ssl.create_default_context(cafile=str(resolve(cfg.ca_file)) if cfg.ca_file else None)
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise _NotSent(f"{shown} offers no STARTTLS: not sent in the clear")
            smtp.starttls(context=ctx)
            smtp.ehlo()
            if user:
                smtp.login(user, password)
            refused = smtp.send_message(msg)
        to = [a.strip() for a in msg["To"].split(",")]
        detail = f"to {len(to) - len(refused)} recipient(s) via {shown} (STARTTLS)" + \
                 (f"; refused: {', '.join(refused)}" if refused else "")
        return Delivery("email", "complete", not refused, 1, detail, at)
    except _NotSent as e:
        return Delivery("email", "complete", False, 1, str(e), at)
    except ConfigError as e:
        return Delivery("email", "complete", False, 0, str(e), at)
    except smtplib.SMTPAuthenticationError as e:
        return Delivery("email", "complete", False, 1, f"{shown} refused the credentials ({e.smtp_code})", at)
    except smtplib.SMTPRecipientsRefused as e:
        codes = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in e.recipients.items())
        return Delivery("email", "complete", False, 1, f"{shown} refused every recipient ({codes})", at)
    except (socket.timeout, TimeoutError):
        return Delivery("email", "complete", False, 1, f"no answer from {shown} within {cfg.timeout_s:g}s", at)
    except ssl.SSLError as e:
        return Delivery("email", "complete", False, 1, f"TLS with {shown} failed: {e.reason or e}", at)
    except (OSError, smtplib.SMTPException) as e:
        return Delivery("email", "complete", False, 1,
                        secrets.redact(f"{type(e).__name__} from {shown}: {e}")[:300], at)


class _NotSent(DeliveryFailed):
    pass
