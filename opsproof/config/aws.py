from pydantic import HttpUrl

from .base import Section
from .target import AccountId, AwsTarget, KeyProblem


class Aws(AwsTarget):
    """How to reach AWS: the default region and credentials of every section. Credentials come from the usual AWS
    chain (or the profile/role named here), never from this file."""

    region: str = "us-east-1"
    account_id: AccountId | None = None
    """The account every run must be in (sts:GetCallerIdentity, once per run); required for kind "aws"."""
    endpoint_url: HttpUrl | None = None
    """Set for the sandbox (moto's server); leave out for real AWS. For kind "aws" this file is the only place an
    endpoint can come from: AWS_ENDPOINT_URL* variables and endpoint_url in the AWS config file are ignored."""
    sandbox_credentials: bool = False
    """Use throwaway credentials (only meaningful with endpoint_url pointing at the sandbox)."""
    profile: str | None = None
    """A named profile (default: the standard AWS credential chain): the base credentials every role is assumed
    from. Here, unlike in a section, profile and role_arn go together: role_arn is assumed from the profile."""

    def _one_way(self):
        if self.external_id and not self.role_arn:
            raise KeyProblem("external_id", "only meaningful with role_arn")
        return self


class Rds(AwsTarget):
    """The RDS instance(s) the runbook maintains."""

    instance_id: str = "prod-db"
