"""Container images the services run: ECR scan findings by name (for waivers). Whether a reference is pinned is
judged in opsproof/rules/security.py.

    >>> scan = scan_findings(aws("ecr"), ecs.parse_image("1234.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0"))
    >>> scan.status, [f.name for f in scan.findings if f.severity == "CRITICAL"]
    ('COMPLETE', [])

Runbook: "Review for Security Vulnerabilities" (docker scan / trivy) before rebuilding; the deployed image's own
scan is what tells whether production runs something known to be vulnerable.
"""

import datetime as dt
from dataclasses import dataclass, field

from ..connect import aws_call
from ..errors import TargetUnreachable
from .ecs import ImageRef


@dataclass(frozen=True)
class ImageFinding:
    name: str
    severity: str
    package: str
    version: str
    uri: str = ""


FINISHED = ("COMPLETE", "ACTIVE")
"""Scan statuses whose findings are the image's: COMPLETE (basic scanning, one scan) and ACTIVE (enhanced scanning:
Amazon Inspector rescans continuously, so the findings are current and there is no "completed" time). PENDING,
IN_PROGRESS, FAILED, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE, UNSUPPORTED_IMAGE... are not."""


def scan_finished(status: str | None) -> bool:
    """Whether the scan's findings are the image's (see FINISHED).

    >>> scan_finished("ACTIVE"), scan_finished("COMPLETE"), scan_finished("SCAN_ELIGIBILITY_EXPIRED")
    (True, True, False)
    """
    return status in FINISHED


@dataclass
class ImageScan:
    image: str
    status: str
    """COMPLETE (basic) or ACTIVE (enhanced), or NOT_SCANNED / NOT_ECR / NOT_FOUND / FAILED / PENDING..."""
    completed_at: dt.datetime | None = None
    age_days: float | None = None
    counts: dict = field(default_factory=dict)
    findings: list[ImageFinding] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return scan_finished(self.status)


def scan_findings(ecr, ref: ImageRef, now: dt.datetime | None = None) -> ImageScan:
    """The image's latest scan (every page of findings); ``ecr`` is a client in the image's registry region."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if ref.ecr_region is None:
        return ImageScan(ref.image, "NOT_ECR")
    image_id = {"imageTag": ref.tag} if ref.tag else {"imageDigest": ref.digest}
    scan = ImageScan(ref.image, "?")
    token = None
    while True:
        kwargs = {"nextToken": token} if token else {}
        try:
            page = aws_call(f"ecr describe-image-scan-findings {ref.short}", ecr.describe_image_scan_findings,
                            repositoryName=ref.repository, imageId=image_id, maxResults=1000, **kwargs)
        except TargetUnreachable:
            raise
        except Exception as e:  # botocore ClientError: ScanNotFound, ImageNotFound, RepositoryNotFound
            code = getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__
            scan.status = {"ScanNotFoundException": "NOT_SCANNED"}.get(code, f"NOT_FOUND ({code})")
            return scan
        scan.status = page.get("imageScanStatus", {}).get("status", "?")
        found = page.get("imageScanFindings", {}) or {}
        scan.counts = found.get("findingSeverityCounts", {}) or scan.counts
        completed = found.get("imageScanCompletedAt")
        if completed:
            scan.completed_at = completed
            scan.age_days = round((now - completed).total_seconds() / 86400, 1)
        for f in found.get("findings", []) or []:
            attrs = {a.get("key"): a.get("value") for a in f.get("attributes", [])}
            scan.findings.append(ImageFinding(f.get("name", "?"), f.get("severity", "UNDEFINED"),
                                              attrs.get("package_name", ""), attrs.get("package_version", ""),
                                              f.get("uri", "")))
        for f in found.get("enhancedFindings", []) or []:  # Amazon Inspector's enhanced scanning
            if f.get("status", "ACTIVE") != "ACTIVE":  # SUPPRESSED (a suppression rule) or CLOSED (fixed)
                continue
            details = f.get("packageVulnerabilityDetails") or {}
            pkg = (details.get("vulnerablePackages") or [{}])[0]
            scan.findings.append(ImageFinding(
                details.get("vulnerabilityId") or f.get("title", "?"), f.get("severity", "UNDEFINED"),
                pkg.get("name", ""), pkg.get("version", ""), details.get("sourceUrl", "")))
        token = page.get("nextToken")
        if not token:
            return scan
