"""T-1 h before a window (runbook: 'Post status page update: "Scheduled Maintenance Starting Soon"', "Snapshot
current system state"). Skipped until the window is window.final_lead away (or --phase t-1h)."""

import pytest

from opsproof import baseline
from opsproof.probes import statuspage

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.maintenance]

ACTIVE = ("scheduled", "in_progress", "verifying")


def test_status_page_announces_window(env, final_phase, evidence):
    """The status page shows the window's maintenance, scheduled or in progress."""
    w = final_phase.window
    items = statuspage.maintenances(env)
    m = statuspage.for_window(items, w.id, w.start, w.end)
    evidence.table("the window's maintenance on the status page", [m] if m else [])
    assert m is not None, f"the status page shows no maintenance for the window {w.label()}"
    assert m.status in ACTIVE, f"status page maintenance {m.id} ({m.name}) is {m.status!r}, not one of {ACTIVE}"


def test_system_state_snapshot_taken(env, final_phase, baseline_file, evidence):
    """A snapshot of the system's state (the baseline) is taken and saved for the post-maintenance comparison."""
    snap = baseline.take(env, window=final_phase.window.id)
    snap.save(baseline_file)
    evidence.value("baseline", str(baseline_file))
    evidence.table("baseline", [{"metric": m.label, "value": m.shown(), "how": m.note} for m in snap.metrics])
    assert not snap.errors, "baseline incomplete: " + "; ".join(f"{m.key}: {m.error}" for m in snap.errors)
