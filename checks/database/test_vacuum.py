"""Weekly database tasks: 'Analyze and Vacuum (Every Sunday 3 AM UTC)' and 'Update Table Statistics'.

Each table is judged against its OWN autovacuum triggers (threshold + scale factor × reltuples, per-table settings
honoured), not the runbook's flat `> 1000`, which is kept as a floor (see opsproof/postgres/tables.py).
"""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.postgres import tables, window
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


def _table_rows(rows, key, n=10):
    """The top n tables by key, as compact evidence rows."""
    return [{"table": t.name, "rows (reltuples)": round(t.reltuples), "dead tuples": t.dead_tuples,
             "vacuum trigger": round(t.vacuum_trigger), "mods since analyze": t.mods_since_analyze,
             "analyze trigger": round(t.analyze_trigger), "last vacuum": t.vacuumed_at, "last analyze": t.analyzed_at,
             "autovacuum": t.autovacuum_enabled}
            for t in sorted(rows, key=key, reverse=True)[:n]]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_vacuum_keeps_up(env, db, evidence):
    """Vacuum keeps up: no table holds more dead tuples than its own autovacuum trigger (and the runbook's
    `n_dead_tup > 1000`), and no table with rows has never been vacuumed."""
    rows = tables.tables(db)
    evidence.table("most dead tuples (against each table's own trigger)",
                   _table_rows(rows, key=lambda t: t.dead_tuples / max(t.vacuum_trigger, 1)))
    findings.expect_no_alarm(rules.vacuum(rows, env.database.vacuum), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_statistics_are_current(env, db, evidence):
    """Statistics are current: no table has more modifications since its last analyze than its own analyze
    trigger (and the runbook's `n_mod_since_analyze > 1000`), and no table with rows has never been analyzed."""
    rows = tables.tables(db)
    evidence.table("most modified since analyze (against each table's own trigger)",
                   _table_rows(rows, key=lambda t: t.mods_since_analyze / max(t.analyze_trigger, 1)))
    findings.expect_no_alarm(rules.statistics(rows, env.database.statistics), evidence)


@pytest.mark.post_maintenance
def test_window_vacuumed_and_analyzed_every_table(env, db, evidence):
    """After the window: every table the window vacuumed or analyzed shows a last VACUUM/ANALYZE after the window
    began (the runbook's weekly `VACUUM ANALYZE VERBOSE` reached every table)."""
    w = env.database.window
    now = db.execute("SELECT now()").fetchone()[0]
    scope = window.scope(window.read_record(env.path(w.record)), w.weekly_vacuum, now, str(env.path(w.record)))
    if scope is None:
        pytest.skip(f"no window recorded at {env.path(w.record)} and no database.window.weekly_vacuum: run "
                    "python -m actions vacuum-analyze --apply")
    evidence.value("window began", scope.since.astimezone(dt.timezone.utc))
    evidence.value("window", scope.source)
    findings.expect_no_alarm(rules.window_reached(tables.tables(db), scope), evidence)
