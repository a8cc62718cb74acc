"""Weekly database tasks: 'Analyze and Vacuum (Every Sunday 3 AM UTC)' and 'Update Table Statistics'.

Each table is judged against its OWN autovacuum triggers (threshold + scale factor × reltuples, per-table settings
honoured), not the runbook's flat `> 1000`, which is kept as a floor (see opsproof/probes/pg_tables.py).
"""

import datetime as dt

import pytest

from opsproof.config.database import last_weekly
from opsproof.probes import pg_tables, pg_window

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
    cfg = env.database.vacuum
    rows = pg_tables.tables(db)
    late = pg_tables.vacuum_overdue(rows, cfg.trigger_factor, cfg.dead_tuples_floor)
    evidence.value("tables", len(rows))
    evidence.table("tables vacuum has not kept up with", late)
    evidence.table("most dead tuples (against each table's own trigger)",
                   _table_rows(rows, key=lambda t: t.dead_tuples / max(t.vacuum_trigger, 1)))
    assert not late, (
        f"{len(late)} table(s) not kept up by vacuum (limit: database.vacuum.trigger_factor={cfg.trigger_factor:g} "
        f"× each table's own trigger, at least database.vacuum.dead_tuples_floor={cfg.dead_tuples_floor}): "
        + "; ".join(map(str, late)) + ". Run: python -m actions vacuum-analyze --tables "
        + " ".join(f.name for f in late))


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_statistics_are_current(env, db, evidence):
    """Statistics are current: no table has more modifications since its last analyze than its own analyze
    trigger (and the runbook's `n_mod_since_analyze > 1000`), and no table with rows has never been analyzed."""
    cfg = env.database.statistics
    rows = pg_tables.tables(db)
    stale = pg_tables.statistics_stale(rows, cfg.trigger_factor, cfg.mods_floor)
    evidence.value("tables", len(rows))
    evidence.table("tables with stale statistics", stale)
    evidence.table("most modified since analyze (against each table's own trigger)",
                   _table_rows(rows, key=lambda t: t.mods_since_analyze / max(t.analyze_trigger, 1)))
    assert not stale, (
        f"{len(stale)} table(s) with stale statistics (limit: database.statistics.trigger_factor="
        f"{cfg.trigger_factor:g} × each table's own analyze trigger, at least database.statistics.mods_floor="
        f"{cfg.mods_floor}): " + "; ".join(map(str, stale)) + ". Run: python -m actions analyze --tables "
        + " ".join(f.name for f in stale))


@pytest.mark.post_maintenance
def test_window_vacuumed_and_analyzed_every_table(env, db, evidence):
    """After the window: every table the window vacuumed or analyzed shows a last VACUUM/ANALYZE after the window
    began (the runbook's weekly `VACUUM ANALYZE VERBOSE` reached every table)."""
    w = env.database.window
    record = pg_window.read_record(env.path(w.record))
    now = db.execute("SELECT now()").fetchone()[0]
    scheduled = last_weekly(w.weekly_vacuum, now) if w.weekly_vacuum else None
    if record and (scheduled is None or record.started_at >= scheduled):
        since, vacuumed, analyzed = record.started_at, set(record.vacuumed), set(record.analyzed)
        source = f"recorded run '{record.action}' ({env.path(w.record)})"
    elif scheduled:
        since, vacuumed, analyzed = scheduled, None, None
        source = f"weekly job database.window.weekly_vacuum='{w.weekly_vacuum}' UTC: every table"
    else:
        pytest.skip(f"no window recorded at {env.path(w.record)} and no database.window.weekly_vacuum: run "
                    "python -m actions vacuum-analyze --apply")
    evidence.value("window began", since.astimezone(dt.timezone.utc))
    evidence.value("window", source)
    missed = pg_tables.not_maintained_since(pg_tables.tables(db), since, vacuumed, analyzed)
    evidence.table("tables the window did not reach", missed)
    assert not missed, (
        f"{len(missed)} table(s) show no VACUUM/ANALYZE since the window began at "
        f"{since.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S}Z ({source}): " + "; ".join(map(str, missed)))
