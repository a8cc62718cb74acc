from pydantic import PositiveFloat, PositiveInt

from .base import Section


class Timeouts(Section):
    """Every network call is bounded by one of these."""

    connect_s: PositiveFloat = 3.0
    """TCP/TLS/database connect timeout."""
    read_s: PositiveFloat = 10.0
    """HTTP and AWS read timeout."""
    statement_ms: PositiveInt = 10_000
    """statement_timeout of check sessions."""
    lock_ms: PositiveInt = 2_000
    """lock_timeout of check sessions (and of actions' DDL)."""
    check_s: PositiveInt = 120
    """pytest-timeout for one check: the last line of defence."""
    aws_attempts: PositiveInt = 8
    """Attempts per AWS call, the first included (1 = no retry), in botocore's adaptive retry mode: throttling and
    transient errors are retried with exponential backoff (capped at 20 s a wait) and the client slows itself down."""
    aws_concurrency: dict[str, PositiveInt] = {"acm": 4, "ecr": 4, "ssm": 4, "secretsmanager": 4}
    """Requests in flight at once per AWS service, shared by every thread of a process (ACM's DescribeCertificate
    allows 10 a second per account and region); a service not named here is not capped."""
