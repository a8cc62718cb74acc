"""Who and where a run really checks: the AWS account, caller and endpoints, verified once per run before any check.

    >>> t = verify(config.load("sandbox"))      # raises ConfigError when the caller is in another account
    >>> t.account
    '123456789012'
"""

from dataclasses import asdict, dataclass, field

from . import config, connect
from .config.target import file_key
from .errors import ConfigError, OpsproofError

SERVICES = ("rds", "s3", "acm", "elbv2", "cloudfront", "ecs", "ecr", "ssm", "ec2", "secretsmanager", "cloudwatch",
            "application-autoscaling")
"""The services the checks call: their endpoints (resolved, not contacted) go into the report."""


@dataclass(frozen=True)
class Target:
    environment: str
    kind: str
    account: str
    region: str
    caller_arn: str
    endpoints: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    identities: list[dict] = field(default_factory=list)
    """Each section's own credentials (a profile or role other than [aws]'s): sections, credentials, account, ARN."""
    regions: dict[str, str] = field(default_factory=dict)
    """Sections whose region is not [aws] region: section -> region."""

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows for the report header, JUnit properties and the maintenance log."""
        rows = [("AWS account", self.account), ("AWS region", self.region), ("AWS caller", self.caller_arn)]
        for i in self.identities:
            rows.append((f"AWS caller ({', '.join(i['sections'])})", f"{i['arn']} (account {i['account']})"))
        if self.regions:
            rows.append(("AWS regions", ", ".join(f"{s} {r}" for s, r in self.regions.items())))
        if self.database:
            rows.append(("Database", self.database))
        distinct = sorted(set(self.endpoints.values()))
        rows.append(("AWS endpoints", ", ".join(distinct) if len(distinct) == 1 else
                     "; ".join(f"{svc} {url}" for svc, url in self.endpoints.items())))
        return rows


def verify(env: config.Environment) -> Target | None:
    """sts:GetCallerIdentity once; the account must be [aws] account_id. Any failure is one line (ConfigError:
    the run must not start)."""
    try:
        # Two attempts at most: a stalled endpoint stops the run within 2 x read_s, not after every retry.
        sts = connect.aws_client(env, "sts", attempts=min(2, env.timeouts.aws_attempts))
        ident = connect.aws_call("sts:GetCallerIdentity", sts.get_caller_identity)
    except ConfigError:
        raise
    except OpsproofError as e:
        if env.is_sandbox:  # a stopped sandbox is its checks' red, one line each, not a refusal to run
            return None
        raise ConfigError(f"{env.file}: aws: the AWS identity could not be verified before the run: {e}") from None
    want = env.aws.account_id
    if want and ident["Account"] != want:
        raise ConfigError(f"{env.file}: aws.account_id: the credentials are {ident['Arn']} in account "
                          f"{ident['Account']}, not {want}: this run would check the wrong system")
    identities = [_verify_section(env, sections) for sections in _own_credentials(env)]
    for service in SERVICES:
        connect.aws_client(env, service)
    db = env.database
    regions = {s: t.region for s, t in env.aws_targets().items() if t.region != env.aws.region}
    return Target(environment=env.name, kind=env.kind, account=ident["Account"], region=env.aws.region,
                  caller_arn=ident["Arn"], endpoints=connect.endpoints_used(),
                  database=f"{db.host}:{db.port}/{db.dbname}" if db else None, identities=identities, regions=regions)


def _own_credentials(env: config.Environment) -> list[list[str]]:
    """Sections grouped by credentials, for every credentials (and expected account) other than [aws]'s."""
    default = env.aws_target("aws")
    groups: dict[tuple, list[str]] = {}
    for section, t in env.aws_targets().items():
        if (t.credentials, t.account_id) != (default.credentials, default.account_id):
            groups.setdefault((t.credentials, t.account_id), []).append(section)
    return list(groups.values())


def _verify_section(env: config.Environment, sections: list[str]) -> dict:
    """A section's own profile or role: assumed now, in the controller (the cache then serves the workers), and
    in the account the section names (its account_id), else [aws] account_id: a role that lands in any other
    account would check the wrong system."""
    section = sections[0]
    t = env.aws_target(section)
    creds_key = file_key(section, "role_arn" if t.role_arn else "profile")
    try:
        sts = connect.aws_client(env, "sts", section, attempts=min(2, env.timeouts.aws_attempts))
        ident = connect.aws_call(f"sts:GetCallerIdentity ({t.who})", sts.get_caller_identity)
    except ConfigError:
        raise
    except OpsproofError as e:
        raise ConfigError(f"{env.file}: {creds_key}: {t.who} could not be verified before the run: {e}") from None
    if t.account_id and ident["Account"] != t.account_id:
        own = t.account_id != env.aws.account_id
        key = file_key(section, "account_id") if own else creds_key
        hint = "" if own else f" (set {file_key(section, 'account_id')} if that account is intended)"
        raise ConfigError(f"{env.file}: {key}: {t.who} is {ident['Arn']} in account {ident['Account']}, not "
                          f"{t.account_id}: this run would check the wrong system{hint}")
    return {"sections": sections, "credentials": t.who, "account": ident["Account"], "arn": ident["Arn"]}
