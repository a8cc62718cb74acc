"""The product's API stand-in, and the receivers a maintenance window notifies: an HTTP service with health and a
few API routes, the same app over TLS, a Slack-compatible webhook and a Statuspage-compatible API.

    python -m sandbox.web --state-dir DIR --http-port P --tls-port Q

Behaviour follows <state>/run/web.json, re-read on every request and TLS handshake, so faults take effect without
a restart: {"health_status": 503, "health_delay_s": 2.5, "tls_leaf": "expired", "api_delay_s": 0.25,
"webhook_status": 503, "statuspage_status": 503, "statuspage_hide_scheduled": true, ...}.

Receivers (what they received is kept under <state>/receivers/):
    POST /hooks/slack/...                             Slack incoming webhook: appends to slack.jsonl, answers "ok"
    GET  /v1/pages/PAGE/incidents[/scheduled|/upcoming|/active_maintenance|/ID]
    POST /v1/pages/PAGE/incidents                     {"incident": {...}}  (Statuspage's API, the subset we use)
    PATCH /v1/pages/PAGE/incidents/ID                 {"incident": {"status": ..., "body": ...}}
Change records (sandbox/change_records.py): ServiceNow's Attachment API and Jira's issue attachments. Mail
(sandbox/smtp.py): an SMTP server with STARTTLS on --smtp-port.

The status page wants "Authorization: OAuth TOKEN" with the token in <state>/secrets/statuspage-token (made at
start); its incidents live in statuspage.json. At start it announces the schedule's next two windows (the runbook's
schedule), as production's page would have them: posted more than the notice period ahead.
"""

import argparse
import datetime as dt
import json
import secrets
import signal
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import change_records

STATE: Path
TLS_DIR: Path
RECEIVERS_LOCK = threading.Lock()
TOKEN_FILE = "statuspage-token"


def control() -> dict:
    try:
        return json.loads((STATE / "run" / "web.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def receivers_dir(state: Path) -> Path:
    return state / "receivers"


class Api(BaseHTTPRequestHandler):
    server_version = "aifilmstudio-sandbox/1.0"

    def log_message(self, fmt, *args):  # quiet: the log file only needs errors
        pass

    def do_GET(self):
        c = control()
        path = self.path.split("?")[0]
        if path.startswith("/v1/pages/"):
            return self._status_page("GET", path, c)
        if change_records.handles(path):
            return change_records.handle(self, "GET", STATE, c)
        routes = {
            "/health": lambda: (c.get("health_status", 200), {"status": "ok" if c.get("health_status", 200) == 200
                                                                else "degraded"}),
            "/api/status": lambda: (200, {"service": "backend", "version": c.get("version", "v1.2.0")}),
            "/api/projects": lambda: (200, {"projects": [{"id": 1, "title": "Project 1"}]}),
        }
        time.sleep(float(c.get("api_delay_s", 0)))
        overrides = c.get("routes", {})
        if path in overrides:  # faults may change any route: {"status": 500, "delay_s": 1.0, "body": {...}}
            o = overrides[path]
            time.sleep(float(o.get("delay_s", 0)))
            return self._send(int(o.get("status", 200)), o.get("body", {}))
        if path == "/health":
            time.sleep(float(c.get("health_delay_s", 0)))
        if path not in routes:
            return self._send(404, {"error": "not found"})
        status, body = routes[path]()
        self._send(status, body)

    def do_POST(self):
        c = control()
        path = self.path.split("?")[0]
        if path.startswith("/hooks/slack/"):
            return self._slack(path, c)
        if path.startswith("/v1/pages/"):
            return self._status_page("POST", path, c)
        if change_records.handles(path):
            return change_records.handle(self, "POST", STATE, c)
        self._send(404, {"error": "not found"})

    def do_PATCH(self):
        path = self.path.split("?")[0]
        if path.startswith("/v1/pages/"):
            return self._status_page("PATCH", path, control())
        self._send(404, {"error": "not found"})

    # ---- Slack-compatible webhook ------------------------------------------------------------------------------
    def _slack(self, path: str, c: dict) -> None:
        payload = self._body()
        if c.get("webhook_status"):  # fault: the webhook is down
            return self._send(int(c["webhook_status"]), "upstream unavailable", text=True)
        if not isinstance(payload, dict) or not payload.get("text"):
            return self._send(400, "no_text", text=True)
        _append(receivers_dir(STATE) / "slack.jsonl", {"received_at": _now_iso(), "path": path, "payload": payload})
        self._send(200, "ok", text=True)

    # ---- Statuspage-compatible API -----------------------------------------------------------------------------
    def _status_page(self, method: str, path: str, c: dict) -> None:
        if c.get("statuspage_status"):  # fault: the status page API is down
            return self._send(int(c["statuspage_status"]), {"error": "service unavailable"})
        if self.headers.get("Authorization") != f"OAuth {_token()}":
            return self._send(401, {"error": "Could not authenticate"})
        parts = path.strip("/").split("/")  # v1 pages PAGE incidents [ID|scheduled|...]
        if len(parts) < 4 or parts[3] != "incidents":
            return self._send(404, {"error": "not found"})
        page, rest = parts[2], parts[4:]
        with RECEIVERS_LOCK:
            store = _load_incidents()
            if method == "GET":
                items = [i for i in store if i.get("page_id") == page]
                if c.get("statuspage_hide_scheduled"):  # fault: the announcements are gone
                    items = [i for i in items if i.get("status") != "scheduled"]
                if not rest:
                    return self._send(200, items)
                if rest[0] == "scheduled":
                    return self._send(200, [i for i in items if i.get("scheduled_for")])
                if rest[0] == "upcoming":
                    return self._send(200, [i for i in items if i.get("status") == "scheduled"])
                if rest[0] == "active_maintenance":
                    return self._send(200, [i for i in items if i.get("status") in ("in_progress", "verifying")])
                found = [i for i in items if i["id"] == rest[0]]
                return self._send(200, found[0]) if found else self._send(404, {"error": "not found"})
            body = self._body()
            inc = body.get("incident") if isinstance(body, dict) else None
            if not isinstance(inc, dict):
                return self._send(400, {"error": "incident is missing"})
            if method == "POST" and not rest:
                if not inc.get("name"):
                    return self._send(422, {"error": "name can't be blank"})
                item = _incident(page, inc.get("name"), inc.get("status", "scheduled"), inc.get("body", ""),
                                 inc.get("scheduled_for"), inc.get("scheduled_until"), inc.get("metadata") or {})
                store.append(item)
                _save_incidents(store)
                return self._send(201, item)
            if method == "PATCH" and len(rest) == 1:
                found = [i for i in store if i["id"] == rest[0] and i.get("page_id") == page]
                if not found:
                    return self._send(404, {"error": "not found"})
                item = found[0]
                for key in ("name", "status", "scheduled_for", "scheduled_until"):
                    if key in inc:
                        item[key] = inc[key]
                if "metadata" in inc:
                    item["metadata"] = {**item.get("metadata", {}), **inc["metadata"]}
                item["updated_at"] = _now_iso()
                if inc.get("body") or "status" in inc:
                    item["incident_updates"].append(_update(item["status"], inc.get("body", "")))
                _save_incidents(store)
                return self._send(200, item)
        self._send(405, {"error": "method not allowed"})

    # ---- plumbing ----------------------------------------------------------------------------------------------
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return None

    def _send(self, status: int, body, text: bool = False) -> None:
        data = body.encode() if text else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# ---- the receivers' state --------------------------------------------------------------------------------------
def _now_iso(t: dt.datetime | None = None) -> str:
    t = t or dt.datetime.now(dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _append(path: Path, record: dict) -> None:
    with RECEIVERS_LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")


def _load_incidents() -> list[dict]:
    try:
        return json.loads((receivers_dir(STATE) / "statuspage.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []


def _save_incidents(items: list[dict]) -> None:
    path = receivers_dir(STATE) / "statuspage.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(items, indent=1))
    tmp.replace(path)


def _update(status: str, body: str, at: str | None = None) -> dict:
    return {"id": uuid.uuid4().hex[:12], "status": status, "body": body, "created_at": at or _now_iso()}


def _incident(page, name, status, body, scheduled_for, scheduled_until, metadata, created_at=None) -> dict:
    at = created_at or _now_iso()
    return {"id": uuid.uuid4().hex[:12], "page_id": page, "name": name, "status": status, "impact": "maintenance",
            "created_at": at, "updated_at": at, "scheduled_for": scheduled_for, "scheduled_until": scheduled_until,
            "metadata": metadata, "incident_updates": [_update(status, body, at)]}


def _token() -> str:
    return (STATE / "secrets" / TOKEN_FILE).read_text().strip()


def ensure_token(state: Path) -> None:
    """The status page's throwaway API token (the client reads the same file: window.notify.status_page.token_file)."""
    path = state / "secrets" / TOKEN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)


SEED_PAGE = "sandbox-page"
"""The page id of environments/sandbox.toml's [window.notify.status_page]."""


def seed_status_page(now: dt.datetime | None = None) -> list[str]:
    """Announce the schedule's next two windows unless announced already; returns the window ids added."""
    from opsproof.config.window import Schedule
    from opsproof.schedule import upcoming

    now = now or dt.datetime.now(dt.timezone.utc)
    schedule = Schedule()  # the runbook's; environments/sandbox.toml keeps it
    added = []
    with RECEIVERS_LOCK:
        store = _load_incidents()
        have = {(i.get("metadata") or {}).get("opsproof", {}).get("window") for i in store}
        for w in upcoming(schedule, now, 2):
            if w.id in have:
                continue
            posted = min(now - dt.timedelta(days=1), w.start - schedule.notice - dt.timedelta(days=1))
            store.append(_incident(
                SEED_PAGE, f"Scheduled maintenance {w.id}", "scheduled",
                f"Scheduled maintenance {w.label()}: database maintenance, security patches, certificate and backup "
                "verification. The service may be briefly unavailable.", _now_iso(w.start), _now_iso(w.end),
                {"opsproof": {"window": w.id, "change_requests": []}}, created_at=_now_iso(posted)))
            added.append(w.id)
        if added:
            _save_incidents(store)
    return added


def _context(leaf: str, c: dict) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS_DIR / f"{leaf}.pem", TLS_DIR / f"{leaf}.key")
    if c.get("tls_max_version"):
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion[c["tls_max_version"]]
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def _sni(sock: ssl.SSLSocket, server_name: str | None, _ctx) -> None:
    """Per handshake: serve whatever leaf the control file names (a fault swaps it without a restart)."""
    c = control()
    sock.context = _context(c.get("tls_leaf", "api"), c)


def serve(http_port: int, tls_port: int, smtp_port: int | None = None) -> None:
    ensure_token(STATE)
    change_records.ensure_credentials(STATE)
    mail = None
    if smtp_port:
        from . import smtp

        mail = smtp.start(STATE, smtp_port, TLS_DIR)
    seed_status_page()
    http = ThreadingHTTPServer(("127.0.0.1", http_port), Api)
    tls = ThreadingHTTPServer(("127.0.0.1", tls_port), Api)
    base = _context("api", {})
    base.sni_callback = _sni
    base.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    base.set_ciphers("DEFAULT:@SECLEVEL=0")
    tls.socket = base.wrap_socket(tls.socket, server_side=True, do_handshake_on_connect=False)
    servers = [http, tls]
    for s in servers:
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for s in servers:
        s.shutdown()
    if mail is not None:
        mail.stop()


def main() -> None:
    global STATE, TLS_DIR
    p = argparse.ArgumentParser()
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--tls-port", type=int, required=True)
    p.add_argument("--smtp-port", type=int, default=None)
    a = p.parse_args()
    STATE, TLS_DIR = a.state_dir, a.state_dir / "tls"
    serve(a.http_port, a.tls_port, a.smtp_port)


if __name__ == "__main__":
    main()
