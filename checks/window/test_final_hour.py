"""T-1 h before a window (runbook: 'Post status page update: "Scheduled Maintenance Starting Soon"', "Snapshot
current system state"). Skipped until the window is window.final_lead away (or --phase t-1h)."""

import pytest

from opsproof import baseline, findings
from opsproof.probes import statuspage
from opsproof.rules import window as rules

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.window]


def test_status_page_announces_window(env, final_phase, evidence):
    """The status page shows the window's maintenance, scheduled or in progress."""
    w = final_phase.window
    m = statuspage.for_window(statuspage.maintenances(env), w.id, w.start, w.end)
    evidence.table("the window's maintenance on the status page", [m] if m else [])
    findings.expect_no_alarm(rules.status_page_active(w, m), evidence)


def test_system_state_snapshot_taken(env, final_phase, baseline_file, evidence):
    """A snapshot of the system's state (the baseline) is taken and saved for the post-maintenance comparison."""
    snap = baseline.take(env, window=final_phase.window.id)
    snap.save(baseline_file)
    evidence.value("baseline", str(baseline_file))
    evidence.table("baseline", [{"metric": m.label, "value": m.shown(), "how": m.note} for m in snap.metrics])
    findings.expect_no_alarm(rules.baseline_complete(snap.metrics), evidence)
