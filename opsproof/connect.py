"""Connections to targets, each bounded by the environment's timeouts and failing with one readable line.

    >>> env = config.load("sandbox")
    >>> with database(env) as conn:      # read-only, statement_timeout and lock_timeout set
    ...     conn.execute("select 1").fetchone()
    (1,)
"""

import boto3
import psycopg
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from . import config, secrets
from .errors import TargetUnreachable

SANDBOX_CREDENTIALS = {"aws_access_key_id": "opsproof-sandbox", "aws_secret_access_key": "opsproof-sandbox"}


def database(env: config.Environment, role: str = "check", autocommit: bool = True) -> psycopg.Connection:
    """A session as the check role (read-only) or the action role, with connect, statement and lock timeouts."""
    db = env.database
    if db is None:
        raise config.ConfigError(f"environments/{env.name}.toml: database: section is missing")
    if role == "check":
        user, pw = db.user, secrets.resolve(f"database user {db.user}", db.password_env, _p(env, db.password_file))
    else:
        user, pw = db.action_user, secrets.resolve(f"database user {db.action_user}", db.action_password_env,
                                                   _p(env, db.action_password_file))
    t = env.timeouts
    options = f"-c statement_timeout={t.statement_ms} -c lock_timeout={t.lock_ms}"
    if role == "check":
        options += " -c default_transaction_read_only=on"
    try:
        return psycopg.connect(host=db.host, port=db.port, dbname=db.dbname, user=user, password=pw,
                               sslmode=db.sslmode, connect_timeout=max(1, round(t.connect_s)), options=options,
                               application_name=f"opsproof-{role}", autocommit=autocommit)
    except psycopg.OperationalError as e:
        reason = secrets.redact(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)
        raise TargetUnreachable(
            f"database {db.host}:{db.port}/{db.dbname} as {user}: could not connect within {t.connect_s:g}s "
            f"({reason})"
        ) from None


def _p(env, path):
    return env.path(path) if path is not None else None


def boto_config(env: config.Environment) -> BotoConfig:
    t = env.timeouts
    return BotoConfig(connect_timeout=t.connect_s, read_timeout=t.read_s,
                      retries={"max_attempts": t.aws_attempts, "mode": "standard"})


def aws_client(env: config.Environment, service: str, region: str | None = None):
    """A boto3 client for the environment (sandbox endpoint and throwaway credentials when configured)."""
    a = env.aws
    kwargs = {}
    if a.endpoint_url:
        kwargs["endpoint_url"] = str(a.endpoint_url).rstrip("/")
    if a.sandbox_credentials:
        kwargs.update(SANDBOX_CREDENTIALS)
    session = boto3.session.Session(profile_name=a.profile) if a.profile else boto3.session.Session()
    return session.client(service, region_name=region or a.region, config=boto_config(env), **kwargs)


def aws_call(what: str, fn, *args, **kwargs):
    """Call an AWS API; a dead endpoint or missing permission becomes one readable line."""
    try:
        return fn(*args, **kwargs)
    except EndpointConnectionError as e:
        raise TargetUnreachable(f"AWS {what}: endpoint {e.kwargs.get('endpoint_url', '')} did not answer") from None
    except ClientError as e:
        err = e.response.get("Error", {})
        if err.get("Code") in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            raise TargetUnreachable(f"AWS {what}: access denied ({err.get('Message', '')}); see the README's "
                                    "read-only IAM policy") from None
        raise
    except BotoCoreError as e:
        raise TargetUnreachable(f"AWS {what}: {e}") from None
