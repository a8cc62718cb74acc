"""Weekly 'Check table bloat' (the runbook's `n_dead_tup > 1000` query) done properly: wasted bytes and percentage
per table, estimated only on fresh statistics, confirmed with pgstattuple (see opsproof/probes/pg_bloat.py)."""

import pytest

from opsproof.probes import pg_bloat, pg_tables
from opsproof.probes.postgres import pretty

pytestmark = [pytest.mark.database]


@pytest.mark.monthly
@pytest.mark.pre_maintenance
def test_tables_are_not_bloated(env, db, evidence):
    """Table bloat: no table above the size floor wastes more than the allowed share of its size in dead tuples
    and free space (estimate trusted on fresh statistics only, confirmed with pgstattuple where installed); a table
    never vacuumed nor analyzed is read, or fails as one whose bloat cannot be judged."""
    b = env.database.bloat
    fresh = {t.name for t in pg_tables.tables(db) if t.statistics_fresh}
    result = pg_bloat.assess(db, min_bytes=b.min_table_bytes, fresh=fresh, confirm_from=b.confirm_from_percent,
                             confirm_with=b.confirm_with, confirm_max_tables=b.confirm_max_tables,
                             confirm_timeout_s=b.confirm_timeout_s)
    evidence.value("tables judged (at least database.bloat.min_table_size)", f"{len(result)} (>= {b.min_table_size})")
    evidence.table("bloat per table", result)
    unjudged = [r for r in result if r.percent is None]
    if unjudged:
        evidence.table("not judged (estimate untrusted, not confirmed)", unjudged)
    bloated = [r for r in result if r.percent is not None and r.percent > b.max_percent]
    blind = [r for r in result if r.blind]
    assert not bloated and not blind, "; ".join(filter(None, [
        bloated and f"{len(bloated)} table(s) over database.bloat.max_percent={b.max_percent:g}% wasted: "
        + "; ".join(f"{r.name} {r.percent}% wasted ({pretty(r.wasted_bytes)} of {pretty(r.size_bytes)}, "
                    f"{r.basis}{', ' + r.note if r.note else ''})" for r in bloated)
        + ". Reclaim with pg_repack, or VACUUM FULL in a window (it locks the table)",
        blind and f"{len(blind)} table(s) without statistics, so their bloat cannot be judged: "
        + ", ".join(f"{r.name} ({pretty(r.size_bytes)}, {r.note})" for r in blind)
        + ". Run: python -m actions vacuum-analyze --tables " + " ".join(r.name for r in blind)]))
