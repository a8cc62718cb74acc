"""What the T-24 h phase verifies before a window: every credential the window needs works (the AWS identity, both
database logins, every host, the status page token), each used once. Read-only: logins run one SELECT in a read-only
transaction and disconnect.

    >>> [a.target for a in access(env) if not a.ok]
    []
"""

from dataclasses import dataclass

from .. import config, connect, secrets
from ..connect import aws_call


@dataclass(frozen=True)
class Access:
    target: str
    """What was reached: 'AWS sts', 'database as opsproof_action', 'host local', 'status page'."""
    ok: bool
    detail: str


def aws_identity(env: config.Environment) -> Access:
    try:
        sts = connect.aws_client(env, "sts")
        ident = aws_call("sts get-caller-identity", sts.get_caller_identity)
    except Exception as e:  # noqa: BLE001 - every failure is a finding, not an error
        return Access("AWS identity", False, _why(e))
    # [aws] account_id is verified by every run; the window's own key stays for files that still set it.
    key, want = (("aws.account_id", env.aws.account_id) if env.aws.account_id else
                 ("window.aws_account_id", env.window.aws_account_id))
    if want and ident["Account"] != want:
        return Access("AWS identity", False, f"{ident['Arn']} is in account {ident['Account']}, not {want} ({key})")
    return Access("AWS identity", True, f"{ident['Arn']} (account {ident['Account']})")


def database_login(env: config.Environment, role: str) -> Access:
    db = env.database
    user = db.user if role == "check" else db.action_user
    target = f"database login as {user} ({role} role)"
    try:
        with connect.database(env, role=role, autocommit=False) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            who, version = conn.execute("select current_user, current_setting('server_version')").fetchone()
            conn.rollback()
    except Exception as e:  # noqa: BLE001
        return Access(target, False, _why(e))
    return Access(target, True, f"logged in as {who} to {db.host}:{db.port}/{db.dbname} (PostgreSQL {version})")


def host_reachable(env: config.Environment, spec: str) -> Access:
    """A trivial command on the host, bounded by hosts.command_timeout_s (through probes.hosts, which knows every
    testinfra backend the environment uses, the sandbox's included)."""
    from . import hosts

    try:
        host = hosts.get_host(spec, env)
        out = hosts.bounded(host, "true", lambda: hosts.run(host, "true"), env.hosts.command_timeout_s)
    except Exception as e:  # noqa: BLE001
        return Access(f"host {spec}", False, _why(e))
    if out.rc != 0:
        return Access(f"host {spec}", False, f"`true` exited {out.rc}: {out.stderr.strip()[:120]}")
    return Access(f"host {spec}", True, "a command ran")


def access(env: config.Environment) -> list[Access]:
    """Every credential and path a window needs, each verified by using it once."""
    out = [aws_identity(env)]
    if env.database is not None:
        out += [database_login(env, "check"), database_login(env, "action")]
    out += [host_reachable(env, spec) for spec in env.hosts.specs]
    if env.window.notify.status_page is not None:
        out.append(status_page_token(env))
    return out


def status_page_token(env: config.Environment) -> Access:
    from . import statuspage

    try:
        a = statuspage.api(env)
        n = len(statuspage.maintenances(env, a))
    except Exception as e:  # noqa: BLE001
        return Access("status page API", False, _why(e))
    return Access("status page API", True, f"{a.shown}: token accepted, {n} maintenance(s) listed")


def _why(e: Exception) -> str:
    text = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
    return secrets.redact(text)[:300]
