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
    aws_attempts: PositiveInt = 2
    """botocore attempts per call (1 = no retry)."""
