"""The product's API stand-in: an HTTP service with health and a few API routes, and the same app over TLS.

    python -m sandbox.web --state-dir DIR --http-port P --tls-port Q

Behaviour follows <state>/run/web.json, re-read on every request and TLS handshake, so faults take effect without
a restart: {"health_status": 503, "health_delay_s": 2.5, "tls_leaf": "expired", ...}.
"""

import argparse
import json
import signal
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATE: Path
TLS_DIR: Path


def control() -> dict:
    try:
        return json.loads((STATE / "run" / "web.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


class Api(BaseHTTPRequestHandler):
    server_version = "aifilmstudio-sandbox/1.0"

    def log_message(self, fmt, *args):  # quiet: the log file only needs errors
        pass

    def do_GET(self):
        c = control()
        path = self.path.split("?")[0]
        routes = {
            "/health": lambda: (c.get("health_status", 200), {"status": "ok" if c.get("health_status", 200) == 200
                                                                else "degraded"}),
            "/api/status": lambda: (200, {"service": "backend", "version": c.get("version", "v1.2.0")}),
            "/api/projects": lambda: (200, {"projects": [{"id": 1, "title": "Project 1"}]}),
        }
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

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


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


def serve(http_port: int, tls_port: int) -> None:
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


def main() -> None:
    global STATE, TLS_DIR
    p = argparse.ArgumentParser()
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--tls-port", type=int, required=True)
    a = p.parse_args()
    STATE, TLS_DIR = a.state_dir, a.state_dir / "tls"
    serve(a.http_port, a.tls_port)


if __name__ == "__main__":
    main()
