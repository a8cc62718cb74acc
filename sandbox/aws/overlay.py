"""The overlay machinery: read an AWS request, hand it to moto, and answer with moto's reply or a completed one.

An *overlay* supplies what moto lacks or never changes, behind the same wire protocol. It is a class whose methods
are registered for (service, action) pairs with ``@handles``; a handler gets the :class:`Call` and returns a
:class:`Reply` (usually ``call.forward()`` edited, or a reply built from moto's in-memory backends). Admin routes
(``/_sandbox/<route>``, JSON in and out) are registered with ``@admin``.

    class Ecs(Overlay):
        name = "ecs"

        @handles("ecs", "DescribeServices")
        def describe_services(self, call):
            reply = call.forward()
            ...
            return reply

        @admin("ecs/service")
        def set_service(self, payload): ...

Moto's models are imported lazily inside handlers (see :func:`moto_backend`): importing them all at start-up costs
about a second, and the server must answer within two.
"""

import datetime as dt
import io
import json
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.test import run_wsgi_app

UTC = dt.timezone.utc


class AdminError(Exception):
    """A bad admin request: answered with HTTP ``status`` and ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---- replies ---------------------------------------------------------------------------------------------------
@dataclass
class Reply:
    """A buffered HTTP response: moto's (from :meth:`Call.forward`) or one an overlay built."""

    status: int
    headers: Headers
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def with_json(self, data: Any) -> "Reply":
        return self.with_body(json.dumps(data, default=_json_default).encode())

    def with_body(self, body: bytes) -> "Reply":
        self.body = body
        self.headers["Content-Length"] = str(len(body))
        return self

    def __call__(self, environ, start_response):
        reason = _REASONS.get(self.status, "OK")
        start_response(f"{self.status} {reason}", list(self.headers.items()))
        return [self.body]


_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error"}


def _json_default(o):
    if isinstance(o, dt.datetime):
        return epoch(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def epoch(t: dt.datetime) -> float:
    """A timestamp as the AWS JSON protocols send it: seconds since the epoch."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def json_reply(data: Any, status: int = 200, content_type: str = "application/x-amz-json-1.1") -> Reply:
    body = json.dumps(data, default=_json_default).encode()
    headers = Headers({"Content-Type": content_type, "Content-Length": str(len(body)),
                       "x-amzn-RequestId": str(uuid.uuid4())})
    return Reply(status, headers, body)


def json_error(code: str, message: str, status: int = 400) -> Reply:
    """An error in the AWS JSON protocols (ssm, ecs, acm, ...): botocore raises ClientError with this code."""
    return json_reply({"__type": code, "message": message}, status)


# ---- requests --------------------------------------------------------------------------------------------------
@dataclass
class Call:
    """One AWS request, parsed just enough to route it: service, region, action, S3 bucket/key."""

    environ: dict
    moto: Callable = field(repr=False)

    @cached_property
    def method(self) -> str:
        return self.environ["REQUEST_METHOD"].upper()

    @cached_property
    def path(self) -> str:
        # werkzeug hands PATH_INFO over as latin-1 decoded bytes; keys are UTF-8.
        raw = self.environ.get("PATH_INFO", "")
        try:
            return raw.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return raw

    @cached_property
    def query(self) -> dict[str, str]:
        return {k: v for k, v in urllib.parse.parse_qsl(self.environ.get("QUERY_STRING", ""),
                                                         keep_blank_values=True)}

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)

    @cached_property
    def _scope(self) -> tuple[str | None, str]:
        """(service, region) from the SigV4 credential scope (header or presigned query)."""
        cred = None
        auth = self.header("Authorization") or ""
        if "Credential=" in auth:
            cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        elif "X-Amz-Credential" in self.query:
            cred = self.query["X-Amz-Credential"]
        if cred:
            parts = cred.split("/")
            if len(parts) >= 5:
                return parts[3].lower(), parts[2]
        return None, "us-east-1"

    @property
    def service(self) -> str | None:
        return self._scope[0]

    @property
    def region(self) -> str:
        return self._scope[1]

    @cached_property
    def body(self) -> bytes:
        """The request body, read once; moto then reads the same bytes again."""
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        data = self.environ["wsgi.input"].read(length) if length > 0 else b""
        self.environ["wsgi.input"] = io.BytesIO(data)
        return data

    @cached_property
    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    @cached_property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @cached_property
    def action(self) -> str | None:
        """The API operation: from X-Amz-Target (JSON protocols), the form body (query protocol), or S3's REST."""
        target = self.header("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.service == "s3":
            return s3_action(self)
        ctype = self.environ.get("CONTENT_TYPE", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return self.form.get("Action")
        if "Action" in self.query:
            return self.query["Action"]
        return None

    # ---- S3 path-style addressing (boto3 uses it against an IP endpoint) -----------------------------------------
    @cached_property
    def bucket_key(self) -> tuple[str | None, str | None]:
        parts = self.path.lstrip("/").split("/", 1)
        bucket = parts[0] or None
        key = parts[1] if len(parts) > 1 and parts[1] else None
        return bucket, key

    @property
    def bucket(self) -> str | None:
        return self.bucket_key[0]

    @property
    def key(self) -> str | None:
        return self.bucket_key[1]

    # ---- passing on to moto ----------------------------------------------------------------------------------
    def forward(self) -> Reply:
        app_iter, status, headers = run_wsgi_app(self.moto, self.environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        return Reply(int(status.split(" ", 1)[0]), Headers(headers), body)


def s3_action(call: Call) -> str | None:
    """Name the S3 REST operations the overlays care about; None for the rest."""
    bucket, key = call.bucket_key
    q, m = call.query, call.method
    if not bucket:
        return None
    if key is None:
        if "replication" in q:
            return {"GET": "GetBucketReplication", "PUT": "PutBucketReplication",
                    "DELETE": "DeleteBucketReplication"}.get(m)
        if "delete" in q and m == "POST":
            return "DeleteObjects"
        return None
    subresources = {"acl", "tagging", "retention", "legal-hold", "restore", "attributes", "uploads", "torrent",
                    "select"}
    if subresources & q.keys():
        return None
    if m == "PUT" and "uploadId" not in q:
        return "CopyObject" if call.header("X-Amz-Copy-Source") else "PutObject"
    if m == "POST" and "uploadId" in q:
        return "CompleteMultipartUpload"
    if m in ("GET", "HEAD") and "uploadId" not in q:
        return "GetObject" if m == "GET" else "HeadObject"
    if m == "DELETE" and "uploadId" not in q:
        return "DeleteObject"
    return None


# ---- overlays --------------------------------------------------------------------------------------------------
def handles(service: str, *actions: str):
    """Register an overlay method as the handler of these actions of a service ("*": any action)."""

    def mark(fn):
        fn._handles = [(service, a) for a in actions]
        return fn

    return mark


def admin(route: str):
    """Register an overlay method as the handler of ``POST /_sandbox/<route>`` (payload dict -> result dict)."""

    def mark(fn):
        fn._admin = route
        return fn

    return mark


class Overlay:
    """Base class: a lock, a JSON-able ``state`` dict of overrides, handler and admin registries."""

    name = "overlay"

    def __init__(self):
        self.lock = threading.RLock()
        self.state: dict = self.initial_state()

    def initial_state(self) -> dict:
        return {}

    def reset(self) -> None:
        """Drop every override: back to healthy production."""
        with self.lock:
            self.state = self.initial_state()

    def handlers(self) -> dict[tuple[str, str], Callable]:
        found = {}
        for attr in dir(type(self)):
            fn = getattr(self, attr)
            for pair in getattr(fn, "_handles", ()):
                found[pair] = fn
        return found

    def admin_routes(self) -> dict[str, Callable]:
        found = {}
        for attr in dir(type(self)):
            fn = getattr(self, attr)
            if hasattr(fn, "_admin"):
                found[fn._admin] = fn
        return found


# ---- payload helpers for admin routes ---------------------------------------------------------------------------
def need(payload: dict, key: str, kind: type | tuple = str):
    """A required payload field of the given type, or a 400 naming it."""
    if key not in payload:
        raise AdminError(f"missing field {key!r}")
    value = payload[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise AdminError(f"field {key!r} must be {names}, got {type(value).__name__}")
    return value


def moto_backend(name: str, region: str = "us-east-1"):
    """Moto's in-memory backend for a service in the default account (imported on first use)."""
    import importlib

    from moto.core import DEFAULT_ACCOUNT_ID

    module, attr = _BACKENDS[name]
    backends = getattr(importlib.import_module(module), attr)
    return backends[DEFAULT_ACCOUNT_ID][region]


_BACKENDS = {
    "s3": ("moto.s3.models", "s3_backends"),  # region key is the partition: "aws"
    "ecs": ("moto.ecs.models", "ecs_backends"),
    "ssm": ("moto.ssm.models", "ssm_backends"),
    "ec2": ("moto.ec2.models", "ec2_backends"),
    "elbv2": ("moto.elbv2.models", "elbv2_backends"),
    "rds": ("moto.rds.models", "rds_backends"),
    "acm": ("moto.acm.models", "acm_backends"),
    "cloudfront": ("moto.cloudfront.models", "cloudfront_backends"),  # region key: "aws"
    "secretsmanager": ("moto.secretsmanager.models", "secretsmanager_backends"),
}


def parse_time(value: str | float | int | None, default: dt.datetime | None = None) -> dt.datetime | None:
    """An ISO 8601 string or epoch seconds as an aware datetime."""
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, UTC)
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(f"not an ISO 8601 time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def moto_time(t: dt.datetime) -> dt.datetime:
    """Moto keeps naive UTC datetimes."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t
