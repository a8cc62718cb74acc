"""Monthly 'Reindex Tables': after `REINDEX INDEX CONCURRENTLY` no broken index is left behind, no index is kept
twice, and the runbook's 'Check index sizes' query is evidence (see opsproof/postgres/indexes.py)."""

import pytest

from opsproof import findings
from opsproof.postgres import indexes
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.post_maintenance
@pytest.mark.nightly
@pytest.mark.monthly
def test_no_invalid_indexes(env, db, evidence):
    """REINDEX CONCURRENTLY left no invalid, not-ready or _ccnew/_ccold index behind."""
    bad = indexes.broken(db)
    evidence.table("invalid, not-ready or leftover indexes", bad)
    evidence.table("largest indexes", indexes.largest_indexes(db, env.database.indexes.largest))
    evidence.table("largest tables", indexes.largest_tables(db, env.database.indexes.largest))
    findings.expect_no_alarm(rules.invalid_indexes(bad), evidence)


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_no_duplicate_indexes(db, evidence):
    """No index duplicates another on the same table (same columns, operator classes and predicate): each one
    slows every write and is rebuilt by every reindex for nothing."""
    dups = indexes.duplicates(db)
    evidence.table("duplicate indexes", dups)
    findings.expect_no_alarm(rules.duplicate_indexes(dups), evidence)
