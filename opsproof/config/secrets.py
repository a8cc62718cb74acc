"""The [secrets] section: the Secrets Manager secrets the runbook rotates, their maximum ages, and how the
rotate-db-credentials action does its work (runbook: "Secrets Rotation").

Only names live here. Values are read from Secrets Manager at the last moment and never reach a report.
"""

from typing import Literal

from pydantic import PositiveFloat, PositiveInt, field_validator

from .base import Section
from .target import AwsTarget


class Secret(Section):
    """One secret and what it must satisfy."""

    name: str
    """Name or ARN in Secrets Manager."""
    kind: Literal["database", "api_key", "other"] = "other"
    """database: its AWSCURRENT value is a PostgreSQL URL or the RDS JSON form, and must connect."""
    label: str | None = None
    """How reports name it ("OpenAI API key"); default: its name."""
    max_age_days: PositiveInt = 90
    """Its current value must be younger than this (runbook: database credentials quarterly; AWS Config's
    secretsmanager-secret-periodic-rotation uses 90)."""
    rotation_required: bool = False
    """Secrets Manager's automatic rotation must be enabled for it."""
    region: str | None = None
    """Default: [aws] region."""

    @property
    def shown(self) -> str:
        return self.label or self.name


class Rotation(Section):
    """The rotate-db-credentials action: the runbook's procedure made safe."""

    secret: str = "ai-film-studio/prod/database-url"
    """The database credential's secret (a URL postgresql://user:pw@host:port/db or RDS JSON)."""
    password_via: Literal["rds", "sql"] = "rds"
    """rds: aws rds modify-db-instance --master-user-password (the runbook's way, for the master user);
    sql: ALTER ROLE as the action role (for application roles that are not the master user)."""
    rds_instance: str | None = None
    """Default: [rds] instance_id."""
    password_length: PositiveInt = 32
    ecs_cluster: str = "prod-cluster"
    ecs_services: list[str] = ["backend-service"]
    """Services forced to a new deployment so they pick the new credential up (runbook: backend-service)."""
    settle_timeout_s: PositiveFloat = 120
    """RDS applies a new master password asynchronously: how long the new one may take to connect."""
    deployment_timeout_s: PositiveFloat = 900
    """How long the forced deployment may take to reach a steady state."""
    poll_s: PositiveFloat = 5

    @field_validator("password_length")
    @classmethod
    def _strong(cls, v):
        if v < 20:
            raise ValueError("a generated password shorter than 20 characters is not strong")
        return v


class Secrets(AwsTarget):
    """Secrets Manager secrets and their maximum ages."""

    items: list[Secret] = []
    rotation: Rotation = Rotation()

    def database_secrets(self) -> list[Secret]:
        return [s for s in self.items if s.kind == "database"]


__all__ = ["Rotation", "Secret", "Secrets"]
