"""Judging the states AWS really produces (issue 12), on hand-built facts: each case is what the API answers in
that state, as botocore's output models shape it. The end-to-end proofs are in tests/proofs/ under the same states'
faults."""

import datetime as dt

from opsproof.probes import ssm
from opsproof.probes.ssm import utc


class FakeSsm:
    """describe_instance_patches pages as AWS does (NextToken), recording each call."""

    def __init__(self, patches: list[dict], page: int = 2):
        self.patches, self.page, self.calls = patches, page, []

    def describe_instance_patches(self, InstanceId, MaxResults, Filters, NextToken=None):
        self.calls.append((InstanceId, Filters, NextToken))
        wanted = set(Filters[0]["Values"])
        rows = [p for p in self.patches if p["State"] in wanted]
        start = int(NextToken or 0)
        out = {"Patches": rows[start:start + self.page]}
        if start + self.page < len(rows):
            out["NextToken"] = str(start + self.page)
        return out


# ---- SSM: a Scan after the window's Install --------------------------------------------------------------------------
def _patch(state, when):
    return {"Title": "kernel", "KBId": "ALAS2-1", "Classification": "Security", "Severity": "Important",
            "State": state, "InstalledTime": when}


def test_after_a_scan_the_last_install_is_the_newest_installed_patch_on_every_page():
    installed = utc(2026, 1, 11, 4, 35)
    fake = FakeSsm([_patch("Installed", utc(2025, 12, 1)), _patch("Missing", utc(1970, 1, 1)),
                    _patch("InstalledOther", utc(2025, 11, 1)), _patch("Installed", installed),
                    _patch("InstalledPendingReboot", utc(2025, 10, 1))])
    state = {"InstanceId": "i-1", "Operation": "Scan", "OperationEndTime": utc(2026, 1, 12, 9)}
    assert ssm._last_install(fake, state) == installed
    assert len(fake.calls) == 2 and fake.calls[1][2] == "2"  # the second page was read


def test_a_no_reboot_install_time_counts_even_with_no_patch_installed():
    fake = FakeSsm([])
    t = utc(2026, 1, 11, 5)
    assert ssm._last_install(fake, {"InstanceId": "i-1", "LastNoRebootInstallOperationTime": t}) == t
    assert ssm._last_install(fake, {"InstanceId": "i-1"}) is None


def _state(operation, end, last_install):
    return ssm.PatchState("i-1", "gpu-worker-1", "Online", 0, 0, 0, 400, 0, 0, operation, end, "pb-1",
                          last_install)


def test_a_scan_after_the_windows_install_is_patched_and_a_scan_alone_is_not():
    start = utc(2026, 1, 11, 4)
    assert _state("Scan", "2026-01-12T09:00:00+00:00", "2026-01-11T04:35:00+00:00").patched_since(start)
    assert not _state("Scan", "2026-01-12T09:00:00+00:00", "2026-01-05T04:35:00+00:00").patched_since(start)
    assert not _state("Scan", "2026-01-12T09:00:00+00:00", "").patched_since(start)
    assert _state("Install", "2026-01-11T04:35:00+00:00", "2026-01-11T04:35:00+00:00").patched_since(start)


# ---- ECR: enhanced scanning ------------------------------------------------------------------------------------------
class FakeEcr:
    def __init__(self, page):
        self.page = page

    def describe_image_scan_findings(self, **kwargs):
        return self.page


def test_an_active_enhanced_scan_is_judged_by_its_enhanced_findings():
    from opsproof.probes import ecs, images

    page = {"imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
            "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 1}, "enhancedFindings": [
                {"severity": "CRITICAL", "status": "ACTIVE", "title": "CVE-2023-38545 - libcurl4",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-38545", "vulnerablePackages": [
                     {"name": "libcurl4", "version": "7.88.1-10"}]}},
                {"severity": "HIGH", "status": "SUPPRESSED",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-1"}},
                {"severity": "HIGH", "status": "CLOSED", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2"}}]}}
    ref = ecs.parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0")
    scan = images.scan_findings(FakeEcr(page), ref)
    assert scan.finished and scan.status == "ACTIVE" and scan.age_days is None
    assert [(f.name, f.severity, f.package, f.version) for f in scan.findings] == [
        ("CVE-2023-38545", "CRITICAL", "libcurl4", "7.88.1-10")]
    for status in ("PENDING", "IN_PROGRESS", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE", "FAILED"):
        assert not images.scan_finished(status)
