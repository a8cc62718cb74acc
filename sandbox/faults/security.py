"""Faults of security updates: dependency audits and container images (the runbook's "Security Updates")."""

import json

from ..aws import admin
from ..aws.seed import ECR_REGISTRY, ECS_CLUSTER, IMAGE_TAG
from . import fault


def _notes(sb) -> dict:
    try:
        return json.loads((sb.dir / "faults-security.json").read_text())
    except FileNotFoundError:
        return {}


def _note(sb, **kw) -> None:
    notes = {**_notes(sb), **kw}
    path = sb.dir / "faults-security.json"
    path.write_text(json.dumps(notes))


VULNERABLE_PYTHON = {"name": "requests", "version": "2.31.0", "vulns": [{
    "id": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"], "fix_versions": ["2.32.0"],
    "description": "Session verify=False persists for later requests to the same origin."}]}
VULNERABLE_NODE = {"axios": {
    "name": "axios", "severity": "high", "isDirect": True, "range": "1.3.2 - 1.7.3", "nodes": ["node_modules/axios"],
    "effects": [], "fixAvailable": {"name": "axios", "version": "1.7.4", "isSemVerMajor": False},
    "via": [{"source": 1097679, "name": "axios", "dependency": "axios",
             "title": "Server-Side Request Forgery in axios", "url": "https://github.com/advisories/GHSA-8hc4-vh64-cxmj",
             "severity": "high", "cwe": ["CWE-918"], "cvss": {"score": 7.5}, "range": ">=1.3.2 <=1.7.3"}]}}


@fault("vulnerable-dependency", area="security", part="aws")
class VulnerableDependency:
    """CI's audit reports show requests 2.31.0 (GHSA-9wx4-h78v-vm56) and axios 1.7.2 (GHSA-8hc4-vh64-cxmj, high)."""

    def apply(self, sb):
        from ..aws.seed_security import audit_dir, write_audit_reports

        write_audit_reports(audit_dir(sb), python_extra=[VULNERABLE_PYTHON], node_extra=VULNERABLE_NODE)

    def heal(self, sb):
        from ..aws.seed_security import audit_dir, write_audit_reports

        write_audit_reports(audit_dir(sb))


CRITICAL_FINDING = {"name": "CVE-2023-38545", "severity": "CRITICAL", "package_name": "libcurl4",
                    "package_version": "7.88.1-10", "cvss": 9.8,
                    "description": "SOCKS5 heap buffer overflow in curl/libcurl"}


@fault("critical-image-finding", area="security", part="aws")
class CriticalImageFinding:
    """The deployed backend image's latest scan finds CVE-2023-38545 (CRITICAL) in libcurl4."""

    def apply(self, sb):
        from ..aws.seed_security import IMAGE_FINDINGS

        admin.post(sb.endpoint_url, "ecr/findings", {"repository": "backend", "tag": IMAGE_TAG, "scanned_days_ago": 0,
                                                     "findings": IMAGE_FINDINGS["backend"] + [CRITICAL_FINDING]})

    def heal(self, sb):
        admin.post(sb.endpoint_url, "ecr/findings", {"repository": "backend", "tag": IMAGE_TAG, "findings": None})


def _enhanced(sb, repo: str, findings: list[dict]) -> None:
    admin.post(sb.endpoint_url, "ecr/findings", {"repository": repo, "tag": IMAGE_TAG, "scanned_days_ago": 20,
                                                 "enhanced": True, "findings": findings})


SUPPRESSED_FINDING = {**CRITICAL_FINDING, "name": "CVE-2023-38546", "status": "SUPPRESSED"}
"""A finding a suppression rule hides in Inspector: listed, not counted."""


@fault("image-enhanced-scanning", area="security", part="aws")
class ImageEnhancedScanning:
    """The registry switched to ENHANCED scanning: both deployed images answer scan status ACTIVE with their usual
    LOW/MEDIUM findings in enhancedFindings (plus a suppressed CRITICAL one). Healthy: the image checks pass."""

    def apply(self, sb):
        from ..aws.seed_security import IMAGE_FINDINGS

        for repo in ("backend", "worker"):
            _enhanced(sb, repo, IMAGE_FINDINGS[repo] + ([SUPPRESSED_FINDING] if repo == "backend" else []))

    def heal(self, sb):
        for repo in ("backend", "worker"):
            admin.post(sb.endpoint_url, "ecr/findings", {"repository": repo, "tag": IMAGE_TAG, "findings": None})


@fault("image-enhanced-critical-finding", area="security", part="aws")
class ImageEnhancedCriticalFinding:
    """Under ENHANCED scanning (status ACTIVE), Inspector finds CVE-2023-38545 (CRITICAL) in the deployed backend
    image's libcurl4: in enhancedFindings, not findings."""

    def apply(self, sb):
        from ..aws.seed_security import IMAGE_FINDINGS

        _enhanced(sb, "backend", IMAGE_FINDINGS["backend"] + [CRITICAL_FINDING])

    def heal(self, sb):
        admin.post(sb.endpoint_url, "ecr/findings", {"repository": "backend", "tag": IMAGE_TAG, "findings": None})


@fault("unpinned-image-tag", area="security", part="aws")
class UnpinnedImageTag:
    """backend-service runs a new task definition whose image is backend:latest (a moving tag)."""

    SERVICE, FAMILY = "backend-service", "backend"

    def apply(self, sb):
        ecs, ecr = sb.client("ecs"), sb.client("ecr")
        svc = ecs.describe_services(cluster=ECS_CLUSTER, services=[self.SERVICE])["services"][0]
        current = svc["taskDefinition"]
        td = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        manifest = ecr.batch_get_image(repositoryName=self.FAMILY, imageIds=[{"imageTag": IMAGE_TAG}])["images"][0]
        try:
            ecr.put_image(repositoryName=self.FAMILY, imageManifest=manifest["imageManifest"], imageTag="latest")
        except ecr.exceptions.ImageAlreadyExistsException:
            pass
        containers = [{**c, "image": f"{ECR_REGISTRY}/{self.FAMILY}:latest"} for c in td["containerDefinitions"]]
        keep = {k: td[k] for k in ("networkMode", "requiresCompatibilities", "cpu", "memory") if k in td}
        new = ecs.register_task_definition(family=td["family"], containerDefinitions=containers, **keep)
        ecs.update_service(cluster=ECS_CLUSTER, service=self.SERVICE,
                           taskDefinition=new["taskDefinition"]["taskDefinitionArn"])
        _note(sb, unpinned={"previous": current, "bad": new["taskDefinition"]["taskDefinitionArn"]})

    def heal(self, sb):
        n = _notes(sb).get("unpinned")
        if not n:
            return
        ecs, ecr = sb.client("ecs"), sb.client("ecr")
        ecs.update_service(cluster=ECS_CLUSTER, service=self.SERVICE, taskDefinition=n["previous"])
        ecs.deregister_task_definition(taskDefinition=n["bad"])
        ecr.batch_delete_image(repositoryName=self.FAMILY, imageIds=[{"imageTag": "latest"}])
