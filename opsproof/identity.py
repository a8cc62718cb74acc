"""Who and where a run really checks: the AWS account, caller and endpoints, verified once per run before any check.

    >>> t = verify(config.load("sandbox"))      # raises ConfigError when the caller is in another account
    >>> t.account
    '123456789012'
"""

from dataclasses import asdict, dataclass, field

from . import config, connect
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

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows for the report header, JUnit properties and the maintenance log."""
        rows = [("AWS account", self.account), ("AWS region", self.region), ("AWS caller", self.caller_arn)]
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
    for service in SERVICES:
        connect.aws_client(env, service)
    db = env.database
    return Target(environment=env.name, kind=env.kind, account=ident["Account"], region=env.aws.region,
                  caller_arn=ident["Arn"], endpoints=connect.endpoints_used(),
                  database=f"{db.host}:{db.port}/{db.dbname}" if db else None)
