"""T-24 h before a window (runbook: "Prepare rollback procedures", "Verify all required access and credentials").
Skipped until the window is window.prepare_lead away (or --phase t-24h).

"Create database backup" and "Verify backup integrity" are the backups area's pre_maintenance checks (the
pre-window snapshot, its encryption, the restore drill): the same `pytest -m pre_maintenance` run, and the window
runner's gate, include them."""

import pytest

import actions
from opsproof.probes import readiness

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.maintenance]


def test_rollback_procedures_named(env, prepare_phase, window_plan, evidence):
    """Every step of the plan names a rollback (its own or the plan's), and each one exists: an action, a file or a
    URL."""
    known = actions.all_actions()
    rows, problems = [], []
    for i, s in enumerate(window_plan.steps, 1):
        rb = window_plan.rollback_of(s)
        if not rb:
            kind, ok = "none", False
            problems.append(f"step {i} ({s.action}) names no rollback")
        elif rb in known:
            kind, ok = "action", True
        elif rb.startswith(("http://", "https://")):
            kind, ok = "URL", True
        else:
            path = env.path(rb.split("#")[0])
            kind, ok = "procedure", path.is_file()
            if not ok:
                problems.append(f"step {i} ({s.action}): rollback {rb} is neither an action nor an existing file")
        rows.append({"step": i, "action": s.action, "rollback": rb or "", "kind": kind, "exists": ok})
    evidence.table("rollback procedures", rows)
    assert window_plan.steps, f"{window_plan.name} lists no step"
    assert not problems, f"{window_plan.name}: " + "; ".join(problems)


def test_access_and_credentials_verified(env, prepare_phase, evidence):
    """Every credential the window needs works: the AWS identity, both database logins, every host, the status
    page token."""
    found = readiness.access(env)
    evidence.table("access", found)
    bad = [a for a in found if not a.ok]
    assert not bad, "access not verified: " + "; ".join(f"{a.target}: {a.detail}" for a in bad)
