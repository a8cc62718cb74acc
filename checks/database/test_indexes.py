"""Monthly 'Reindex Tables': after `REINDEX INDEX CONCURRENTLY` no broken index is left behind, no index is kept
twice, and the runbook's 'Check index sizes' query is evidence (see opsproof/probes/pg_indexes.py)."""

import pytest

from opsproof.probes import pg_indexes

pytestmark = [pytest.mark.database]


@pytest.mark.post_maintenance
@pytest.mark.nightly
@pytest.mark.monthly
def test_no_invalid_indexes(env, db, evidence):
    """REINDEX CONCURRENTLY left no invalid, not-ready or _ccnew/_ccold index behind."""
    bad = pg_indexes.broken(db)
    evidence.table("invalid, not-ready or leftover indexes", bad)
    evidence.table("largest indexes", pg_indexes.largest_indexes(db, env.database.indexes.largest))
    evidence.table("largest tables", pg_indexes.largest_tables(db, env.database.indexes.largest))
    assert not bad, f"{len(bad)} broken index(es): " + "; ".join(
        f"{i.name} on {i.table} (valid={i.valid}, ready={i.ready}): {i.leftover}" for i in bad)


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_no_duplicate_indexes(db, evidence):
    """No index duplicates another on the same table (same columns, operator classes and predicate): each one
    slows every write and is rebuilt by every reindex for nothing."""
    dups = pg_indexes.duplicates(db)
    evidence.table("duplicate indexes", dups)
    assert not dups, f"{len(dups)} duplicate index(es): " + "; ".join(
        f"{d.redundant} duplicates {d.kept} on {d.table} ({d.bytes} bytes): DROP INDEX CONCURRENTLY {d.redundant}"
        for d in dups)
