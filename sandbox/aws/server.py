"""The sandbox's AWS server: moto's WSGI app behind the sandbox's overlays, on one threaded HTTP server.

    python -m sandbox.aws.server --host 127.0.0.1 --port 15000 --state-dir .sandbox/aws

Requests under ``/_sandbox/`` go to the admin API (JSON; see ``sandbox/aws/admin.py`` for a client); requests an
overlay registered for go to that overlay; everything else goes straight to moto. Logs go to stderr (``--verbose``
adds one line per request). SIGTERM or SIGINT stops the server cleanly.

Like moto's resources, overlay overrides live in memory only: a restarted server has forgotten its faults (the
sandbox's lifecycle drops AWS faults from its record on restart). ``<state-dir>/aws-overlays.json`` is a snapshot
written after every admin change, for people to read; it is never loaded.
"""

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from .acm import Acm
from .alarm_history import AlarmHistory
from .cloudfront import CloudFront
from .cloudwatch_metrics import CloudWatchMetrics
from .ecr import Ecr
from .ecr_scans import EcrScans
from .ecs import Ecs
from .elbv2 import Elbv2
from .overlay import AdminError, Call, Overlay, Reply, json_reply
from .rds import Rds
from .rds_credentials import RdsCredentials
from .rds_parameters import RdsParameters
from .rds_restore import RdsRestore
from .s3_listing import S3Listing
from .s3_replication import S3Replication
from .scaling_activities import ScalingActivities
from .secretsmanager import Secrets
from .secrets_history import SecretsHistory
from .ssm import Ssm
from .volumes import Volumes

log = logging.getLogger("sandbox.aws")

OVERLAYS = (S3Replication, Ecs, Ssm, Elbv2, CloudFront, Rds, Secrets)
OVERLAYS += (Acm, SecretsHistory, RdsCredentials, EcrScans)  # certificates, secrets and security (issue 5)
OVERLAYS += (CloudWatchMetrics, ScalingActivities)  # capacity (issue 8): cloudwatch_metrics.py, scaling_activities.py
OVERLAYS += (Ecr, AlarmHistory)  # infrastructure and services (issue 6): sandbox/aws/ecr.py, alarm_history.py
OVERLAYS += (RdsRestore, S3Listing)  # backups and storage (issue 4): rds_restore.py, s3_listing.py
OVERLAYS += (RdsParameters,)  # real AWS states (issue 12): rds_parameters.py
OVERLAYS += (Volumes,)  # production volumes (issue 12): volumes.py bulk routes for seed_volumes.py; pages: paging.py
STATE_FILE = "aws-overlays.json"
WARM = (("ec2", "us-east-1"), ("s3", "aws"), ("elbv2", "us-east-1"), ("ecs", "us-east-1"), ("ssm", "us-east-1"),
        ("rds", "us-east-1"), ("acm", "us-east-1"), ("cloudfront", "aws"))
"""Backends made in the background right after start-up: EC2's alone takes about a second on first use."""


class SandboxAws:
    """The WSGI app: admin API, then overlays, then moto."""

    def __init__(self, moto_app, overlays: list[Overlay], state_dir: Path | None = None):
        self.moto = moto_app
        self.overlays = overlays
        self.state_file = state_dir / STATE_FILE if state_dir else None
        self.handlers = {}
        self.routes = {}
        for overlay in overlays:
            for registry, found in ((self.handlers, overlay.handlers()), (self.routes, overlay.admin_routes())):
                clash = registry.keys() & found.keys()
                if clash:
                    raise ValueError(f"overlay {overlay.name} registers {sorted(clash)} a second time")
                registry.update(found)
        self.services = {service for service, _ in self.handlers}
        self._save_lock = threading.Lock()
        if self.state_file:
            self.state_file.unlink(missing_ok=True)

    # ---- AWS requests --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_sandbox/"):
            return self.admin(environ)(environ, start_response)
        call = Call(environ, self.moto)
        handler = None
        if call.service in self.services:
            handler = self.handlers.get((call.service, call.action)) or self.handlers.get((call.service, "*"))
        if handler is None:
            return self.moto(environ, start_response)
        try:
            reply = handler(call)
        except Exception as e:  # an overlay bug must not look like an AWS answer
            log.exception("overlay %s failed on %s %s", handler.__qualname__, call.service, call.action)
            reply = json_reply({"__type": "InternalFailure", "message": f"sandbox overlay: {e}"}, 500)
        return reply(environ, start_response)

    # ---- admin API -----------------------------------------------------------------------------------------------
    def admin(self, environ) -> Reply:
        call = Call(environ, self.moto)
        route = call.path[len("/_sandbox/"):].strip("/")
        try:
            if call.method == "GET" and route == "health":
                return json_reply({"ok": True, "overlays": [o.name for o in self.overlays]},
                                  content_type="application/json")
            if call.method == "GET" and route == "state":
                return json_reply(self.dump(), content_type="application/json")
            if call.method != "POST":
                raise AdminError(f"{call.method} /_sandbox/{route}: only POST changes state", 405)
            try:
                payload = json.loads(call.body or b"{}")
            except ValueError as e:
                raise AdminError(f"body is not JSON: {e}") from None
            if not isinstance(payload, dict):
                raise AdminError("body must be a JSON object")
            if route == "reset":
                for overlay in self.overlays:
                    overlay.reset()
                result = {"reset": [o.name for o in self.overlays]}
            elif route in self.routes:
                result = self.routes[route](payload) or {}
            else:
                raise AdminError(f"no admin route /_sandbox/{route} (known: {', '.join(sorted(self.routes))})", 404)
            log.info("admin %s %s", route, _brief(payload))
            self.save()
            return json_reply(result, content_type="application/json")
        except AdminError as e:
            log.warning("admin %s refused: %s", route, e)
            return json_reply({"error": str(e)}, e.status, content_type="application/json")
        except Exception as e:
            log.exception("admin %s failed", route)
            return json_reply({"error": f"{type(e).__name__}: {e}"}, 500, content_type="application/json")

    # ---- overlay state on disk -----------------------------------------------------------------------------------
    def dump(self) -> dict:
        return {o.name: o.state for o in self.overlays}

    def save(self) -> None:
        if not self.state_file:
            return
        with self._save_lock:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.dump(), indent=1, sort_keys=True, default=str))
            tmp.replace(self.state_file)


def _brief(payload: dict) -> str:
    """A payload for the log: long lists shown by their length."""
    return json.dumps({k: f"[{len(v)} items]" if isinstance(v, list) and len(v) > 5 else v
                       for k, v in payload.items()})[:300]


def build_app(state_dir: Path | None = None):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from .paging import Paging
    from .throttle import Throttle

    # Paging sits outside the overlays: they and moto answer whole listings, it cuts AWS's pages (paging.py).
    return Throttle(Paging(SandboxAws(DomainDispatcherApplication(create_backend_app), [cls() for cls in OVERLAYS],
                                      state_dir)))


def warm_up() -> None:
    """Make the backends the seed uses first, so its first calls do not each pay moto's set-up cost."""
    from .overlay import moto_backend

    started = time.monotonic()
    for service, region in WARM:
        try:
            moto_backend(service, region)
        except Exception:  # a warm-up is an optimisation, never a failure
            log.exception("warming %s %s", service, region)
    log.info("backends ready (%.2f s)", time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.aws.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=15000)
    parser.add_argument("--state-dir", type=Path, default=None, help="where the overlay state snapshot is written")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    started = time.monotonic()
    if args.state_dir:
        args.state_dir.mkdir(parents=True, exist_ok=True)

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    app = build_app(args.state_dir)
    try:
        server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as e:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, e.strerror or e)
        return 2

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="aws-server",
                              daemon=True)
    thread.start()
    log.info("listening on http://%s:%s (%.2f s; overlays: %s)", args.host, server.server_port,
             time.monotonic() - started, ", ".join(o.name for o in app.overlays))
    threading.Thread(target=warm_up, name="aws-warm-up", daemon=True).start()
    while not stop.wait(3600):
        pass
    log.info("stopping")
    server.shutdown()
    server.server_close()
    app.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
