"""Quarterly 'Disk Space Cleanup': completed jobs older than 90 days are archived to S3 and deleted
(python -m actions archive-jobs). An index range scan, never a read of the table (opsproof/postgres/archive.py)."""

import pytest

from opsproof import findings
from opsproof.postgres import archive
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.quarterly
def test_no_completed_jobs_past_retention(env, db, evidence):
    """Archive policy: no completed job older than the retention (runbook: 90 days) is left in the jobs table."""
    due = archive.overdue(db, env.database.archive)
    evidence.value("cutoff", due.cutoff)
    evidence.table("rows past retention per day (runbook: 'Find old data to archive')",
                   [{"day": d, "rows": n} for d, n in due.by_day])
    findings.expect_no_alarm(rules.archive(due, env.database.archive), evidence)
