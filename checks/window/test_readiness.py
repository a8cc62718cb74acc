"""T-24 h before a window (runbook: "Prepare rollback procedures", "Verify all required access and credentials").
Skipped until the window is window.prepare_lead away (or --phase t-24h).

"Create database backup" and "Verify backup integrity" are the backups area's pre_maintenance checks (the
pre-window snapshot, its encryption, the restore drill): the same `pytest -m pre_maintenance` run, and the window
runner's gate, include them."""

import pytest

import actions
from opsproof import findings
from opsproof.probes import readiness
from opsproof.rules import window as rules

pytestmark = [pytest.mark.pre_maintenance, pytest.mark.window]


def test_rollback_procedures_named(env, prepare_phase, window_plan, evidence):
    """Every step of the plan names a rollback (its own or the plan's), and each one exists: an action, a file or a
    URL."""
    known = actions.all_actions()
    evidence.table("rollback procedures", [{"step": i, "action": s.action, "rollback": window_plan.rollback_of(s)}
                                           for i, s in enumerate(window_plan.steps, 1)])
    findings.expect_no_alarm(rules.rollbacks(window_plan, known, lambda path: env.path(path).is_file()), evidence)


def test_access_and_credentials_verified(env, prepare_phase, evidence):
    """Every credential the window needs works: the AWS identity, both database logins, every host, the status
    page token."""
    found = readiness.access(env)
    evidence.table("access", found)
    findings.expect_no_alarm(rules.access(found), evidence)
