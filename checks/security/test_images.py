"""Container images the services run (runbook: "Container Image Updates": "Review for Security Vulnerabilities",
tag releases v1.2.0, never deploy latest). The deployed image's own ECR scan is what says whether production runs
something known to be vulnerable; a moving tag means nobody knows what runs."""

import datetime as dt

import pytest

from opsproof.config.security import severity_rank
from opsproof.probes import ecs, images

pytestmark = [pytest.mark.infrastructure]


@pytest.fixture(scope="module")
def deployed(env, aws):
    """{image reference: [services running it]} for [services.ecs]'s services."""
    cfg = env.services.ecs
    if cfg is None or not cfg.services:
        pytest.skip(f"{env.file} has no [services.ecs] services")
    return ecs.deployed_images(aws("ecs", "security"), cfg.cluster, [s.name for s in cfg.services])


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_have_no_critical_findings(env, aws, deployed, evidence):
    """The latest ECR scan of every deployed image has no finding at or above security.images.min_severity
    (runbook: no CRITICAL/HIGH) beyond waivers, and is younger than security.images.max_scan_age_days."""
    cfg = env.security.images
    floor = severity_rank(cfg.min_severity)
    today = dt.datetime.now(dt.timezone.utc).date()
    rows, waived, bad = [], [], []
    for image, services in sorted(deployed.items()):
        ref = ecs.parse_image(image)
        scan = images.scan_findings(aws("ecr", "security", ref.ecr_region), ref)
        rows.append({"image": ref.short, "services": ", ".join(services), "scan": scan.status,
                     "scanned (days ago)": scan.age_days, "counts": scan.counts})
        if not scan.finished:  # ACTIVE (enhanced scanning) is finished: judged by its findings
            bad.append(f"{ref.short}: no finished scan ({scan.status})")
            continue
        if scan.age_days is not None and scan.age_days > cfg.max_scan_age_days:
            bad.append(f"{ref.short}: last scanned {scan.age_days:g} days ago (security.images.max_scan_age_days="
                       f"{cfg.max_scan_age_days})")
        for f in scan.findings:
            if severity_rank(f.severity) < floor:
                continue
            w = next((w for w in env.security.waivers if w.id == f.name and (w.package is None or w.package in (
                ref.repository, f.package))), None)
            if w is not None and w.active(today):
                waived.append({"image": ref.short, "finding": f.name, "reason": w.reason, "expires": w.expires})
            else:
                bad.append(f"{ref.short} ({', '.join(services)}): {f.name} {f.severity} in {f.package} {f.version}"
                           + (f" (waiver expired {w.expires})" if w else ""))
    evidence.table("deployed images", rows)
    evidence.table("waived findings", waived)
    assert not bad, "; ".join(bad) + f" (security.images.min_severity={cfg.min_severity}; waivers: security.waivers)"


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_deployed_images_are_pinned(env, deployed, evidence):
    """Every deployed task definition names its images by a fixed version tag or digest, never a moving tag
    (security.images.forbidden_tags: latest) or none."""
    cfg = env.security.images
    rows, bad = [], []
    for image, services in sorted(deployed.items()):
        why = images.pinning(ecs.parse_image(image), cfg.forbidden_tags, cfg.require_digest)
        rows.append({"image": image, "services": ", ".join(services), "pinned": why is None, "why not": why or ""})
        if why:
            bad.append(f"{', '.join(services)} {'run' if len(services) > 1 else 'runs'} {image}: {why}")
    evidence.table("image references", rows)
    assert not bad, "; ".join(bad) + f" (security.images.forbidden_tags={cfg.forbidden_tags})"
