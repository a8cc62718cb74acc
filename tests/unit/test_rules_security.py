"""The security rules on hand-built facts: dependency audits (severity floor, unknown severities, waivers and their
expiry, a stale report, no audit at all), image scans (unfinished, stale, findings, waivers) and pinned image
references. Each way to fail is one alarm naming the package or image. No sandbox."""

import datetime as dt

import pytest

from opsproof.config.infrastructure import Images as RebuildImages
from opsproof.config.security import DependencyAudit, Images, Security, Waiver
from opsproof.probes import audits
from opsproof.probes.images import ImageFacts, ImageFinding, ImageScan, parse_image
from opsproof.rules import security as rules
from tests.unit.alarm_lines import alarms, one_alarm

TODAY = dt.date(2026, 11, 28)
REQUESTS = audits.Finding("requests", "2.31.0", "GHSA-9wx4-h78v-vm56", ("CVE-2024-35195",), "unknown", "2.32.0")
JINJA = audits.Finding("jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("CVE-2024-22195",), "unknown", "3.1.3")
AXIOS = audits.Finding("axios", "1.7.2", "GHSA-8hc4-vh64-cxmj", (), "high", "")
LOW = audits.Finding("follow-redirects", "1.15.5", "GHSA-cxjh-pqwp-8mfp", (), "moderate", "1.15.6")


def security(waivers=(), **audit) -> Security:
    cfg = DependencyAudit(**{"min_severity": "high", "unknown_severity": "high", **audit})
    return Security(python=cfg, node=cfg, waivers=list(waivers))


def audit(*found, tool="pip-audit", live=False, age=0.5, error=None) -> audits.Audit:
    return audits.Audit("python", tool, f"report r.json ({tool}, {age} days old)", live, age, 12, list(found),
                        error=error)


# ---- dependency audits ----------------------------------------------------------------------------------------------
def test_no_finding_is_one_ok_naming_the_source():
    (f,) = rules.dependencies(audit(), security(), "python", TODAY)
    assert f.status == "ok" and f.subject == "python dependencies" and "pip-audit" in f.reason


def test_a_finding_without_severity_counts_as_unknown_severity():
    one_alarm(rules.dependencies(audit(REQUESTS), security(), "python", TODAY), "requests 2.31.0: "
              "GHSA-9wx4-h78v-vm56 (high?), fixed in 2.32.0, found by pip-audit", "counts as high",
              "(security.python.min_severity)", "upgrade requests to 2.32.0")


def test_unknown_severity_below_the_floor_passes():
    assert not alarms(rules.dependencies(audit(REQUESTS), security(unknown_severity="moderate"), "python", TODAY))


def test_a_finding_at_the_floor_fails_and_below_it_does_not():
    one_alarm(rules.dependencies(audit(AXIOS, LOW, tool="npm audit"), security(), "node", TODAY),
              "axios 1.7.2: GHSA-8hc4-vh64-cxmj (high), found by npm audit", "(security.node.min_severity)")
    assert not alarms(rules.dependencies(audit(AXIOS), security(min_severity="critical"), "node", TODAY))


def test_a_waiver_by_alias_waives_and_says_why():
    w = Waiver(id="CVE-2024-22195", reason="xmlattr never sees user input", expires=dt.date(2027, 1, 1))
    found = rules.dependencies(audit(JINJA), security([w]), "python", TODAY)
    assert [f.status for f in found] == ["waived", "ok"]
    assert found[0].reason == "GHSA-h5c8-rqwp-cp95 waived: xmlattr never sees user input (until 2027-01-01)"


def test_a_waiver_is_valid_through_its_expiry_date():
    w = Waiver(id=JINJA.id, reason="xmlattr never sees user input", expires=TODAY)
    assert not alarms(rules.dependencies(audit(JINJA), security([w]), "python", TODAY))


def test_an_expired_waiver_fails_and_says_so():
    w = Waiver(id=AXIOS.id, package="axios", reason="no user-controlled URLs here", expires=dt.date(2026, 11, 1))
    one_alarm(rules.dependencies(audit(AXIOS), security([w]), "node", TODAY), "axios 1.7.2",
              "waiver expired 2026-11-01", "(security.waivers)")


def test_a_waiver_for_another_package_does_not_apply():
    w = Waiver(id=AXIOS.id, package="got", reason="no user-controlled URLs here")
    one_alarm(rules.dependencies(audit(AXIOS), security([w]), "node", TODAY), "axios 1.7.2")


def test_a_stale_report_fails_and_a_live_run_has_no_age():
    one_alarm(rules.dependencies(audit(age=9), security(max_report_age_days=7), "python", TODAY),
              "the pip-audit report: is 9 days old", "(security.python.max_report_age_days)", "re-run the audit")
    assert not alarms(rules.dependencies(audit(age=7), security(max_report_age_days=7), "python", TODAY))
    assert not alarms(rules.dependencies(audit(live=True, age=None), security(), "python", TODAY))


def test_no_audit_and_no_report_is_an_error():
    (f,) = rules.dependencies(audit(error="no report at r.json"), security(), "python", TODAY)
    assert f.status == "error" and f.key == "security.python.report"


def test_every_failing_finding_is_its_own_alarm():
    assert len(alarms(rules.dependencies(audit(REQUESTS, AXIOS, JINJA), security(), "python", TODAY))) == 3


# ---- image scans ----------------------------------------------------------------------------------------------------
REF = parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0")
CURL = ImageFinding("CVE-2023-38545", "CRITICAL", "libcurl4", "7.88.1-10")
MEDIUM = ImageFinding("CVE-2023-0001", "MEDIUM", "zlib1g", "1.2.13")
IMAGES = Images(min_severity="high", max_scan_age_days=30)


def scan(*found, status="COMPLETE", age=1.0) -> ImageScan:
    return ImageScan(REF.image, status, age_days=age, findings=list(found))


def images(s, waivers=(), cfg=IMAGES):
    return rules.image_findings([(REF, ["backend-service"], s)], cfg, list(waivers), TODAY)


@pytest.mark.parametrize("status", ["COMPLETE", "ACTIVE"])
def test_a_finished_scan_with_nothing_high_is_ok(status):
    (f,) = images(scan(MEDIUM, status=status))
    assert f.status == "ok" and f.subject == "backend:v1.2.0 (backend-service)"


@pytest.mark.parametrize("status", ["NOT_SCANNED", "PENDING", "IN_PROGRESS", "FAILED", "SCAN_ELIGIBILITY_EXPIRED",
                                    "NOT_ECR", "NOT_FOUND (ImageNotFoundException)"])
def test_an_unfinished_scan_is_an_alarm_with_the_scan_command(status):
    one_alarm(images(scan(status=status)), f"no finished scan ({status})", "aws ecr start-image-scan "
              "--repository-name backend --image-id imageTag=v1.2.0")


def test_a_critical_finding_names_image_services_and_package():
    one_alarm(images(scan(CURL, MEDIUM)), "backend:v1.2.0 (backend-service): CVE-2023-38545 CRITICAL in libcurl4",
              "(security.images.min_severity)")


def test_a_stale_scan_is_an_alarm_and_at_the_limit_is_not():
    one_alarm(images(scan(age=31)), "last scanned 31 days ago", "(security.images.max_scan_age_days)")
    assert not alarms(images(scan(age=30)))


def test_an_image_finding_waived_by_repository_or_package_and_expired():
    by_repo = Waiver(id=CURL.name, package="backend", reason="curl is not reachable from outside")
    by_pkg = Waiver(id=CURL.name, package="libcurl4", reason="curl is not reachable from outside")
    assert [f.status for f in images(scan(CURL), [by_repo])] == ["waived"]
    assert [f.status for f in images(scan(CURL), [by_pkg])] == ["waived"]
    old = Waiver(id=CURL.name, reason="curl is not reachable from outside", expires=dt.date(2026, 1, 1))
    one_alarm(images(scan(CURL), [old]), "CVE-2023-38545", "waiver expired 2026-01-01")


def test_the_image_floor_is_configurable():
    one_alarm(images(scan(MEDIUM), cfg=Images(min_severity="moderate")), "CVE-2023-0001 MEDIUM in zlib1g")


# ---- pinned references ----------------------------------------------------------------------------------------------
def pinned(image, cfg=IMAGES):
    return rules.pinned([(parse_image(image), ["backend-service", "worker-service"])], cfg)


@pytest.mark.parametrize("image", ["backend:v1.2.0", "backend@sha256:" + "a" * 64,
                                   "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0"])
def test_a_version_tag_or_digest_is_pinned(image):
    (f,) = pinned(image)
    assert f.status == "ok" and "run by backend-service, worker-service" in f.subject


@pytest.mark.parametrize("image, why", [("backend:latest", "moving tag 'latest'"), ("backend:LATEST", "moving tag"),
                                        ("backend", "no tag (Docker's default: 'latest')")])
def test_a_moving_tag_or_none_is_an_alarm(image, why):
    one_alarm(pinned(image), image, why, "(security.images.forbidden_tags)")


def test_forbidden_tags_are_configurable():
    one_alarm(pinned("backend:stable", Images(forbidden_tags=["latest", "stable"])), "moving tag 'stable'")


def test_require_digest_refuses_tags():
    strict = Images(require_digest=True)
    one_alarm(pinned("backend:v1.2.0", strict), "a tag, not a digest", "(security.images.require_digest)")
    one_alarm(pinned("backend", strict), "no digest")
    assert not alarms(pinned("backend@sha256:" + "b" * 64, strict))


# ---- rebuilt and scanned ([infrastructure.images]) ------------------------------------------------------------------
REBUILT = RebuildImages(max_age_days=30, base_image="python:3.11.8-slim")


def facts(**kw) -> ImageFacts:
    base = dict(image=REF.image, services=["backend-service"], pushed_at="2026-11-20T00:00:00+00:00",
                created_at="2026-11-20T00:00:00+00:00", age_days=8.0, base="docker.io/library/python:3.11.8-slim",
                scan_status="COMPLETE", findings={"LOW": 2})
    return ImageFacts(**{**base, **kw})


def test_a_recent_image_on_the_current_base_is_ok():
    (f,) = rules.rebuilt([facts()], REBUILT)
    assert f.status == "ok" and f.subject == "backend:v1.2.0"


@pytest.mark.parametrize("kw, expected", [
    (dict(age_days=31.0), "backend:v1.2.0: built 31 days ago, over 30 (infrastructure.images.max_age_days)"),
    (dict(age_days=None), "build time unknown"),
    (dict(base="python:3.11.7-slim"), "built on python:3.11.7-slim, not python:3.11.8-slim "
                                      "(infrastructure.images.base_image)"),
    (dict(base=None), "built on an unrecorded base"),
    (dict(problem="not found in ECR (ImageNotFoundException)"), "not found in ECR"),
], ids=["old", "no build time", "old base", "no base", "not in ECR"])
def test_each_way_an_image_is_not_rebuilt(kw, expected):
    one_alarm(rules.rebuilt([facts(**kw)], REBUILT), expected)


def test_at_max_age_is_ok_and_no_base_image_configured_is_not_compared():
    assert not alarms(rules.rebuilt([facts(age_days=30.0, base=None)], RebuildImages(max_age_days=30)))


@pytest.mark.parametrize("status", ["COMPLETE", "ACTIVE"])
def test_a_finished_scan_is_ok(status):
    assert [f.status for f in rules.scanned([facts(scan_status=status)])] == ["ok"]


@pytest.mark.parametrize("kw, expected", [(dict(scan_status="NOT_SCANNED"), "scan NOT_SCANNED"),
                                          (dict(scan_status="FAILED"), "scan FAILED"),
                                          (dict(problem="not an ECR image (docker.io)"), "not an ECR image")])
def test_an_unfinished_scan_or_unreadable_image_fails(kw, expected):
    one_alarm(rules.scanned([facts(**kw)]), "backend:v1.2.0: image scan not finished", expected,
              "aws ecr start-image-scan --repository-name backend")
