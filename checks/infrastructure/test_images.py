"""Container images (runbook: "Container Image Updates": rebuild with updated base images, scan, push to ECR): the
images the ECS services run were rebuilt on the current base image recently, and ECR finished scanning them."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import ecs
from opsproof.probes import images as probe
from opsproof.rules import security as rules

pytestmark = [pytest.mark.infrastructure]


@pytest.fixture
def deployed_images(env, aws):
    cfg = env.services.ecs
    if cfg is None or not cfg.services:
        pytest.skip(f"{env.file} has no [services.ecs] services: no deployed images to look at")
    by_image = ecs.deployed_images(aws("ecs", "infrastructure"), cfg.cluster, [s.name for s in cfg.services])
    images = env.infrastructure.images
    now = dt.datetime.now(dt.timezone.utc)
    return [probe.image_facts(lambda region: aws("ecr", "infrastructure", region), probe.parse_image(image), services,
                              images.created_annotation, images.base_annotation, now)
            for image, services in by_image.items()]


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_deployed_images_rebuilt_on_current_base(env, deployed_images, evidence):
    """Every deployed image was built within infrastructure.images.max_age_days on the current base image
    (infrastructure.images.base_image)."""
    cfg = env.infrastructure.images
    evidence.table("deployed images", [{"image": f.image, "services": ", ".join(f.services), "base": f.base,
                                        "built": f.created_at, "age (days)": f.age_days, "pushed": f.pushed_at,
                                        "problem": f.problem or ""} for f in deployed_images])
    findings.expect_no_alarm(rules.rebuilt(deployed_images, cfg), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_scanned(env, deployed_images, evidence):
    """ECR finished scanning every deployed image (scan status COMPLETE, or ACTIVE under enhanced scanning); its
    findings are evidence."""
    evidence.table("scans", [{"image": f.image, "scan": f.scan_status, "findings": f.findings,
                              "problem": f.problem or ""} for f in deployed_images])
    findings.expect_no_alarm(rules.scanned(deployed_images), evidence)
