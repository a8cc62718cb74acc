"""The one result shape: a Finding's line, the assertion made from Findings, the evidence they leave, and the
Findings a check gets from its outcome when it made none (a dead target, a skip)."""

import json
from types import SimpleNamespace

import pytest

from fixtures.reporting import _outcome_findings
from opsproof import findings
from opsproof.evidence import Evidence

DISK = findings.alarm("gpu-worker-1:/", "disk 93% used", measured=93, limit=85,
                      key="infrastructure.disk_max_percent", fix="python -m actions cleanup-disk")


def test_a_line_names_subject_reason_key_and_fix():
    assert DISK.line() == ("gpu-worker-1:/: disk 93% used (infrastructure.disk_max_percent); "
                           "fix: python -m actions cleanup-disk")
    assert findings.from_row(DISK.row()) == DISK


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status 'red'"):
        findings.Finding("red", "x", "y")


def test_the_assertion_lists_every_alarm_and_the_evidence_keeps_every_finding():
    ev = Evidence()
    found = [findings.ok("gpu-worker-2:/", "disk 40% used"), DISK,
             findings.Finding(findings.ERROR, "gpu-worker-3", "unreachable")]
    with pytest.raises(AssertionError) as e:
        findings.expect_no_alarm(found, ev)
    assert str(e.value) == f"{DISK.line()}; gpu-worker-3: unreachable"
    assert ev.found == found and [r["status"] for r in ev.as_dict()[0]["payload"]] == ["ok", "alarm", "error"]


def test_no_alarm_passes_and_still_leaves_the_findings():
    ev = Evidence()
    findings.expect_no_alarm([findings.ok("a"), findings.Finding(findings.SKIP, "b", "not configured")], ev)
    assert len(ev.found) == 2 and json.dumps(ev.as_dict())


def _report(outcome, when="call", longrepr=None):
    return SimpleNamespace(nodeid="checks/x/test_y.py::test_z", failed=outcome == "failed",
                           skipped=outcome == "skipped", when=when, longrepr=longrepr)


def test_a_check_without_findings_gets_one_from_its_outcome():
    dead = _outcome_findings(_report("failed", "setup"), "TargetUnreachable: db:5432 did not answer in 5 s")
    assert dead == [findings.Finding(findings.ERROR, "test_z", "TargetUnreachable: db:5432 did not answer in 5 s")
                    .row()]
    assert _outcome_findings(_report("failed"), "3 tables bloated")[0]["status"] == findings.ALARM
    skip = _outcome_findings(_report("skipped", longrepr=("f", 1, "Skipped: no [certificates] endpoints")), None)
    assert skip[0]["status"] == findings.SKIP and skip[0]["reason"] == "no [certificates] endpoints"
    assert _outcome_findings(_report("passed"), None) == []
