"""Proofs of the dependency and image checks: each passes on the healthy sandbox (with one waived advisory) and
fails under its fault naming the package or image."""

DEPS = "checks/security/test_dependencies.py"
IMAGES = "checks/security/test_images.py"


def test_python_dependencies_have_no_known_vulnerabilities(healthy, broken):
    healthy.assert_passed("test_python_dependencies_have_no_known_vulnerabilities")
    evidence = healthy.evidence("test_python_dependencies_have_no_known_vulnerabilities")
    source = next(e["payload"][0] for e in evidence if e["title"] == "source")
    assert source.startswith("report ") and "pip-audit" in source  # it says it used the report
    waived = [r for e in evidence if e["title"] == "findings" for r in e["payload"] if r["status"] == "waived"]
    assert [w["reason"].split()[0] for w in waived] == ["GHSA-h5c8-rqwp-cp95"], waived
    run = broken("vulnerable-dependency", DEPS)
    run.assert_failed("test_python_dependencies_have_no_known_vulnerabilities", "requests 2.31.0",
                      "GHSA-9wx4-h78v-vm56", "fixed in 2.32.0", "found by pip-audit", "counts as high")


def test_node_dependencies_have_no_known_vulnerabilities(healthy, broken):
    healthy.assert_passed("test_node_dependencies_have_no_known_vulnerabilities")
    run = broken("vulnerable-dependency", DEPS)
    run.assert_failed("test_node_dependencies_have_no_known_vulnerabilities", "axios", "GHSA-8hc4-vh64-cxmj",
                      "(high)", "npm audit")


def test_deployed_images_have_no_critical_findings(healthy, broken):
    healthy.assert_passed("test_deployed_images_have_no_critical_findings")
    run = broken("critical-image-finding", IMAGES)
    run.assert_failed("test_deployed_images_have_no_critical_findings", "backend:v1.2.0", "backend-service",
                      "CVE-2023-38545 CRITICAL", "libcurl4")


def test_deployed_images_have_no_critical_findings_enhanced_scanning(broken):
    """Enhanced scanning answers ACTIVE with enhancedFindings: judged by those findings, not as unfinished."""
    run = broken("image-enhanced-scanning", IMAGES)
    run.assert_passed("test_deployed_images_have_no_critical_findings")  # the suppressed CRITICAL one is not counted
    rows = [r for e in run.evidence("test_deployed_images_have_no_critical_findings") if e["title"] == "deployed images"
            for r in e["payload"]]
    assert {r["scan"] for r in rows} == {"ACTIVE"}, rows


def test_deployed_images_have_no_critical_findings_enhanced_finding(broken):
    run = broken("image-enhanced-critical-finding", IMAGES)
    msg = run.assert_failed("test_deployed_images_have_no_critical_findings", "backend:v1.2.0", "backend-service",
                            "CVE-2023-38545 CRITICAL", "libcurl4")
    assert "worker" not in msg and "no finished scan" not in msg


def test_deployed_images_are_pinned(healthy, broken):
    healthy.assert_passed("test_deployed_images_are_pinned")
    run = broken("unpinned-image-tag", IMAGES)
    run.assert_failed("test_deployed_images_are_pinned", "backend-service", "backend:latest", "moving tag 'latest'")
