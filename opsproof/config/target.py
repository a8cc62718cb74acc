"""Where a section's AWS calls go: its own region and credentials, else [aws]'s.

Every AWS-backed section takes the same five optional keys (``AwsTarget``): ``region``, and ``profile`` or
``role_arn`` (+ ``external_id``) with the ``account_id`` those credentials must land in. ``[storage]`` has two
sides, so its keys are prefixed: ``source_*`` and ``replica_*`` (the DR bucket in another account).

    >>> env.aws_target("storage.replica")
    Resolved(section='storage.replica', region='us-west-2', profile=None, role_arn='arn:aws:iam::...', ...)
"""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, model_validator

from ..errors import ConfigError
from .base import Section

AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")]
KEYS = ("region", "profile", "role_arn", "external_id", "account_id")


def file_key(section: str, key: str) -> str:
    """A section's key as written in the file: [storage]'s two sides are prefixed (storage.replica_role_arn)."""
    if section in ("storage.source", "storage.replica"):
        return f"storage.{section.split('.')[1]}_{key}"
    return f"{section}.{key}"


class KeyProblem(ConfigError, ValueError):
    """A section's rule about one of its keys: the loader names section.key, as for a field's own error."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def check_credentials(obj, prefix: str = "") -> None:
    """profile and role_arn are two ways to get credentials: one at most; external_id only with a role."""
    get = lambda k: getattr(obj, prefix + k)  # noqa: E731
    if get("profile") and get("role_arn"):
        raise KeyProblem(f"{prefix}role_arn", f"set {prefix}profile or {prefix}role_arn, not both")
    if get("external_id") and not get("role_arn"):
        raise KeyProblem(f"{prefix}external_id", f"only meaningful with {prefix}role_arn")


class AwsTarget(Section):
    """A section's own AWS region and credentials; each key left out is [aws]'s."""

    region: str | None = None
    """Default: [aws] region."""
    profile: str | None = None
    """A named profile in the AWS config files for this section's calls (default: [aws]'s credentials)."""
    role_arn: RoleArn | None = None
    """A role this section's calls assume from [aws]'s credentials (once per process, cached on disk)."""
    external_id: str | None = None
    """The ExternalId the role's trust policy requires."""
    account_id: AccountId | None = None
    """The account this section's credentials must be in (default: [aws] account_id); verified once per run."""

    @model_validator(mode="after")
    def _one_way(self):
        check_credentials(self)
        return self


@dataclass(frozen=True)
class Resolved:
    """A section's AWS target with [aws]'s defaults filled in: what the client factory needs."""

    section: str
    region: str
    profile: str | None
    role_arn: str | None
    external_id: str | None
    account_id: str | None

    @property
    def credentials(self) -> tuple:
        """Sections with the same credentials share one session (one AssumeRole)."""
        return (self.profile, self.role_arn, self.external_id)

    @property
    def who(self) -> str:
        """The credentials as a person names them."""
        if self.role_arn:
            return f"role {self.role_arn}" + (" (external id)" if self.external_id else "")
        return f"profile {self.profile}" if self.profile else "default credentials"


def resolve(section: str, own: dict, default) -> Resolved:
    """own: the section's five keys (None when unset); default: [aws]. Credentials come as a whole: a section
    naming a profile or a role uses only that; otherwise it uses [aws]'s profile or role."""
    own_creds = own.get("profile") or own.get("role_arn")
    creds = own if own_creds else {k: getattr(default, k) for k in ("profile", "role_arn", "external_id")}
    return Resolved(section=section, region=own.get("region") or default.region, profile=creds.get("profile"),
                    role_arn=creds.get("role_arn"), external_id=creds.get("external_id"),
                    account_id=own.get("account_id") or default.account_id)
