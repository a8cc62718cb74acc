"""Container images (runbook: "Container Image Updates": rebuild with updated base images, scan, push to ECR): the
images the ECS services run were rebuilt on the current base image recently, and ECR finished scanning them."""

import datetime as dt

import pytest

from opsproof.probes import ecs
from opsproof.probes import images as probe
from opsproof.probes.images import scan_finished

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
    bad = []
    for f in deployed_images:
        short = probe.parse_image(f.image).short
        if f.problem:
            bad.append(f"{short}: {f.problem}")
            continue
        if f.age_days is None or f.age_days > cfg.max_age_days:
            bad.append(f"{short} built {f.age_days:g} days ago (infrastructure.images.max_age_days="
                       f"{cfg.max_age_days})" if f.age_days is not None else f"{short}: build time unknown")
        if cfg.base_image and not probe.same_image(f.base, cfg.base_image):
            bad.append(f"{short} built on {f.base or 'an unrecorded base'}, not {cfg.base_image} "
                       "(infrastructure.images.base_image)")
    assert not bad, "; ".join(bad)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_scanned(env, deployed_images, evidence):
    """ECR finished scanning every deployed image (scan status COMPLETE, or ACTIVE under enhanced scanning); its
    findings are evidence."""
    evidence.table("scans", [{"image": f.image, "scan": f.scan_status, "findings": f.findings,
                              "problem": f.problem or ""} for f in deployed_images])
    bad = [f"{probe.parse_image(f.image).short}: " + (f.problem or f"scan {f.scan_status}")
           for f in deployed_images if f.problem or not scan_finished(f.scan_status)]
    assert not bad, "image scan not finished: " + "; ".join(bad) + " (ECR scan on push; aws ecr start-image-scan)"
