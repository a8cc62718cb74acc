"""After a window: the system against the baseline the pre-maintenance run took (runbook's "Metrics
Before/After")."""

import pytest

from opsproof import baseline, findings
from opsproof.baseline import COMPARISON_TITLE
from opsproof.config.window import format_duration

pytestmark = [pytest.mark.post_maintenance, pytest.mark.window]


def test_no_regression_against_baseline(env, maintenance_window, baseline_file, evidence):
    """No metric regressed beyond its tolerance (window.baseline) since the pre-maintenance snapshot."""
    if not baseline_file.is_file():
        pytest.skip(f"no baseline at {baseline_file}: a pre-maintenance run (pytest -m pre_maintenance --phase "
                    "t-1h) or the window runner records one; --baseline names another")
    before = baseline.Snapshot.load(baseline_file)
    old = baseline.age(before)
    if old > env.window.baseline.max_age:
        pytest.skip(f"the baseline {baseline_file} is {format_duration(old)} old: stale (window.baseline.max_age "
                    f"{format_duration(env.window.baseline.max_age)})")
    after = baseline.take(env, window=maintenance_window.window.id)
    plan = maintenance_window.plan
    c = baseline.compare(before, after, env.window.baseline, plan.checks.expect_changes if plan else [])
    evidence.value("baseline", f"{baseline_file} (taken {before.taken_at}, {format_duration(old)} ago)")
    evidence.table(COMPARISON_TITLE, c.rows)
    findings.expect_no_alarm(c.findings, evidence)
