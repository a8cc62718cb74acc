"""Dependency audit reports: every supported format, waivers with reasons and expiry, severity floors, a live
command that cannot reach its database falling back to the report (and saying so), and a stale report refused."""

import datetime as dt
import json
import os
import sys

import pytest
from pydantic import ValidationError

from opsproof.config.security import DependencyAudit, Waiver, severity_rank
from opsproof.probes import audits

TODAY = dt.date(2026, 11, 28)
PIP_AUDIT = {"dependencies": [
    {"name": "requests", "version": "2.31.0", "vulns": [{"id": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"],
                                                         "fix_versions": ["2.32.0"], "description": "verify"}]},
    {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"],
                                                       "fix_versions": ["3.1.3"], "description": "xss"}]},
    {"name": "fastapi", "version": "0.110.0", "vulns": []}], "fixes": []}
SAFETY = {"report_meta": {}, "scanned_packages": {"a": {}, "b": {}}, "vulnerabilities": [
    {"package_name": "django", "analyzed_version": "4.2.0", "vulnerability_id": "59293", "CVE": "CVE-2023-31047",
     "severity": {"cvssv3": {"base_severity": "CRITICAL"}}, "advisory": "bypass", "fixed_versions": ["4.2.1"]},
    {"package_name": "pyyaml", "analyzed_version": "5.3", "vulnerability_id": "38100", "CVE": None,
     "severity": None, "advisory": "rce", "fixed_versions": []}]}
NPM7 = {"auditReportVersion": 2, "metadata": {"dependencies": {"total": 412}}, "vulnerabilities": {
    "axios": {"name": "axios", "severity": "high", "range": "1.3.2 - 1.7.3", "fixAvailable": True, "via": [
        {"source": 1097679, "title": "SSRF", "url": "https://github.com/advisories/GHSA-8hc4-vh64-cxmj",
         "severity": "high"}]},
    "follow-redirects": {"name": "follow-redirects", "severity": "moderate", "range": "<1.15.6", "via": [
        {"source": 1096856, "title": "leak", "url": "https://github.com/advisories/GHSA-cxjh-pqwp-8mfp",
         "severity": "moderate"}]},
    "some-wrapper": {"name": "some-wrapper", "severity": "high", "via": ["axios"]}}}
NPM6 = {"metadata": {"totalDependencies": 10}, "advisories": {"1523": {
    "module_name": "lodash", "severity": "low", "title": "Prototype Pollution", "github_advisory_id":
    "GHSA-p6mc-m468-83gw", "cves": ["CVE-2020-8203"], "findings": [{"version": "4.17.15"}],
    "patched_versions": ">=4.17.19"}}}


@pytest.mark.parametrize("data, tool, ids", [
    (PIP_AUDIT, "pip-audit", ["GHSA-9wx4-h78v-vm56", "GHSA-h5c8-rqwp-cp95"]),
    (PIP_AUDIT["dependencies"], "pip-audit", ["GHSA-9wx4-h78v-vm56", "GHSA-h5c8-rqwp-cp95"]),
    (SAFETY, "safety", ["59293", "38100"]),
    ([["django", "<4.2.1", "4.2.0", "bypass", "59293"]], "safety", ["59293"]),
    (NPM7, "npm audit", ["GHSA-8hc4-vh64-cxmj", "GHSA-cxjh-pqwp-8mfp"]),
    (NPM6, "npm audit", ["GHSA-p6mc-m468-83gw"]),
])
def test_every_format_is_recognised(data, tool, ids):
    got_tool, _, findings = audits.parse(data)
    assert got_tool == tool and [f.id for f in findings] == ids


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="not a pip-audit, safety or npm audit"):
        audits.parse({"results": []})


def test_a_waiver_needs_a_reason():
    with pytest.raises(ValidationError, match="reason"):
        Waiver(id="CVE-1", reason="ok")


def test_severity_names_of_every_tool_rank_alike():
    assert severity_rank("MEDIUM") == severity_rank("moderate") < severity_rank("HIGH") < severity_rank("critical")
    assert severity_rank("UNDEFINED") == -1


def test_report_is_read_and_its_age_said(tmp_path):
    report = tmp_path / "pip-audit.json"
    report.write_text(json.dumps(PIP_AUDIT))
    old = dt.datetime.now().timestamp() - 10 * 86400
    os.utime(report, (old, old))
    a = audits.audit("python", DependencyAudit(report=report))
    assert a.tool == "pip-audit" and not a.live and a.report_age_days == pytest.approx(10, abs=0.2)
    assert a.source.startswith(f"report {report} (pip-audit, 10") and a.dependencies == 3


def test_live_command_is_used_when_it_works(tmp_path):
    cmd = [sys.executable, "-c", f"import json; print(json.dumps({NPM7!r})); raise SystemExit(1)"]
    a = audits.audit("node", DependencyAudit(command=cmd, report=tmp_path / "missing.json"))
    assert a.live and a.source.startswith("live: ") and a.tool == "npm audit" and len(a.findings) == 2


def test_live_command_without_network_falls_back_to_the_report_and_says_so(tmp_path):
    report = tmp_path / "npm-audit.json"
    report.write_text(json.dumps(NPM7))
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('npm ERR! network request to registry failed\\n');"
           "raise SystemExit(2)"]
    a = audits.audit("node", DependencyAudit(command=cmd, report=report))
    assert not a.live and a.source.startswith("report ") and "network request" in a.live_error
    assert len(a.findings) == 2


def test_no_report_and_no_command_is_an_error_not_a_pass(tmp_path):
    a = audits.audit("python", DependencyAudit(report=tmp_path / "nope.json"))
    assert a.error and "no python audit report" in a.error
