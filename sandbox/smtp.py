"""The sandbox's mail server (aiosmtpd), run by sandbox/web.py on [sandbox] ports.smtp: STARTTLS with the sandbox's
"api" leaf, AUTH (PLAIN/LOGIN) only after STARTTLS, with the throwaway credentials in <state>/secrets/smtp.json.
Each accepted message is kept as <state>/receivers/mail/NNNN.eml plus a line in mail.jsonl (sender, recipients,
whether it came over TLS and authenticated).

Fault via <state>/run/web.json: {"smtp_reject": "550 5.1.1 mailbox unavailable"} refuses every recipient.
"""

import json
import secrets
import ssl
from pathlib import Path

from . import throwaway

CREDENTIALS_FILE = "smtp.json"


def ensure_credentials(state: Path) -> Path:
    return throwaway.credentials(state, CREDENTIALS_FILE)


def mails(state: Path) -> list[dict]:
    path = state / "receivers" / "mail.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


class _Handler:
    def __init__(self, state: Path):
        self.state = state

    def _control(self) -> dict:
        try:
            return json.loads((self.state / "run" / "web.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reject = self._control().get("smtp_reject")
        if reject:
            return reject
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        folder = self.state / "receivers" / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        n = len(list(folder.glob("*.eml"))) + 1
        path = folder / f"{n:04d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        line = {"file": path.name, "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                "tls": session.ssl is not None, "authenticated": bool(session.authenticated)}
        with (self.state / "receivers" / "mail.jsonl").open("a") as f:
            f.write(json.dumps(line) + "\n")
        return "250 Message accepted for delivery"


def _authenticator(state: Path):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        creds = json.loads((state / "secrets" / CREDENTIALS_FILE).read_text())
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == creds["user"]
              and secrets.compare_digest(auth_data.password.decode(), creds["password"]))
        return AuthResult(success=ok, handled=False)

    return check


def start(state: Path, port: int, tls_dir: Path):
    """Start the server in a thread of this process; returns its controller (controller.stop() ends it)."""
    from aiosmtpd.controller import Controller  # imported here: only the web process and the SMTP test need it

    ensure_credentials(state)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_dir / "api.pem", tls_dir / "api.key")
    controller = Controller(_Handler(state), hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                            authenticator=_authenticator(state), auth_require_tls=True, auth_required=True,
                            server_hostname="127.0.0.1", ready_timeout=5)
    controller.start()
    return controller
