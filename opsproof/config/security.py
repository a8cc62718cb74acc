"""The [security] section: dependency audits (pip-audit / safety, npm audit) and container image findings
(runbook: "Security Updates", "Container Image Updates"), with waivers that carry a reason.

Vulnerability databases are often out of reach where checks run: each audit then reads a report produced earlier
(in CI) and says so, with the report's age.
"""

import datetime as dt
from pathlib import Path

from pydantic import PositiveFloat, PositiveInt, field_validator

from .base import Section
from .target import AwsTarget

SEVERITIES = ("info", "low", "moderate", "high", "critical")
"""Severity levels, lowest first. npm's names; ECR's INFORMATIONAL/LOW/MEDIUM/HIGH/CRITICAL map onto them."""


def severity_rank(name: str | None) -> int:
    """0 (info) .. 4 (critical); unknown or missing names rank -1.

    >>> severity_rank("HIGH"), severity_rank("medium"), severity_rank("informational"), severity_rank(None)
    (3, 2, 0, -1)
    """
    if not name:
        return -1
    n = name.strip().lower()
    n = {"medium": "moderate", "informational": "info", "important": "high", "undefined": ""}.get(n, n)
    return SEVERITIES.index(n) if n in SEVERITIES else -1


def _severity(v: str) -> str:
    if severity_rank(v) < 0:
        raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
    return v.lower()


class Waiver(Section):
    """An accepted finding: which one, why, and until when."""

    id: str
    """Advisory id (GHSA-..., PYSEC-..., CVE-...), any of the finding's aliases matches."""
    package: str | None = None
    """Limit the waiver to one package (or image repository)."""
    reason: str
    expires: dt.date | None = None
    """After this date the waiver no longer applies (and the check says it expired)."""

    @field_validator("reason")
    @classmethod
    def _reason(cls, v):
        if len(v.strip()) < 10:
            raise ValueError("a waiver needs a reason a reviewer can judge (10 characters at least)")
        return v

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires


class DependencyAudit(Section):
    """One ecosystem's audit: a report produced earlier, and optionally a live command."""

    report: Path | None = None
    """JSON of pip-audit (-f json), safety (--json) or npm audit (--json): the format is recognised."""
    command: list[str] = []
    """Run live first, e.g. ["pip-audit", "-r", "requirements.txt", "-f", "json"]; empty: use the report only.
    When the command fails (no route to the vulnerability database), the report is used and the check says so."""
    command_timeout_s: PositiveFloat = 120
    max_report_age_days: PositiveFloat = 7
    """An older report is stale: the check fails rather than trust it."""
    min_severity: str = "high"
    """Fail on findings at or above this severity (info, low, moderate, high, critical)."""
    unknown_severity: str = "high"
    """Severity assumed for findings without one (pip-audit reports none)."""

    @field_validator("min_severity", "unknown_severity")
    @classmethod
    def _sev(cls, v):
        return _severity(v)


class Images(Section):
    """The images the ECS services of [services.ecs] run: ECR scan findings and pinned tags."""

    min_severity: str = "high"
    """Fail on scan findings at or above this severity (runbook: no CRITICAL/HIGH)."""
    forbidden_tags: list[str] = ["latest"]
    """Tags that move: an image by one of these (or with no tag) is not pinned."""
    require_digest: bool = False
    """Pinned means @sha256:... only (stricter than an immutable version tag)."""
    max_scan_age_days: PositiveInt = 30
    """A scan older than this is stale (new CVEs are published daily)."""

    @field_validator("min_severity")
    @classmethod
    def _sev(cls, v):
        return _severity(v)


class Security(AwsTarget):
    python: DependencyAudit | None = None
    node: DependencyAudit | None = None
    images: Images = Images()
    waivers: list[Waiver] = []


__all__ = ["DependencyAudit", "Images", "SEVERITIES", "Security", "Waiver", "severity_rank"]
