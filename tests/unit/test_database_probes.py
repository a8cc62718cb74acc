"""The database probes' arithmetic and parsing (no database needed), and the per-table triggers on the sandbox."""

import datetime as dt

import pytest

from opsproof import config
from opsproof.config.database import last_weekly, parse_size, parse_weekly
from opsproof.errors import ConfigError
from opsproof.probes import pg_activity, pg_params, pg_replication, pg_tables

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
])
def test_bad_database_settings_are_one_line_naming_the_key(tmp_path, section, line, key):
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\nkind = "aws"\n[aws]\naccount_id = "123456789012"\n[database]\nhost = "db.example"\n{section}\n{line}\n')
    with pytest.raises(ConfigError) as e:
        config.load(str(path))
    assert key in str(e.value) and "\n" not in str(e.value)
