"""The database probes' arithmetic and parsing (no database needed), and the per-table triggers on the sandbox. The
rules over their facts: tests/unit/test_rules_database.py."""

import datetime as dt

import pytest

from opsproof import config
from opsproof.config.database import last_weekly, parse_size, parse_weekly
from opsproof.errors import ConfigError
from opsproof.config.database import Sequences
from opsproof.postgres import activity, bloat, parameters, sequences, tables
from opsproof.rules import database as rules

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
    assert parameters.to_number("shared_buffers", "1048576") == parameters.to_number("shared_buffers", "8GB") == 8 * gib
    assert parameters.to_number("shared_buffers", "{DBInstanceClassMemory/32768}", 32 * gib) == 8 * gib
    assert parameters.to_number("max_connections", "LEAST({DBInstanceClassMemory/9531392},5000)", 32 * gib) \
        == 3604  # RDS evaluates formulas in integers
    with pytest.raises(ValueError, match="instance_memory_gib"):
        parameters.to_number("shared_buffers", "{DBInstanceClassMemory/32768}")
    with pytest.raises(ValueError, match="unsupported"):
        parameters.to_number("work_mem", "{__import__('os')}", gib)
    work_mem, cost = parameters.reviewed({"work_mem": "50MB", "random_page_cost": "1.1"}, {"work_mem": "51200"}, None,
                                         None)
    assert (work_mem.group_number, work_mem.want, work_mem.group_value) == (50 * 1024 ** 2, 50 * 1024 ** 2, "50MB")
    assert (cost.parameter_group, cost.group_number, cost.want) == (None, None, 1.1)  # the engine default


def test_query_text_never_carries_literals():
    assert activity.excerpt("ALTER ROLE app PASSWORD 'hunter2'") == "ALTER ROLE app PASSWORD '…'"
    assert "s3cr3t" not in activity.excerpt("select $tag$ s3cr3t $tag$, E'it\\'s s3cr3t'")
    assert activity.excerpt("select * from t where token = 'cut off by track_activity_query_si") \
        == "select * from t where token ="
    assert activity.excerpt("select * from t where id = $1") == "select * from t where id = $1"
    assert len(activity.excerpt("select " + "x, " * 100)) == 100


def test_per_table_autovacuum_settings_are_honoured(sandbox):
    with sandbox.admin() as c:
        jobs = next(t for t in tables.tables(c) if t.name == "public.jobs")
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
def _seq(**kw):
    base = dict(name="public.t_id_seq", type="bigint", min_value=1, max_value=2 ** 63 - 1, increment=1, cycle=False,
                readable=True, last_value=1000, column="public.t.id", column_type="bigint")
    return sequences.Sequence(**{**base, **kw})


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
    assert fresh.used_percent == 0


def test_a_never_analyzed_table_is_judged_by_its_real_size(sandbox):
    """relpages is 0 until the first VACUUM/ANALYZE: the table is still above the floor (pg_relation_size), read by
    pgstattuple_approx when it can be, and 'blind' (the check fails on it) when it cannot. A table whose statistics
    view was reset (never-vacuumed-table: a failover) keeps its catalog statistics: untrusted, never blind."""
    from sandbox import faults, lifecycle

    def assess(c, name, confirm_with):
        rows = tables.tables(c)
        return next(b for b in bloat.assess(
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
        rows = {s.name: s for s in sequences.sequences(c) if ".zz_" in s.name}
        c.rollback()
    assert sorted(rows) == ["public.zz_down", "public.zz_free", "public.zz_ident_id_seq", "public.zz_part_id_seq"]
    assert rows["public.zz_ident_id_seq"].column == "public.zz_ident.id" and rows["public.zz_ident_id_seq"].end == 32767
    assert rows["public.zz_part_id_seq"].column == "public.zz_part.id"
    assert rows["public.zz_free"].column is None and rows["public.zz_free"].used_percent == 0
    assert rows["public.zz_down"].end == -(2 ** 63) and rows["public.zz_down"].used_percent < 0.01
    past = [f.measured for f in rules.sequences(list(rows.values()), Sequences()) if f.failing]
    assert past == [pytest.approx(91.56, abs=0.01)]
    # the seed's legacy int4 key on a bigint sequence (sandbox/postgres.py) is counted to the column
    with sandbox.admin() as c:
        legacy = next(s for s in sequences.sequences(c) if s.name == "public.job_events_id_seq")
    assert legacy.type == "bigint" and legacy.column_type == "integer" and legacy.column_ends_first
