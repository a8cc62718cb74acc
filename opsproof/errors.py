"""Exceptions opsproof raises on purpose. Each carries a message meant for a person at 3 AM.

    OpsproofError
    ├── ConfigError        bad environment file: names the file and the key (exit code 4)
    └── TargetUnreachable  a target did not answer within its timeout: names the target and the timeout
"""


class OpsproofError(Exception):
    """Base of every error opsproof raises on purpose."""


class ConfigError(OpsproofError):
    """The environment's configuration is missing or invalid."""


class TargetUnreachable(OpsproofError):
    """A target (database, AWS endpoint, TLS or HTTP endpoint, host) did not answer in time."""
