"""Sequences and integer keys far from their end: each sequence counted to its own bound or the column it feeds,
whichever ends first (opsproof/postgres/sequences.py). Threshold: database.sequences.max_used_percent."""

import pytest

from opsproof import findings
from opsproof.postgres import sequences
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.monthly
def test_sequences_are_far_from_their_end(env, db, evidence):
    """No sequence, and no int2/int4 key fed by a sequence, has used more than database.sequences.max_used_percent
    of its range: when it ends, every INSERT fails."""
    rows = sequences.sequences(db)
    evidence.value("sequences (one row per column fed)", len(rows))
    evidence.table("most used sequences", [
        {"sequence": s.name, "type": s.type, "column": s.column, "column type": s.column_type,
         "last_value": s.last_value, "ends at": s.end, "used %": s.used_percent,
         "column ends first": s.column_ends_first}
        for s in sorted(rows, key=lambda s: -s.used_percent)[:20]])
    findings.expect_no_alarm(rules.sequences(rows, env.database.sequences), evidence)
