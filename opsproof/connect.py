"""Connections to targets, each bounded by the environment's timeouts and failing with one readable line.

    >>> env = config.load("sandbox")
    >>> with database(env) as conn:      # read-only, statement_timeout and lock_timeout set
    ...     conn.execute("select 1").fetchone()
    (1,)
"""

import os
import threading
import time
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config as BotoConfig
from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError,
                                 NoCredentialsError, ProfileNotFound, ReadTimeoutError, SSLError)

from . import config, guard, recording, secrets
from .config.target import file_key
from .errors import TargetUnreachable

SANDBOX_CREDENTIALS = {"aws_access_key_id": "opsproof-sandbox", "aws_secret_access_key": "opsproof-sandbox"}


def database(env: config.Environment, role: str = "check", autocommit: bool = True) -> psycopg.Connection:
    """A session as the check role (read-only) or the action role, with connect, statement and lock timeouts."""
    db = env.database
    if db is None:
        raise config.ConfigError(f"{env.file}: database: section is missing")
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
        raise TargetUnreachable(f"database {db.host}:{db.port}/{db.dbname} as {user}: "
                                f"{_db_failure(str(e), t.connect_s)} ({reason})") from None


def _db_failure(text: str, connect_s: float) -> str:
    """What happened, in the words a person acts on: the fix for each is different."""
    t = text.lower()
    if "password authentication failed" in t or "authentication failed" in t or "no password supplied" in t \
            or "no pg_hba.conf entry" in t:
        return "authentication failed"
    if "does not exist" in t and ("database" in t or "role" in t):
        return "refused the login"
    if "ssl" in t or "certificate" in t or "tls" in t:
        return "TLS failed"
    if "connection refused" in t:
        return "connection refused (nothing listens there)"
    if "timeout" in t or "timed out" in t:
        return f"timed out after {connect_s:g}s"
    if "could not translate host name" in t or "name or service not known" in t:
        return "host name does not resolve"
    return f"could not connect within {connect_s:g}s"


def _p(env, path):
    return env.path(path) if path is not None else None


def boto_config(env: config.Environment, attempts: int | None = None) -> BotoConfig:
    t = env.timeouts
    # total_max_attempts counts the first attempt (botocore's max_attempts does not: "1" would mean one retry).
    # Endpoints from AWS_ENDPOINT_URL* and ~/.aws/config are never used: only this file can name one.
    return BotoConfig(connect_timeout=t.connect_s, read_timeout=t.read_s,
                      retries={"total_max_attempts": attempts or t.aws_attempts, "mode": "adaptive"},
                      ignore_configured_endpoint_urls=True)


_lock = threading.Lock()
_sessions: dict[tuple, boto3.session.Session] = {}
_clients: dict[tuple, object] = {}
_caps: dict[tuple, threading.BoundedSemaphore] = {}
_bases: dict[tuple, boto3.session.Session] = {}
"""Base credentials (profile or chain) before the sandbox-key refusal: never handed to a client directly."""
_creating = threading.RLock()


def aws_session(env: config.Environment, section: str = "aws") -> boto3.session.Session:
    """The boto3 session of a section's credentials in this process: sections with the same profile/role share
    one, so credentials resolve once per distinct role (one AssumeRole, one MFA prompt) and every client shares
    them. Assumed roles are cached on disk by botocore's own cache (as the AWS CLI does), so xdist workers and
    later runs reuse them until they expire."""
    t = env.aws_target(section)
    key = (str(env.source), repr(env.aws), t.credentials)
    with _lock:
        if key in _sessions:
            return _sessions[key]
    with _creating:  # threads asking for the same new role wait for one AssumeRole, not one each
        with _lock:
            if key in _sessions:
                return _sessions[key]
        session = _role_session(env, t) if t.role_arn else _profile_session(
            env, t.profile, "aws.profile" if t.profile == env.aws.profile else file_key(t.section, "profile"))
        if not env.is_sandbox:
            creds = session.get_credentials()
            if creds is None:
                raise TargetUnreachable("AWS: no credentials found (environment, profile, SSO or instance role); "
                                        f"see the README: pointing it at a real environment ({env.file})")
            guard.refuse_sandbox_credentials(env, creds.access_key, creds.method)
        with _lock:
            return _sessions.setdefault(key, session)


def _profile_session(env: config.Environment, profile: str | None, where: str = "aws.profile"):
    """The base credentials: the sandbox's keys, a named profile, or the standard chain."""
    key = (str(env.source), repr(env.aws), profile)
    with _lock:
        if key in _bases:
            return _bases[key]
    if env.aws.sandbox_credentials:
        session = boto3.session.Session(**SANDBOX_CREDENTIALS)
    else:
        try:
            session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
        except ProfileNotFound:
            raise config.ConfigError(f"{env.file}: {where}: no profile {profile!r} in the AWS config files") from None
        provider = session._session.get_component("credential_provider").get_provider("assume-role")
        if provider is not None:  # a role profile (role_arn + source_profile in ~/.aws/config)
            provider.cache = _role_cache(env)
    if not env.is_sandbox:
        # botocore's own clients (a role profile's STS call) must not follow AWS_ENDPOINT_URL* either.
        session._session.set_config_variable("ignore_configured_endpoint_urls", True)
    with _lock:
        return _bases.setdefault(key, session)


def _role_session(env: config.Environment, t: config.Resolved) -> boto3.session.Session:
    """A session whose credentials are botocore's own assume-role machinery (AssumeRoleCredentialFetcher with
    the on-disk JSONFileCache, refreshed before expiry), from [aws]'s base credentials (profile or chain)."""
    import botocore.session
    from botocore.credentials import (AssumeRoleCredentialFetcher, CredentialProvider, CredentialResolver,
                                      DeferredRefreshableCredentials)

    base = _profile_session(env, env.aws.profile)
    source = base.get_credentials()
    if source is None:
        raise TargetUnreachable(f"AWS: no credentials found to assume {t.role_arn} from (environment, profile, SSO "
                                f"or instance role); see the README: pointing it at a real environment ({env.file})")
    if not env.is_sandbox:
        guard.refuse_sandbox_credentials(env, source.access_key, source.method)
    extra = {"RoleSessionName": f"opsproof-{env.name}"[:64]}
    if t.external_id:
        extra["ExternalId"] = t.external_id

    def sts_client(service, **kwargs):
        client = base._session.create_client(service, region_name=env.aws.region, config=boto_config(env),
                                             **_endpoint(env), **kwargs)
        _instrument(client, None, f"assume-role:{t.role_arn}", env)
        return client

    fetcher = AssumeRoleCredentialFetcher(sts_client, source, t.role_arn, extra_args=extra, cache=_role_cache(env))

    class Provider(CredentialProvider):
        METHOD = "assume-role"

        def load(self):
            return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method=self.METHOD)

    core = botocore.session.Session()
    if not env.is_sandbox:
        core.set_config_variable("ignore_configured_endpoint_urls", True)
    core.register_component("credential_provider", CredentialResolver([Provider()]))
    return boto3.session.Session(botocore_session=core)


def _role_cache(env: config.Environment):
    """botocore's JSONFileCache, shared by every process of this user (the controller assumes, workers read).
    Its keys are the AssumeRole arguments only, so each endpoint (AWS, each sandbox) gets a folder of its own:
    a sandbox's fake credentials are never offered to AWS, nor AWS's to a sandbox."""
    import hashlib

    from botocore.utils import JSONFileCache

    root = Path(os.environ.get("OPSPROOF_AWS_CACHE", Path.home() / ".cache" / "opsproof" / "aws"))
    where = str(env.aws.endpoint_url or "aws")
    return JSONFileCache(root / hashlib.sha1(where.encode()).hexdigest()[:12] if env.aws.endpoint_url else root)


def _endpoint(env: config.Environment) -> dict:
    return {"endpoint_url": str(env.aws.endpoint_url).rstrip("/")} if env.aws.endpoint_url else {}


def aws_client(env: config.Environment, service: str, section: str = "aws", region: str | None = None,
               attempts: int | None = None):
    """A section's boto3 client for a service (in the section's region unless ``region`` is given), made once per
    process and shared by its threads (clients are thread-safe). The section's own region and credentials, else
    [aws]'s (env.aws_target)."""
    t = env.aws_target(section)
    region = region or t.region
    key = (str(env.source), repr(env.aws), repr(env.timeouts), section, t.credentials, service, region, attempts)
    with _lock:
        if key in _clients:
            return _clients[key]
    session = aws_session(env, section)
    with _lock:
        if key not in _clients:
            client = session.client(service, region_name=region, config=boto_config(env, attempts), **_endpoint(env))
            cap = env.timeouts.aws_concurrency.get(service)
            # AWS's rate limits are per account and region: one cap for every client of the same API and target.
            sem = _caps.setdefault((service, region, t.credentials, cap), threading.BoundedSemaphore(cap)) \
                if cap else None
            _instrument(client, sem, section, env)
            _clients[key] = client
        return _clients[key]


def endpoints_used() -> dict[str, str]:
    """service (region) -> endpoint URL of every client this process made: the report shows where it went."""
    with _lock:
        return {f"{k[5]} ({k[6]})": c.meta.endpoint_url for k, c in sorted(_clients.items(), key=str)}


def _instrument(client, sem: threading.BoundedSemaphore | None, section: str, env: config.Environment) -> None:
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    events.register_first(f"needs-retry.{service}", _dead_endpoint_fails_fast)
    events.register("before-call", _started)
    events.register("after-call", _elapsed)
    if sem is not None:
        events.register("before-send", lambda **_: sem.acquire() and None)
        events.register("response-received", lambda **_: sem.release())
    recording.register(client, section)  # only when OPSPROOF_RECORD_CALLS names a file (the project's tests)


def _dead_endpoint_fails_fast(attempts=0, caught_exception=None, **_):
    """Throttling earns every attempt; an endpoint that refuses, or does not answer, gets one retry: a dead target
    fails in seconds, not after a minute of backoff. Raising here ends botocore's retry loop with that error."""
    if isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)) \
            and attempts >= 2:
        raise caught_exception


def _started(context=None, **_):
    if context is not None:
        context.setdefault("opsproof_started", time.monotonic())


def _elapsed(parsed=None, context=None, **_):
    if parsed is not None and "Error" in parsed and context and "opsproof_started" in context:
        parsed.setdefault("ResponseMetadata", {})["OpsproofElapsedS"] = time.monotonic() - context["opsproof_started"]


THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"})
"""botocore's own list of throttling error codes (botocore/retries/standard.py)."""
AUTH_FAILED = frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                         "ExpiredToken", "ExpiredTokenException", "AuthFailure", "InvalidAccessKeyId",
                         "InvalidSignatureException"})


def explain(e: BaseException, what: str = "") -> str | None:
    """One line for a person at 3 AM about an AWS failure, or None when it is not one of the known kinds."""
    if isinstance(e, ClientError):
        err, meta = e.response.get("Error", {}), e.response.get("ResponseMetadata", {})
        code, op = err.get("Code", ""), what or e.operation_name
        if code in THROTTLING:
            waited = meta.get("OpsproofElapsedS")
            return (f"AWS {op}: throttled ({code}) after {meta.get('RetryAttempts', 0) + 1} attempt(s)"
                    + (f" over {waited:.1f} s" if waited is not None else "")
                    + "; the budget is timeouts.aws_attempts (adaptive retries, waits up to 20 s each)")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return f"AWS {op}: access denied ({err.get('Message', '')}); see the README's read-only IAM policy"
        if code in AUTH_FAILED:
            return f"AWS {op}: authentication failed ({code}: {err.get('Message', '')})"
        return None
    for kind, template in _TRANSPORT:
        if isinstance(e, kind):
            return f"AWS {what}: " + template.format(url=e.kwargs.get("endpoint_url", ""),
                                                     error=e.kwargs.get("error", ""), e=e)
    return None


# Most specific first: each botocore transport failure with what a person does about it.
_TRANSPORT = (
    (ConnectTimeoutError, "connect to {url} timed out"),
    (ReadTimeoutError, "{url} accepted the connection but did not answer in time"),
    (SSLError, "TLS failed with {url} ({error})"),
    (EndpointConnectionError, "endpoint {url} refused or could not be reached"),
    (NoCredentialsError, "no credentials found (environment, profile, SSO or instance role)"),
    (BotoCoreError, "{e}"),
)


def aws_call(what: str, fn, *args, **kwargs):
    """Call an AWS API; a dead endpoint, throttling past the budget or a missing permission becomes one line."""
    try:
        return fn(*args, **kwargs)
    except (ClientError, BotoCoreError) as e:
        line = explain(e, what)
        if line is None:
            raise
        raise TargetUnreachable(line) from None
