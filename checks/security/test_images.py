"""Container images the services run (runbook: "Container Image Updates": "Review for Security Vulnerabilities",
tag releases v1.2.0, never deploy latest). The deployed image's own ECR scan is what says whether production runs
something known to be vulnerable; a moving tag means nobody knows what runs."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import ecs, images
from opsproof.rules import security as rules

pytestmark = [pytest.mark.security]


@pytest.fixture(scope="module")
def deployed(env, aws) -> list[tuple[images.ImageRef, list[str]]]:
    """[(image reference, the services running it)] for [services.ecs]'s services."""
    cfg = env.services.ecs
    if cfg is None or not cfg.services:
        pytest.skip(f"{env.file} has no [services.ecs] services")
    by_image = ecs.deployed_images(aws("ecs", "security"), cfg.cluster, [s.name for s in cfg.services])
    return [(images.parse_image(image), services) for image, services in by_image.items()]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_have_no_critical_findings(env, aws, deployed, evidence):
    """The latest ECR scan of every deployed image has no finding at or above security.images.min_severity
    (runbook: no CRITICAL/HIGH) beyond waivers, and is younger than security.images.max_scan_age_days."""
    scans = [(ref, services, images.scan_findings(aws("ecr", "security", ref.ecr_region), ref))
             for ref, services in deployed]
    evidence.table("deployed images", [{"image": ref.short, "services": ", ".join(services), "scan": scan.status,
                                        "scanned (days ago)": scan.age_days, "counts": scan.counts}
                                       for ref, services, scan in scans])
    today = dt.datetime.now(dt.timezone.utc).date()
    findings.expect_no_alarm(rules.image_findings(scans, env.security.images, env.security.waivers, today), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_are_pinned(env, deployed, evidence):
    """Every deployed task definition names its images by a fixed version tag or digest, never a moving tag
    (security.images.forbidden_tags: latest) or none."""
    findings.expect_no_alarm(rules.pinned(deployed, env.security.images), evidence)
