"""The database probes' arithmetic and parsing (no database needed), and the per-table triggers on the sandbox."""

import datetime as dt

import pytest

from opsproof import config
from opsproof.config.database import last_weekly, parse_size, parse_weekly
from opsproof.errors import ConfigError
from opsproof.probes import pg_activity, pg_bloat, pg_horizon, pg_params, pg_replication, pg_sequences, \
    pg_tables

UTC = dt.timezone.utc


def test_sizes_are_postgres_units():
    assert parse_size("8GB") == 8 * 1024 ** 3 and parse_size("50MB") == 50 * 1024 ** 2
    assert parse_size("8kB") == 8192 and parse_size(1024) == 1024
    with pytest.raises(ValueError, match="not a size"):
        parse_size("eight gigs")


def test_weekly_times():
    assert parse_weekly("Sun 03:00") == (6, dt.time(3))
    sat = dt.datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # a Saturday
    assert last_weekly("sun 03:00", sat) == dt.datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert last_weekly("sat 13:00", sat) == sat
    assert last_weekly("sat 13:01", sat) == dt.datetime(2026, 11, 21, 13, 1, tzinfo=UTC)


def test_rds_values_become_comparable_numbers():
    gib = 1024 ** 3
    assert pg_params.to_number("shared_buffers", "1048576") == pg_params.to_number("shared_buffers", "8GB") == 8 * gib
    assert pg_params.to_number("shared_buffers", "{DBInstanceClassMemory/32768}", 32 * gib) == 8 * gib
    assert pg_params.to_number("max_connections", "LEAST({DBInstanceClassMemory/9531392},5000)", 32 * gib) \
        == 3604  # RDS evaluates formulas in integers
    with pytest.raises(ValueError, match="instance_memory_gib"):
        pg_params.to_number("shared_buffers", "{DBInstanceClassMemory/32768}")
    with pytest.raises(ValueError, match="unsupported"):
        pg_params.to_number("work_mem", "{__import__('os')}", gib)
    review = pg_params.review({"work_mem": "50MB", "random_page_cost": "1.1"}, {"work_mem": "51200"}, None, None, 5)
    assert [(r.name, r.group_ok) for r in review] == [("work_mem", True), ("random_page_cost", False)]
    assert "parameter group has (engine default)" in str(review[1])


def test_query_text_never_carries_literals():
    assert pg_activity.excerpt("ALTER ROLE app PASSWORD 'hunter2'") == "ALTER ROLE app PASSWORD '…'"
    assert "s3cr3t" not in pg_activity.excerpt("select $tag$ s3cr3t $tag$, E'it\\'s s3cr3t'")
    assert pg_activity.excerpt("select * from t where token = 'cut off by track_activity_query_si") \
        == "select * from t where token ="
    assert pg_activity.excerpt("select * from t where id = $1") == "select * from t where id = $1"
    assert len(pg_activity.excerpt("select " + "x, " * 100)) == 100


def _table(**kw):
    base = dict(name="public.t", oid=1, reltuples=100_000.0, never_counted=False, size_bytes=10 << 20,
                live_tuples=100_000, dead_tuples=0, mods_since_analyze=0, last_vacuum=None,
                last_autovacuum=dt.datetime(2026, 1, 1, tzinfo=UTC), last_analyze=None,
                last_autoanalyze=dt.datetime(2026, 1, 1, tzinfo=UTC), autovacuum_enabled=True,
                vacuum_trigger=20_050.0, analyze_trigger=10_050.0, own_vacuum_scale=-1, own_analyze_scale=-1,
                vacuum_running=False)
    return pg_tables.Table(**{**base, **kw})


def test_each_table_is_judged_against_its_own_trigger_with_the_runbook_floor():
    big = _table(dead_tuples=15_000)  # the runbook's '> 1000' would flag it; its own trigger is 20,050
    small = _table(name="public.small", reltuples=100, dead_tuples=900, vacuum_trigger=70)  # under the floor
    due = _table(name="public.due", dead_tuples=25_000)
    running = _table(name="public.running", dead_tuples=25_000, vacuum_running=True)
    never = _table(name="public.never", last_autovacuum=None)
    empty = _table(name="public.empty", last_autovacuum=None, reltuples=0, size_bytes=0, live_tuples=0)
    found = pg_tables.vacuum_overdue([big, small, due, running, never, empty], factor=1.0, floor=1000)
    assert [str(f) for f in found] == ["public.due (25000 dead tuples > trigger 20050)",
                                       "public.never (never vacuumed)"]


def test_window_check_counts_manual_runs_only():
    start = dt.datetime(2026, 1, 4, 2, 0, tzinfo=UTC)
    auto_only = _table(last_autovacuum=start + dt.timedelta(hours=1), last_vacuum=start - dt.timedelta(days=7),
                       last_analyze=start + dt.timedelta(minutes=5))
    assert [str(f) for f in pg_tables.not_maintained_since([auto_only], start, None, None)] == [
        "public.t (last vacuum 2025-12-28 02:00:00Z)"]
    assert pg_tables.not_maintained_since([auto_only], start, set(), {"public.t"}) == []


def test_replica_lag_seconds_count_only_while_wal_is_outstanding():
    idle = pg_replication.Replica("r", "streaming", None, 0, 0, 120.0, "async", None, None)
    behind = pg_replication.Replica("r", "streaming", None, 0, 5000, 7.5, "async", None, None)
    assert idle.lag_s == 0.0 and behind.lag_s == 7.5
    seen = {"idle": idle, "behind": behind}
    assert pg_replication.behind(seen, ["idle", "behind", "gone"], max_bytes=1 << 20, max_s=5) == [
        "behind: 4.9 kB of WAL not replayed, replay lag 7.5s", "gone: not connected to the primary"]


def test_per_table_autovacuum_settings_are_honoured(sandbox):
    with sandbox.admin() as c:
        jobs = next(t for t in pg_tables.tables(c) if t.name == "public.jobs")
    # sandbox seed: ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02)
    assert jobs.own_vacuum_scale == 0.05 and jobs.vacuum_trigger == pytest.approx(50 + 0.05 * jobs.reltuples)
    assert jobs.analyze_trigger == pytest.approx(50 + 0.02 * jobs.reltuples)


@pytest.mark.parametrize("section, line, key", [
    ("[database.bloat]", 'min_table_size = "lots"', "database.bloat.min_table_size"),
    ("[database.wraparound]", "xid_age_warn = 2000000000", "database.wraparound"),
    ("[database.window]", 'weekly_vacuum = "sundays"', "database.window.weekly_vacuum"),
    ("[database.archive]", 'table = "jobs; drop table users"', "database.archive.table"),
    ("[database.vacuum]", "trigger_factr = 2", "database.vacuum.trigger_factr: unknown key"),
    ("[database.horizon]", 'slot_max_retained_wal = "a lot"', "database.horizon.slot_max_retained_wal"),
    ("[database.horizon]", 'inactive_slots = "ignore"', "database.horizon.inactive_slots"),
    ("[database.sequences]", "max_used_percent = 100", "database.sequences.max_used_percent"),
])
def test_bad_database_settings_are_one_line_naming_the_key(tmp_path, section, line, key):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\nkind = "aws"\n[aws]\naccount_id = "123456789012"\n[database]\nhost = "db.example"\n{section}\n{line}\n')
    with pytest.raises(ConfigError) as e:
        config.load(str(path))
    assert key in str(e.value) and "\n" not in str(e.value)


# ---- issue 12: what holds the horizon, sequences, tables without statistics ---------------------------------------
def _slot(**kw):
    base = dict(name="s", type="physical", plugin="", database="", active=True, xmin_age=None, catalog_xmin_age=None,
                retained_bytes=0, wal_status="reserved")
    return pg_horizon.Slot(**{**base, **kw})


def test_slots_are_judged_inactive_or_by_their_limits():
    idle = _slot(name="cdc", type="logical", plugin="pgoutput", database="app", active=False, catalog_xmin_age=12,
                 retained_bytes=5 << 20)
    big = _slot(name="replica", retained_bytes=2 << 30)
    old = _slot(name="standby", xmin_age=60_000_000)
    lost = _slot(name="gone", active=False, retained_bytes=None, wal_status="lost")
    fine = _slot(name="ok", retained_bytes=1 << 20)
    rows = [idle, big, old, lost, fine]
    strict = pg_horizon.slot_problems(rows, inactive_fails=True, max_retained_bytes=1 << 30, max_xmin_age=50_000_000)
    assert [str(f) for f in strict] == [
        "replication slot 'cdc' (logical (pgoutput, app), inactive: nothing consumes it; retains 5.0 MB of WAL, "
        "xmin age 12)",
        "replication slot 'replica' (physical, active: retained WAL over 1.0 GB; retains 2.0 GB of WAL, xmin age 0)",
        "replication slot 'standby' (physical, active: xmin age over 50000000; retains 0 bytes of WAL, xmin age "
        "60000000)",
        "replication slot 'gone' (physical, inactive: nothing consumes it, its WAL is lost: the consumer cannot "
        "resume; retains ? of WAL, xmin age 0)"]
    # "limits": an inactive slot under both limits passes; a lost one never does
    lenient = pg_horizon.slot_problems(rows, inactive_fails=False, max_retained_bytes=1 << 30,
                                       max_xmin_age=50_000_000)
    assert [f.name for f in lenient] == ["replication slot 'replica'", "replication slot 'standby'",
                                         "replication slot 'gone'"]


def test_prepared_transactions_past_the_age_are_named_by_gid():
    at = dt.datetime(2026, 1, 1, tzinfo=UTC)
    rows = [pg_horizon.Prepared("tx-old", "app", "app", at, 3600.0, 51234),
            pg_horizon.Prepared("tx-new", "app", "app", at, 0.2, 3)]
    assert [str(f) for f in pg_horizon.forgotten(rows, 60)] == [
        "prepared transaction 'tx-old' (prepared 3600s ago by app in app, xmin age 51234)"]


def _seq(**kw):
    base = dict(name="public.t_id_seq", type="bigint", min_value=1, max_value=2 ** 63 - 1, increment=1, cycle=False,
                readable=True, last_value=1000, column="public.t.id", column_type="bigint")
    return pg_sequences.Sequence(**{**base, **kw})


def test_sequences_are_counted_to_whichever_ends_first():
    int4_key = _seq(last_value=2_000_000_000, column_type="integer")  # a bigint sequence on an int4 key (pre-10)
    assert int4_key.end == 2 ** 31 - 1 and int4_key.column_ends_first
    assert int4_key.used_percent == pytest.approx(93.13, abs=0.01)
    own = _seq(type="integer", max_value=2 ** 31 - 1, last_value=2 ** 30, column_type="bigint")
    assert own.end == 2 ** 31 - 1 and not own.column_ends_first and own.used_percent == pytest.approx(50, abs=0.01)
    down = _seq(type="integer", min_value=-(2 ** 31), max_value=-1, increment=-1, last_value=-(2 ** 31) + 10,
                column_type="integer")
    assert down.end == -(2 ** 31) and down.used_percent == pytest.approx(100, abs=0.01)
    fresh = _seq(last_value=None, column=None, column_type=None)  # never called: nothing used
    hidden = _seq(name="secret.s", readable=False, last_value=None)
    found = pg_sequences.past([int4_key, own, down, fresh, hidden], max_percent=75)
    assert [f.name.split(" ")[0] for f in found] == ["public.t_id_seq", "public.t_id_seq", "secret.s"]
    assert "cannot read its last value" in str(found[-1])


def test_a_never_analyzed_table_is_judged_by_its_real_size(sandbox):
    """relpages is 0 until the first VACUUM/ANALYZE: the table is still above the floor (pg_relation_size), read by
    pgstattuple_approx when it can be, and 'blind' (the check fails on it) when it cannot. A table whose statistics
    view was reset (never-vacuumed-table: a failover) keeps its catalog statistics: untrusted, never blind."""
    from sandbox import faults, lifecycle

    def assess(c, name, confirm_with):
        rows = pg_tables.tables(c)
        return next(b for b in pg_bloat.assess(
            c, min_bytes=1 << 20, fresh={t.name for t in rows if t.statistics_fresh}, confirm_from=20,
            confirm_with=confirm_with, confirm_max_tables=10, confirm_timeout_s=10) if b.name == name)

    with lifecycle.lock(sandbox):
        faults.apply(sandbox, "table-never-analyzed")
        faults.apply(sandbox, "never-vacuumed-table")
    try:
        with sandbox.admin() as c:
            assert c.execute("SELECT relpages FROM pg_class WHERE relname = 'render_imports'").fetchone()[0] == 0
            read = assess(c, "public.render_imports", "pgstattuple_approx")
            assert read.basis == "pgstattuple_approx" and read.percent > 30 and not read.blind, read
            blind = assess(c, "public.render_imports", "none")
            assert blind.blind and blind.percent is None and blind.size_bytes > 1 << 20, blind
            reset = assess(c, "public.assets", "none")
            assert not reset.estimate_trusted and not reset.blind and reset.note.startswith("statistics not fresh")
    finally:
        with lifecycle.lock(sandbox):
            faults.heal(sandbox, "never-vacuumed-table")
            faults.heal(sandbox, "table-never-analyzed")


def test_sequences_find_every_column_they_feed(sandbox):
    """Identity columns, serials on partitioned tables (once, not per partition), sequences feeding nothing, and
    descending ones, read from a real catalog (in a transaction rolled back)."""
    with sandbox.admin(autocommit=False) as c:
        c.execute("CREATE TABLE zz_ident (id smallint GENERATED ALWAYS AS IDENTITY, v int)")
        c.execute("CREATE TABLE zz_part (id serial, at date) PARTITION BY RANGE (at)")
        c.execute("CREATE TABLE zz_part_1 PARTITION OF zz_part FOR VALUES FROM ('2020-01-01') TO ('2030-01-01')")
        c.execute("CREATE SEQUENCE zz_free; CREATE SEQUENCE zz_down INCREMENT -1")
        c.execute("SELECT setval('zz_ident_id_seq', 30000), nextval('zz_down')")
        rows = {s.name: s for s in pg_sequences.sequences(c) if ".zz_" in s.name}
        c.rollback()
    assert sorted(rows) == ["public.zz_down", "public.zz_free", "public.zz_ident_id_seq", "public.zz_part_id_seq"]
    assert rows["public.zz_ident_id_seq"].column == "public.zz_ident.id" and rows["public.zz_ident_id_seq"].end == 32767
    assert rows["public.zz_part_id_seq"].column == "public.zz_part.id"
    assert rows["public.zz_free"].column is None and rows["public.zz_free"].used_percent == 0
    assert rows["public.zz_down"].end == -(2 ** 63) and rows["public.zz_down"].used_percent < 0.01
    assert [f.measured for f in pg_sequences.past(list(rows.values()), 75)] == [pytest.approx(91.56, abs=0.01)]
    # the seed's legacy int4 key on a bigint sequence (sandbox/postgres.py) is counted to the column
    with sandbox.admin() as c:
        legacy = next(s for s in pg_sequences.sequences(c) if s.name == "public.job_events_id_seq")
    assert legacy.type == "bigint" and legacy.column_type == "integer" and legacy.column_ends_first
