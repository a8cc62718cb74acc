"""ECR image scan findings that describe the image, not moto's canned one.

What moto 5.2.5 does: DescribeImageScanFindings fails (ScanNotFound) until StartImageScan, then answers every
image with the same invented HIGH finding (CVE-9999-9999 in "moto_fake"), so every image looks vulnerable.

What this overlay adds: each image (by repository and digest) has the findings of its last scan-on-push, set by
seed_security.py as production's (a few LOW/MEDIUM ones), and faults can add findings. An image the overlay knows
nothing about answers ScanNotFoundException, as an image never scanned does on AWS.

    POST /_sandbox/ecr/findings {"repository": "backend", "tag": "v1.2.0" | "digest": "sha256:...",
                                 "findings": [{"name": "CVE-2024-1234", "severity": "CRITICAL",
                                               "package_name": "openssl", "package_version": "3.0.2"}],
                                 "baseline": false, "scanned_days_ago": 1, "enhanced": false}
        baseline: true sets what a healthy image has (survives /_sandbox/reset); otherwise the findings are a
        fault's (an override, dropped by reset or by "findings": null).
        enhanced: true answers as a registry with ENHANCED scanning (Amazon Inspector, continuous) does: scan
        status ACTIVE ("the scan is current", not "unfinished"), the findings in imageScanFindings.enhancedFindings
        (Inspector's shape: packageVulnerabilityDetails.vulnerabilityId/vulnerablePackages, status ACTIVE), no
        `findings` and no imageScanCompletedAt. A finding with "status": "SUPPRESSED" or "CLOSED" is listed too.
"""

import datetime as dt
import hashlib

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, json_error, json_reply, need, now

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNDEFINED")


class EcrScans(Overlay):
    name = "ecr-scans"

    def __init__(self):
        super().__init__()
        self.baseline: dict[str, dict] = {}  # "repo@digest" -> {"findings": [...], "scanned": iso}

    def initial_state(self) -> dict:
        return {"images": {}}  # "repo@digest" -> {"findings": [...], "scanned": iso}

    @handles("ecr", "DescribeImageScanFindings")
    def describe(self, call: Call) -> Reply:
        body = call.json
        repo_name = body.get("repositoryName", "")
        image_id = body.get("imageId") or {}
        try:
            repo, image = self._image(repo_name, image_id, call.region)
        except AdminError as e:
            return json_error("ImageNotFoundException" if "image" in str(e) else "RepositoryNotFoundException",
                              str(e))
        key = f"{repo_name}@{image.image_digest}"
        with self.lock:
            scan = self.state["images"].get(key) or self.baseline.get(key)
        if scan is None:
            return json_error("ScanNotFoundException", f"Image scan does not exist for the image with "
                              f"'{image_id}' in the repository with name '{repo_name}' in the registry with id "
                              f"'{repo.registry_id}'")
        counts: dict[str, int] = {}
        for f in scan["findings"]:
            if f.get("status", "ACTIVE") == "ACTIVE":
                counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        if scan.get("enhanced"):
            return json_reply({
                "registryId": repo.registry_id, "repositoryName": repo_name,
                "imageId": {"imageDigest": image.image_digest,
                            "imageTag": image_id.get("imageTag") or image.image_tag},
                "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
                "imageScanFindings": {
                    "findingSeverityCounts": counts,
                    "enhancedFindings": [_enhanced(f, repo, repo_name, image, scan["scanned"])
                                         for f in scan["findings"]],
                },
            })
        return json_reply({
            "registryId": repo.registry_id, "repositoryName": repo_name,
            "imageId": {"imageDigest": image.image_digest, "imageTag": image_id.get("imageTag") or image.image_tag},
            "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
            "imageScanFindings": {
                "imageScanCompletedAt": dt.datetime.fromisoformat(scan["scanned"]),
                "vulnerabilitySourceUpdatedAt": now() - dt.timedelta(hours=6),
                "findingSeverityCounts": counts,
                "findings": [_finding(f) for f in scan["findings"]],
            },
        })

    @staticmethod
    def _image(repo_name: str, image_id: dict, region: str):
        backend = _ecr_backend(region)
        repo = backend.repositories.get(repo_name)
        if repo is None:
            raise AdminError(f"no repository {repo_name!r}", 404)
        tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
        for image in repo.images:
            tags = set(getattr(image, "image_tags", None) or []) | {image.image_tag}
            if (digest and image.image_digest == digest) or (tag and tag in tags):
                return repo, image
        raise AdminError(f"no image {tag or digest} in {repo_name!r}", 404)

    @admin("ecr/findings")
    def set_findings(self, payload: dict) -> dict:
        repo_name = need(payload, "repository")
        _, image = self._image(repo_name, {"imageTag": payload.get("tag"), "imageDigest": payload.get("digest")},
                               payload.get("region", "us-east-1"))
        key = f"{repo_name}@{image.image_digest}"
        findings = payload.get("findings")
        for f in findings or []:
            if f.get("severity") not in SEVERITIES or not f.get("name"):
                raise AdminError(f"each finding needs a name and a severity in {', '.join(SEVERITIES)}")
        scanned = (now() - dt.timedelta(days=float(payload.get("scanned_days_ago", 1)))).isoformat()
        with self.lock:
            target = self.baseline if payload.get("baseline") else self.state["images"]
            if findings is None:
                target.pop(key, None)
            else:
                target[key] = {"findings": findings, "scanned": scanned, "enhanced": bool(payload.get("enhanced"))}
        return {"image": key, "findings": len(findings or [])}


def _finding(f: dict) -> dict:
    attrs = [{"key": "package_name", "value": f.get("package_name", "")},
             {"key": "package_version", "value": f.get("package_version", "")}]
    if f.get("cvss"):
        attrs.append({"key": "CVSS3_SCORE", "value": str(f["cvss"])})
    return {"name": f["name"], "uri": f.get("uri", f"https://nvd.nist.gov/vuln/detail/{f['name']}"),
            "severity": f["severity"], "description": f.get("description", ""), "attributes": attrs}


INSPECTOR_SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNTRIAGED")


def _enhanced(f: dict, repo, repo_name: str, image, scanned: str) -> dict:
    """One Amazon Inspector finding as ECR's DescribeImageScanFindings returns it under enhanced scanning."""
    seen = dt.datetime.fromisoformat(scanned)
    digest = hashlib.sha1(f"{repo_name}/{f['name']}".encode()).hexdigest()[:32]
    arn = f"arn:aws:inspector2:us-east-1:{repo.registry_id}:finding/{digest}"
    severity = f["severity"] if f["severity"] in INSPECTOR_SEVERITIES else "UNTRIAGED"
    return {
        "awsAccountId": repo.registry_id, "description": f.get("description", ""), "findingArn": arn,
        "firstObservedAt": seen, "lastObservedAt": now() - dt.timedelta(hours=1), "updatedAt": seen,
        "packageVulnerabilityDetails": {
            "vulnerabilityId": f["name"], "source": "NVD", "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{f['name']}",
            "cvss": [{"baseScore": float(f["cvss"]), "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                      "source": "NVD", "version": "3.1"}] if f.get("cvss") else [],
            "vulnerablePackages": [{"name": f.get("package_name", ""), "version": f.get("package_version", ""),
                                    "packageManager": "OS"}],
        },
        "remediation": {"recommendation": {"text": "None Provided"}},
        "resources": [{"type": "AWS_ECR_CONTAINER_IMAGE", "id": f"arn:aws:ecr:us-east-1:{repo.registry_id}:"
                       f"repository/{repo_name}/{image.image_digest}"}],
        "score": float(f.get("cvss", 0) or 0), "severity": severity, "status": f.get("status", "ACTIVE"),
        "title": f"{f['name']} - {f.get('package_name', '')}", "type": "PACKAGE_VULNERABILITY",
    }


def _ecr_backend(region: str):
    """Moto's ECR backend (imported on first use; overlay.moto_backend does not list ECR)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecr.models import ecr_backends

    return ecr_backends[DEFAULT_ACCOUNT_ID][region]
