"""Exceptions opsproof raises on purpose. Each carries a message meant for a person at 3 AM.

    OpsproofError
    ├── ConfigError        bad environment file: names the file and the key (exit code 4)
    ├── TargetUnreachable  a target did not answer within its timeout: names the target and the timeout
    ├── ProbeFailed        a measurement could not be made (a tool missing, an inventory unreadable, a dump broken)
    ├── ActionFailed       a procedure's step did not do what it must (actions/): the window stops there
    ├── DeliveryFailed     a notification, attachment or email was not delivered (recorded, never stops a window)
    └── SecretInEvidence   a secret was handed to the evidence (a bug in a check: refused, never rendered)

Every class raised on purpose anywhere in the tree derives from one of these (tests/unit/test_conventions.py).
"""


class OpsproofError(Exception):
    """Base of every error opsproof raises on purpose."""


class ConfigError(OpsproofError):
    """The environment's configuration is missing or invalid."""


class TargetUnreachable(OpsproofError):
    """A target (database, AWS endpoint, TLS or HTTP endpoint, host) did not answer in time."""


class ProbeFailed(OpsproofError):
    """A probe could not measure what it must: the check fails with this line, not a traceback."""


class ActionFailed(OpsproofError):
    """An action's step failed or its verification did not pass."""


class DeliveryFailed(OpsproofError):
    """A message or file did not reach its destination (status page, chat, change record, mail)."""


class SecretInEvidence(OpsproofError, TypeError):
    """A secret value was passed to the evidence."""
