"""Weekly 'Check table bloat' (the runbook's `n_dead_tup > 1000` query) done properly: wasted bytes and percentage
per table, estimated only on fresh statistics, confirmed with pgstattuple (see opsproof/postgres/bloat.py)."""

import pytest

from opsproof import findings
from opsproof.postgres import bloat, tables
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.monthly
@pytest.mark.pre_maintenance
def test_tables_are_not_bloated(env, db, evidence):
    """Table bloat: no table above the size floor wastes more than the allowed share of its size in dead tuples
    and free space (estimate trusted on fresh statistics only, confirmed with pgstattuple where installed); a table
    never vacuumed nor analyzed is read, or fails as one whose bloat cannot be judged."""
    b = env.database.bloat
    fresh = {t.name for t in tables.tables(db) if t.statistics_fresh}
    result = bloat.assess(db, min_bytes=b.min_table_bytes, fresh=fresh, confirm_from=b.confirm_from_percent,
                          confirm_with=b.confirm_with, confirm_max_tables=b.confirm_max_tables,
                          confirm_timeout_s=b.confirm_timeout_s)
    evidence.value("tables judged (at least database.bloat.min_table_size)", f"{len(result)} (>= {b.min_table_size})")
    evidence.table("bloat per table", result)
    findings.expect_no_alarm(rules.bloat(result, b), evidence)
