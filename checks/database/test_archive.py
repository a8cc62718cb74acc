"""Quarterly 'Disk Space Cleanup': completed jobs older than 90 days are archived to S3 and deleted
(python -m actions archive-jobs). An index range scan, never a read of the table (opsproof/probes/pg_archive.py)."""

import pytest

from opsproof.probes import pg_archive

pytestmark = [pytest.mark.database]


@pytest.mark.quarterly
def test_no_completed_jobs_past_retention(env, db, evidence):
    """Archive policy: no completed job older than the retention (runbook: 90 days) is left in the jobs table."""
    a = env.database.archive
    due = pg_archive.overdue(db, a)
    evidence.value("cutoff", due.cutoff)
    evidence.value("rows past retention", due.rows)
    evidence.table("rows past retention per day (runbook: 'Find old data to archive')",
                   [{"day": d, "rows": n} for d, n in due.by_day])
    assert due.rows == 0, (
        f"{a.table}: {due.rows} row(s) with {a.status_column} = '{a.status}' older than "
        f"database.archive.retention_days={a.retention_days} (oldest {a.time_column} {due.oldest:%Y-%m-%d}). "
        "Run: python -m actions archive-jobs --apply")
