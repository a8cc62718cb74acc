"""The [infrastructure] section: OS patching through AWS Systems Manager, container images, Terraform (runbook:
"Infrastructure Updates"). Defaults are the runbook's own commands' values."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from .base import Section
from .target import AwsTarget

SEVERITIES = ("Critical", "Important", "Medium", "Low", "None")
SCAN_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")


class PatchBaseline(Section):
    """`aws ssm create-patch-baseline --name AI-Film-Studio-Baseline --operating-system AMAZON_LINUX_2
    --approval-rules PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=CLASSIFICATION,Values=Security},
    {Key=SEVERITY,Values=Critical,Important}]},ApproveAfterDays=7}]`"""

    name: str = "AI-Film-Studio-Baseline"
    operating_system: str = "AMAZON_LINUX_2"
    classifications: list[str] = ["Security"]
    severities: list[str] = ["Critical", "Important"]
    approve_after_days: Annotated[int, Field(ge=0, le=360)] = 7

    @field_validator("severities")
    @classmethod
    def _sev(cls, v):
        bad = [s for s in v if s not in SEVERITIES]
        if bad:
            raise ValueError(f"unknown severities {bad} (known: {', '.join(SEVERITIES)})")
        return v


class PatchWindow(Section):
    """`aws ssm create-maintenance-window --name AI-Film-Studio-Patching --schedule "cron(0 4 ? * SUN *)"
    --duration 4 --cutoff 1`"""

    name: str = "AI-Film-Studio-Patching"
    schedule: str = "cron(0 4 ? * SUN *)"
    duration_h: Annotated[int, Field(ge=1, le=24)] = 4
    cutoff_h: NonNegativeInt = 1


class Patching(Section):
    baseline: PatchBaseline = PatchBaseline()
    window: PatchWindow = PatchWindow()
    patch_group: str = "gpu-workers"
    """Instances tagged 'Patch Group' = this must be compliant and patched in the window's latest run."""
    min_instances: NonNegativeInt = 1
    """A patch group with fewer managed instances than this fails (nothing reports: nothing is proven)."""
    pending_reboot_fails: bool = True
    """Patches installed but waiting for a reboot count as non-compliant (SSM's default)."""


class Images(Section):
    """Deployed container images (runbook: "Rebuild with Updated Base Images", "Scan Docker images"). The images
    are those of the ECS services in [services.ecs]; their base and build time come from the OCI manifest
    annotations (docker buildx build --annotation ... or --provenance)."""

    base_image: str | None = None
    """The current base image, e.g. 'python:3.11.8-slim' (runbook: FROM python:3.11-slim -> python:3.11.8-slim);
    unset: the base is not compared."""
    max_age_days: PositiveInt = 30
    """An image built longer ago than this is stale (base images get security fixes at least monthly)."""
    base_annotation: str = "org.opencontainers.image.base.name"
    created_annotation: str = "org.opencontainers.image.created"
    """Build time; ECR's imagePushedAt is used where the manifest has none."""
    fail_on_severities: list[str] = ["CRITICAL"]
    """Scan findings of these severities fail the scan check (the scan must have finished in any case)."""

    @field_validator("fail_on_severities")
    @classmethod
    def _sev(cls, v):
        bad = [s for s in v if s not in SCAN_SEVERITIES]
        if bad:
            raise ValueError(f"unknown severities {bad} (known: {', '.join(SCAN_SEVERITIES)})")
        return v


class Terraform(Section):
    """`terraform plan` in each directory reports no drift; versions within constraints."""

    directories: list[Path] = []
    """Initialised Terraform root modules (relative to the project folder, or "{sandbox}/...")."""
    binary: str = "terraform"
    when_missing: Literal["fail", "skip"] = "fail"
    """What the checks do where the terraform binary is not installed."""
    timeout_s: PositiveFloat = 600.0
    """Bound of one `terraform plan` (a refresh reads every resource)."""
    refresh: bool = True
    """Compare against the real infrastructure (refresh), not only the state."""
    versions: dict[str, str] = {"terraform": ">= 1.6.0"}
    """Version constraints in Terraform's syntax: "terraform" for the CLI itself, provider sources
    ("hashicorp/aws" or "registry.terraform.io/hashicorp/aws") for the providers the lock file selects."""

    @field_validator("versions")
    @classmethod
    def _constraints(cls, v):
        from ..probes.terraform import parse_constraint

        for name, c in v.items():
            try:
                parse_constraint(c)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
        return v


class Infrastructure(AwsTarget):
    patching: Patching = Patching()
    images: Images = Images()
    terraform: Terraform = Terraform()
