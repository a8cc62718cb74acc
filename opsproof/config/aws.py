from typing import Annotated

from pydantic import Field, HttpUrl

from .base import Section


class Aws(Section):
    """How to reach AWS. Credentials come from the usual AWS chain, never from this file."""

    region: str = "us-east-1"
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    """The account every run must be in (sts:GetCallerIdentity, once per run); required for kind "aws"."""
    endpoint_url: HttpUrl | None = None
    """Set for the sandbox (moto's server); leave out for real AWS. For kind "aws" this file is the only place an
    endpoint can come from: AWS_ENDPOINT_URL* variables and endpoint_url in the AWS config file are ignored."""
    sandbox_credentials: bool = False
    """Use throwaway credentials (only meaningful with endpoint_url pointing at the sandbox)."""
    profile: str | None = None


class Rds(Section):
    """The RDS instance(s) the runbook maintains."""

    instance_id: str = "prod-db"
