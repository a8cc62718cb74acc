"""Secrets Manager secrets: their age, rotation, versions, and whether a database credential actually connects.

    >>> s = describe(aws("secretsmanager"), "ai-film-studio/prod/database-url")
    >>> s.age_days < 90, s.rotation_enabled, s.current_differs_from_previous
    (True, True, True)
    >>> connects(value_of(sm, name), timeout=3).ok        # read-only: connect and SELECT 1
    True

No function here returns or prints a secret's value except ``value_of`` (for ``connects`` and the rotation action);
every value read is registered with opsproof.secrets, so even an error message that quoted it would be masked.
Values are compared by digest only.
"""

import datetime as dt
import hashlib
import json
import time
import urllib.parse
from dataclasses import dataclass

import psycopg

from .. import secrets as registry
from ..connect import aws_call

STAGES = ("AWSCURRENT", "AWSPREVIOUS", "AWSPENDING")


@dataclass(frozen=True)
class SecretInfo:
    name: str
    arn: str
    rotation_enabled: bool
    rotation_days: int | None
    last_rotated: dt.datetime | None
    last_changed: dt.datetime | None
    current_created: dt.datetime | None
    """When the AWSCURRENT value was stored: a manual rotation (put-secret-value) shows here, not in last_rotated."""
    changed: dt.datetime | None
    """The later of last_rotated and current_created: when the value in use last changed."""
    age_days: float | None
    versions: int
    has_previous: bool
    current_differs_from_previous: bool | None
    """None when there is no AWSPREVIOUS (never rotated)."""
    pending: bool
    """An AWSPENDING version other than AWSCURRENT exists (a rotation started and did not finish)."""


def describe(sm, name: str, now: dt.datetime | None = None) -> SecretInfo | None:
    """What Secrets Manager knows about a secret; None when there is no such secret."""
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        d = aws_call(f"secretsmanager describe-secret {name}", sm.describe_secret, SecretId=name)
    except sm.exceptions.ResourceNotFoundException:
        return None
    versions = aws_call(f"secretsmanager list-secret-version-ids {name}", _versions, sm, name)
    by_stage = {stage: v for v in versions for stage in v.get("VersionStages", [])}
    current = by_stage.get("AWSCURRENT", {})
    current_created = current.get("CreatedDate")
    last_rotated = d.get("LastRotatedDate")
    changed = max((t for t in (last_rotated, current_created) if t), default=None)
    has_previous = "AWSPREVIOUS" in by_stage
    differs = None
    if has_previous:
        differs = _digest(sm, name, "AWSCURRENT") != _digest(sm, name, "AWSPREVIOUS")
    pending = "AWSPENDING" in by_stage and by_stage["AWSPENDING"].get("VersionId") != current.get("VersionId")
    return SecretInfo(
        name=d.get("Name", name), arn=d.get("ARN", ""), rotation_enabled=bool(d.get("RotationEnabled")),
        rotation_days=(d.get("RotationRules") or {}).get("AutomaticallyAfterDays"), last_rotated=last_rotated,
        last_changed=d.get("LastChangedDate"), current_created=current_created, changed=changed,
        age_days=round((now - changed).total_seconds() / 86400, 1) if changed else None, versions=len(versions),
        has_previous=has_previous, current_differs_from_previous=differs, pending=pending)


def value_of(sm, name: str, stage: str = "AWSCURRENT", version_id: str | None = None) -> str:
    """A secret's value (registered, so no report can show it). Only for connecting and for the rotation action."""
    kwargs = {"VersionId": version_id} if version_id else {"VersionStage": stage}
    v = aws_call(f"secretsmanager get-secret-value {name} ({version_id or stage})", sm.get_secret_value,
                 SecretId=name, **kwargs)
    value = v.get("SecretString") or ""
    registry.register(value)
    try:
        registry.register(parse_database(value)[1])
    except ValueError:
        pass
    return value


def version_ids(sm, name: str) -> dict[str, str]:
    """{stage: version id} for AWSCURRENT, AWSPREVIOUS and AWSPENDING where present."""
    versions = aws_call(f"secretsmanager list-secret-version-ids {name}", _versions, sm, name)
    return {stage: v["VersionId"] for v in versions for stage in v.get("VersionStages", []) if stage in STAGES}


def _versions(sm, name: str) -> list[dict]:
    """Every page of the secret's versions (NextToken; botocore has no paginator for it)."""
    found, kwargs = [], {"SecretId": name}
    while True:
        page = sm.list_secret_version_ids(**kwargs)
        found += page.get("Versions", [])
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _digest(sm, name: str, stage: str) -> str:
    return hashlib.sha256(value_of(sm, name, stage).encode()).hexdigest()


# ---- database credentials ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DbTarget:
    """Where a database credential points, without its password."""

    user: str
    host: str
    port: int
    dbname: str
    sslmode: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_database(value: str) -> tuple[DbTarget, str]:
    """(target, password) from a PostgreSQL URL (the runbook's form) or the RDS rotation JSON
    {"username", "password", "host", "port", "dbname"}. Raises ValueError (without the value) otherwise.

    >>> parse_database("postgresql://app:pw@db.example:5432/aifilmstudio?sslmode=require")[0].shown
    'app@db.example:5432/aifilmstudio'
    """
    text = value.strip()
    if text.startswith("{"):
        try:
            d = json.loads(text)
        except ValueError:
            raise ValueError("the secret is neither a PostgreSQL URL nor JSON") from None
        try:
            return DbTarget(d["username"], d["host"], int(d.get("port", 5432)), d.get("dbname") or d.get("database")
                            or "postgres", d.get("sslmode")), d["password"]
        except KeyError as e:
            raise ValueError(f"the secret's JSON has no {e.args[0]!r}") from None
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname or parts.password is None:
        raise ValueError("the secret is not a postgresql://user:password@host/db URL")
    query = dict(urllib.parse.parse_qsl(parts.query))
    return DbTarget(urllib.parse.unquote(parts.username or ""), parts.hostname, parts.port or 5432,
                    parts.path.lstrip("/") or "postgres", query.get("sslmode")), urllib.parse.unquote(parts.password)


def with_password(value: str, password: str) -> str:
    """The same credential (URL or JSON, every other field kept) with a new password."""
    text = value.strip()
    if text.startswith("{"):
        d = json.loads(text)
        d["password"] = password
        return json.dumps(d)
    parts = urllib.parse.urlsplit(text)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    netloc = f"{urllib.parse.quote(urllib.parse.unquote(parts.username or ''), safe='')}:" \
             f"{urllib.parse.quote(password, safe='')}@{host}"
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class Connection:
    target: str
    ok: bool
    error: str | None
    elapsed_ms: float
    server_version: str | None = None


def connects(value: str, timeout: float, statement_ms: int = 5000) -> Connection:
    """Log in with the credential and run SELECT 1 in a read-only session; the answer never holds the password."""
    try:
        target, password = parse_database(value)
    except ValueError as e:
        return Connection("(unparseable secret)", False, str(e), 0.0)
    registry.register(password)
    t0 = time.monotonic()
    try:
        with psycopg.connect(host=target.host, port=target.port, dbname=target.dbname, user=target.user,
                             password=password, sslmode=target.sslmode or "prefer",
                             connect_timeout=max(1, round(timeout)), application_name="opsproof-secret-check",
                             options=f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}",
                             autocommit=True) as conn:
            one = conn.execute("SELECT 1").fetchone()[0]
            version = conn.info.parameter_status("server_version")
        ok, error = one == 1, None
    except psycopg.Error as e:
        text = str(e).strip().splitlines()
        ok, error, version = False, registry.redact(text[-1] if text else type(e).__name__), None
    return Connection(target.shown, ok, error, round((time.monotonic() - t0) * 1000, 1), version)


def login(sm, name: str, timeout: float, statement_ms: int = 5000) -> Connection | None:
    """Whether the secret's AWSCURRENT database credential logs in (``connects``); None when there is no such secret."""
    try:
        value = value_of(sm, name)
    except sm.exceptions.ResourceNotFoundException:
        return None
    return connects(value, timeout, statement_ms)
