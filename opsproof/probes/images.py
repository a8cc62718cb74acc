"""Container images the services run, as ECR knows them: references parsed, build time and base image from the
manifest, scan status and findings by name (for waivers). Read-only: Describe*/BatchGetImage only. Whether a
reference is pinned, or a finding acceptable, is judged in opsproof/rules/security.py.

    >>> scan = scan_findings(aws("ecr"), parse_image("1234.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0"))
    >>> scan.status, [f.name for f in scan.findings if f.severity == "CRITICAL"]
    ('COMPLETE', [])

Runbook: "Review for Security Vulnerabilities" (docker scan / trivy) before rebuilding; the deployed image's own
scan is what tells whether production runs something known to be vulnerable.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from ..connect import aws_call
from ..errors import TargetUnreachable
from .timestamps import aware, iso

ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")




# ---- image references -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageRef:
    image: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def ecr_region(self) -> str | None:
        m = ECR_HOST.match(self.registry)
        return m.group(2) if m else None

    @property
    def short(self) -> str:
        return f"{self.repository}:{self.tag}" if self.tag else f"{self.repository}@{self.digest}"


def parse_image(image: str) -> ImageRef:
    """'123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0' → registry, repository 'backend', tag.

    >>> parse_image("python:3.11-slim").short
    'python:3.11-slim'
    """
    rest, digest = (image.split("@", 1) + [None])[:2] if "@" in image else (image, None)
    first = rest.split("/", 1)[0]
    if "/" in rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = rest.split("/", 1)
    else:
        registry, path = "docker.io", rest
    repo, tag = path, None
    if ":" in path.rsplit("/", 1)[-1]:
        repo, tag = path.rsplit(":", 1)
    return ImageRef(image, registry, repo, tag, digest)


def image_matches(ref: ImageRef, expected: str) -> bool:
    """'backend:v1.2.0' matches any registry's backend:v1.2.0; a bare 'v1.2.0' matches the tag only."""
    if ":" not in expected and "/" not in expected:
        return ref.tag == expected
    want = parse_image(expected)
    return want.tag == ref.tag and (ref.repository == want.repository
                                    or ref.repository.endswith("/" + want.repository))


@dataclass
class ImageFacts:
    image: str
    services: list[str]
    pushed_at: str | None = None
    created_at: str | None = None
    """Build time: the manifest's annotation, else the push time."""
    age_days: float | None = None
    base: str | None = None
    scan_status: str | None = None
    findings: dict = field(default_factory=dict)
    problem: str | None = None
    """Why the facts could not be read (not in ECR, no such tag)."""


def image_facts(ecr_client, ref: ImageRef, services_: list[str], created_annotation: str, base_annotation: str,
                now: dt.datetime | None = None) -> ImageFacts:
    """ECR's view of one image: push time, manifest annotations (build time, base image), scan status and
    severity counts. ``ecr_client(region)`` gives a client for the image's registry region."""
    now = now or dt.datetime.now(dt.timezone.utc)
    facts = ImageFacts(ref.image, services_)
    region = ref.ecr_region
    if region is None:
        facts.problem = f"not an ECR image ({ref.registry}): its build and scan cannot be read"
        return facts
    ecr = ecr_client(region)
    image_id = {"imageTag": ref.tag} if ref.tag else {"imageDigest": ref.digest}
    try:
        detail = aws_call(f"ecr describe-images {ref.short}", ecr.describe_images, repositoryName=ref.repository,
                          imageIds=[image_id])["imageDetails"][0]
    except TargetUnreachable:
        raise
    except Exception as e:  # ImageNotFoundException, RepositoryNotFoundException
        facts.problem = f"not found in ECR ({_code(e)})"
        return facts
    pushed = aware(detail.get("imagePushedAt"))
    facts.pushed_at = iso(pushed)
    got = aws_call(f"ecr batch-get-image {ref.short}", ecr.batch_get_image, repositoryName=ref.repository,
                   imageIds=[image_id], acceptedMediaTypes=[
                       "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                       "application/vnd.docker.distribution.manifest.v2+json",
                       "application/vnd.docker.distribution.manifest.list.v2+json"])
    annotations = {}
    if got.get("images"):
        try:
            annotations = json.loads(got["images"][0].get("imageManifest") or "{}").get("annotations") or {}
        except ValueError:
            annotations = {}
    created = _parse_time(annotations.get(created_annotation)) or pushed
    facts.created_at = iso(created) if created else None
    facts.age_days = round((now - created).total_seconds() / 86400, 1) if created else None
    facts.base = annotations.get(base_annotation)
    try:
        scan = aws_call(f"ecr describe-image-scan-findings {ref.short}", ecr.describe_image_scan_findings,
                        repositoryName=ref.repository, imageId=image_id)
        facts.scan_status = scan.get("imageScanStatus", {}).get("status")
        facts.findings = scan.get("imageScanFindings", {}).get("findingSeverityCounts", {}) or {}
    except TargetUnreachable:
        raise
    except Exception as e:
        if _code(e) != "ScanNotFoundException":
            raise
        facts.scan_status = "NOT_SCANNED"
    return facts


def _parse_time(v) -> dt.datetime | None:
    if not v:
        return None
    try:
        t = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _code(e: Exception) -> str:
    return getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__


def same_image(actual: str | None, expected: str) -> bool:
    """Base image names compare without a default registry: 'docker.io/library/python:3.11.8-slim' is
    'python:3.11.8-slim'."""
    def norm(v: str) -> str:
        v = v.removeprefix("docker.io/").removeprefix("index.docker.io/").removeprefix("library/")
        return v.split("@", 1)[0]

    return actual is not None and norm(actual) == norm(expected)


# ---- scans ------------------------------------------------------------------------------------------------------------
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
