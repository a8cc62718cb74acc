from pydantic import HttpUrl

from .base import Section


class Aws(Section):
    """How to reach AWS. Credentials come from the usual AWS chain, never from this file."""

    region: str = "us-east-1"
    endpoint_url: HttpUrl | None = None
    """Set for the sandbox (moto's server); leave out for real AWS."""
    sandbox_credentials: bool = False
    """Use throwaway credentials (only meaningful with endpoint_url pointing at the sandbox)."""
    profile: str | None = None


class Rds(Section):
    """The RDS instance(s) the runbook maintains."""

    instance_id: str = "prod-db"
