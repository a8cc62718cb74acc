"""The database rules (opsproof/rules/database*.py) on hand-built facts: each way a check of checks/database/ can
fail is its own alarm naming the table, index, session, slot, replica or parameter, the configuration key that sets
the limit and the fix; the healthy case says what it looked at. No sandbox."""

import datetime as dt

from dataclasses import replace

import pytest

from opsproof import findings
from opsproof.config.database import Archive, Bloat as BloatLimits, Connections, Database, Horizon, Parameters, \
    Replication, Sequences, Statistics, Vacuum, Wraparound
from opsproof.postgres.activity import ConnectionGroup, DatabaseAge, HorizonHolder, Session, Usage
from opsproof.postgres.archive import Overdue
from opsproof.postgres.bloat import Bloat
from opsproof.postgres.horizon import Prepared, Slot
from opsproof.postgres.indexes import BrokenIndex, DuplicateIndex
from opsproof.postgres.parameters import reviewed
from opsproof.postgres.replication import Replica
from opsproof.postgres.sequences import Sequence
from opsproof.postgres.server import Server
from opsproof.postgres.tables import Table
from opsproof.postgres.window import Record, scope
from opsproof.probes.rds import Instance as RdsInstance
from opsproof.rules import database as rules, database_activity as activity, database_parameters as params

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 4, 2, 0, tzinfo=UTC)


def alarms(found) -> list[str]:
    return [f.line() for f in findings.failing(found)]


def only_alarm(found):
    (bad,) = findings.failing(found)
    return bad


# ---- the server and the RDS instance -------------------------------------------------------------------------------
def server(**kw):
    return Server(**{**dict(version="15.4", version_num=150004, in_recovery=False, user="opsproof_check",
                            read_only=True), **kw})


DB = Database(host="db.example")


def test_a_read_only_supported_server_passes_saying_so():
    found = rules.server(server(), DB)
    assert not alarms(found) and [f.subject for f in found] == ["role opsproof_check", "PostgreSQL 15.4"]


def test_a_writable_session_is_an_alarm_with_the_fix():
    bad = only_alarm(rules.server(server(read_only=False), DB))
    assert "got a writable session" in bad.reason and "default_transaction_read_only = on" in bad.fix


def test_an_old_server_is_an_alarm_naming_the_key():
    bad = only_alarm(rules.server(server(version="11.9", version_num=110009), DB))
    assert bad.line() == "PostgreSQL 11.9: is older than 12 (database.min_server_version)"
    assert not alarms(rules.server(server(version="12.0", version_num=120000), DB))  # the boundary passes


def rds(status):
    return RdsInstance("prod-db", status, "postgres", "15.4", "db.r6g.xlarge", 7, True)


def test_rds_instance_missing_stopped_or_elsewhere():
    assert alarms(rules.rds_instance(None, "prod-db", "us-east-1")) == [
        "prod-db: RDS instance not found in us-east-1 (rds.instance_id)"]
    stopped = only_alarm(rules.rds_instance(rds("stopped"), "prod-db", "us-east-1"))
    assert "is 'stopped', not 'available'" in stopped.reason and "start-db-instance" in stopped.fix
    assert only_alarm(rules.rds_instance(rds("modifying"), "prod-db", "us-east-1")).fix is None
    assert not alarms(rules.rds_instance(rds("available"), "prod-db", "us-east-1"))


# ---- vacuum, statistics, the window -------------------------------------------------------------------------------
def table(**kw):
    base = dict(name="public.t", oid=1, reltuples=100_000.0, never_counted=False, size_bytes=10 << 20,
                live_tuples=100_000, dead_tuples=0, mods_since_analyze=0, last_vacuum=None,
                last_autovacuum=dt.datetime(2026, 1, 1, tzinfo=UTC), last_analyze=None,
                last_autoanalyze=dt.datetime(2026, 1, 1, tzinfo=UTC), autovacuum_enabled=True,
                vacuum_trigger=20_050.0, analyze_trigger=10_050.0, own_vacuum_scale=-1, own_analyze_scale=-1,
                vacuum_running=False)
    return Table(**{**base, **kw})


def test_each_table_is_judged_against_its_own_trigger_with_the_runbook_floor():
    big = table(dead_tuples=15_000)  # the runbook's '> 1000' would flag it; its own trigger is 20,050
    small = table(name="public.small", reltuples=100, dead_tuples=900, vacuum_trigger=70)  # under the floor
    running = table(name="public.running", dead_tuples=25_000, vacuum_running=True)
    empty = table(name="public.empty", last_autovacuum=None, reltuples=0, size_bytes=0, live_tuples=0)
    found = rules.vacuum([big, small, running, empty], Vacuum())
    assert not alarms(found) and len(found) == 4  # one ok per table: the evidence shows what was looked at
    assert "vacuum running" in found[2].reason


def test_a_table_past_its_trigger_names_the_count_the_key_and_the_fix():
    bad = only_alarm(rules.vacuum([table(name="public.due", dead_tuples=25_000, autovacuum_enabled=False)], Vacuum()))
    assert bad.line() == ("public.due: 25000 dead tuples > trigger 20050, autovacuum disabled on it "
                          "(database.vacuum.trigger_factor); fix: python -m actions vacuum-analyze --tables public.due")
    assert (bad.measured, bad.limit) == (25_000, 20_050)


def test_the_floor_sets_the_limit_of_a_small_table_and_its_boundary_passes():
    small = table(name="public.small", reltuples=100, dead_tuples=1001, vacuum_trigger=70)
    assert only_alarm(rules.vacuum([small], Vacuum())).key == "database.vacuum.dead_tuples_floor"
    assert not alarms(rules.vacuum([table(dead_tuples=20_050)], Vacuum()))  # at the trigger: not past it


def test_a_table_with_rows_never_vacuumed_is_an_alarm():
    bad = only_alarm(rules.vacuum([table(name="public.never", last_autovacuum=None)], Vacuum()))
    assert bad.line().startswith("public.never: never vacuumed; fix: python -m actions vacuum-analyze")


def test_stale_statistics_and_never_analyzed():
    stale = table(name="public.projects", mods_since_analyze=3000, analyze_trigger=2050)
    never = table(name="public.fresh", last_autoanalyze=None)
    assert alarms(rules.statistics([stale, never, table()], Statistics())) == [
        "public.projects: 3000 modifications since analyze > trigger 2050 (database.statistics.trigger_factor); "
        "fix: python -m actions analyze --tables public.projects",
        "public.fresh: never analyzed; fix: python -m actions analyze --tables public.fresh"]
    assert only_alarm(rules.statistics([table(mods_since_analyze=1001, analyze_trigger=60)], Statistics())).key \
        == "database.statistics.mods_floor"


def test_the_window_counts_manual_runs_only():
    auto_only = table(last_autovacuum=T0 + dt.timedelta(hours=1), last_vacuum=T0 - dt.timedelta(days=7),
                      last_analyze=T0 + dt.timedelta(minutes=5))
    every = scope(None, "sun 02:00", T0 + dt.timedelta(hours=2), "w.json")
    assert every.since == T0 and every.vacuumed is None
    assert alarms(rules.window_reached([auto_only], every)) == [
        "public.t: last vacuum 2025-12-28 02:00:00Z, not since the window began at 2026-01-04 02:00:00Z; "
        "fix: python -m actions vacuum-analyze --tables public.t"]


def test_the_window_asks_only_what_the_recorded_run_meant_to_do():
    record = Record("analyze", T0, vacuumed=[], analyzed=["public.t"])
    recorded = scope(record, "sun 01:00", T0 + dt.timedelta(hours=1), "w.json")  # newer than the weekly job
    assert recorded.source == "recorded run 'analyze' (w.json)"
    maintained = table(last_analyze=T0 + dt.timedelta(minutes=5))
    other = table(name="public.other", last_analyze=None)  # not in the run: not looked at
    found = rules.window_reached([maintained, other], recorded)
    assert not alarms(found) and [f.subject for f in found] == ["public.t"]
    assert alarms(rules.window_reached([table(last_analyze=None)], recorded)) == [
        "public.t: last analyze never, not since the window began at 2026-01-04 02:00:00Z; "
        "fix: python -m actions analyze --tables public.t"]
    assert scope(None, None, T0, "w.json") is None  # nothing to judge: the check skips


# ---- bloat and indexes -------------------------------------------------------------------------------------------
def bloat(**kw):
    base = dict(name="public.assets", size_bytes=200 << 20, estimated_percent=10.0, estimate_trusted=True,
                basis="estimate", percent=10.0, wasted_bytes=20 << 20)
    return Bloat(**{**base, **kw})


def test_a_bloated_table_names_its_waste_and_how_it_was_measured():
    bad = only_alarm(rules.bloat([bloat(percent=50.3, wasted_bytes=100 << 20, basis="pgstattuple_approx",
                                        note="never vacuumed nor analyzed"), bloat(name="public.jobs")],
                                 BloatLimits()))
    assert bad.line().startswith("public.assets: 50.3% wasted (100.0 MB of 200.0 MB, pgstattuple_approx, never "
                                 "vacuumed nor analyzed) (database.bloat.max_percent); fix: pg_repack")


def test_bloat_at_the_limit_passes_and_an_unconfirmed_estimate_is_a_skip():
    found = rules.bloat([bloat(percent=30.0), bloat(name="public.x", percent=None, wasted_bytes=None,
                                                    estimate_trusted=False, basis="unconfirmed",
                                                    note="statistics not fresh")], BloatLimits())
    assert not alarms(found) and [f.status for f in found] == ["ok", "skip"]


def test_a_table_nobody_could_judge_fails_with_the_fix():
    blind = bloat(name="public.render_imports", percent=None, wasted_bytes=None, estimate_trusted=False,
                  basis="unconfirmed", note="never vacuumed nor analyzed; pgstattuple not available",
                  no_statistics=True)
    bad = only_alarm(rules.bloat([blind], BloatLimits()))
    assert "its bloat cannot be judged" in bad.reason and bad.fix.endswith("--tables public.render_imports")


@pytest.mark.parametrize("name, valid, expected", [
    ("public.idx_users_email_ccnew", False, "leftover of a failed REINDEX CONCURRENTLY"),
    ("public.idx_users_email_ccold", True, "old copy from a REINDEX CONCURRENTLY"),
    ("public.idx_jobs_status", False, "invalid (failed CREATE INDEX CONCURRENTLY?)"),
])
def test_each_broken_index_is_named_with_what_to_do(name, valid, expected):
    bad = only_alarm(rules.invalid_indexes([BrokenIndex(name, "public.users", valid, True, True, 8192)]))
    assert bad.subject == name and expected in bad.reason
    assert bad.fix == "python -m actions reindex --tables public.users"


def test_no_broken_or_duplicate_index_is_one_ok():
    assert [f.status for f in rules.invalid_indexes([]) + rules.duplicate_indexes([])] == ["ok", "ok"]


def test_a_duplicate_index_names_the_one_to_drop():
    dup = DuplicateIndex("public.projects_user_id_idx", "public.idx_projects_user_id", "projects", 16384)
    assert alarms(rules.duplicate_indexes([dup])) == [
        "public.projects_user_id_idx: duplicates public.idx_projects_user_id on projects (16.0 kB); "
        "fix: DROP INDEX CONCURRENTLY public.projects_user_id_idx"]


# ---- sequences and the archive policy ---------------------------------------------------------------------------
def seq(**kw):
    base = dict(name="public.t_id_seq", type="bigint", min_value=1, max_value=2 ** 63 - 1, increment=1, cycle=False,
                readable=True, last_value=1000, column="public.t.id", column_type="bigint")
    return Sequence(**{**base, **kw})


def test_an_int4_key_on_a_bigint_sequence_is_counted_to_the_column():
    bad = only_alarm(rules.sequences([seq(last_value=2_000_000_000, column_type="integer"), seq()], Sequences()))
    assert bad.line().startswith("public.t_id_seq (bigint) feeds public.t.id (integer): 93.1% used, last_value "
                                 "2000000000 of 2147483647 (the column ends first), past 75% "
                                 "(database.sequences.max_used_percent)")
    assert bad.fix == "ALTER TABLE public.t ALTER COLUMN id TYPE bigint (a table rewrite: plan it in a window)"


def test_an_int4_sequence_needs_both_widened_and_the_boundary_passes():
    full = seq(type="integer", max_value=2 ** 31 - 1, last_value=2 ** 31 - 1, column_type="integer")
    assert only_alarm(rules.sequences([full], Sequences())).fix.endswith("and ALTER SEQUENCE public.t_id_seq AS bigint")
    at_limit = seq(type="smallint", max_value=100, last_value=75, column_type="bigint")
    assert at_limit.used_percent == 75 and not alarms(rules.sequences([at_limit], Sequences()))


def test_a_sequence_the_role_cannot_read_is_never_passed():
    bad = only_alarm(rules.sequences([seq(name="secret.s", readable=False, last_value=None)], Sequences()))
    assert bad.line().startswith("secret.s: cannot read its last value; fix: grant pg_read_all_data")
    assert rules.sequences([], Sequences()) == []


def test_rows_past_retention_are_counted_with_the_action_that_archives_them():
    due = Overdue("jobs", 2500, dt.datetime(2025, 9, 1, tzinfo=UTC), T0, [("2025-09-01", 2500)])
    assert alarms(rules.archive(due, Archive())) == [
        "jobs: 2500 row(s) with status = 'completed' older than 90 days (oldest created_at 2025-09-01) "
        "(database.archive.retention_days); fix: python -m actions archive-jobs --apply"]
    assert not alarms(rules.archive(Overdue("jobs", 0, None, T0), Archive()))


# ---- connections and sessions ------------------------------------------------------------------------------------
def test_connections_over_the_share_name_the_largest_groups():
    groups = [ConnectionGroup("app", "opsproof-fault-connection-saturation", None, "idle", 40)]
    bad = only_alarm(activity.connections(Usage(60, 3, 50), groups, Connections()))
    assert bad.reason.startswith("50 client connections = 83.3% of max_connections 60 > 80%; largest: 40 × "
                                 "app/opsproof-fault-connection-saturation from local (idle)")
    assert bad.key == "database.connections.max_percent"
    assert not alarms(activity.connections(Usage(100, 3, 80), groups, Connections()))  # 80%: at the limit


def session(seconds, state="active", query="SELECT pg_sleep(86400)"):
    return Session(4242, "app", "opsproof-fault-long-running-query", None, state, seconds, seconds, 12, query)


def test_long_queries_and_idle_transactions_name_the_session_and_its_query():
    assert alarms(activity.long_queries([session(400.0)], Connections())) == [
        "pid 4242 (app, opsproof-fault-long-running-query): active for 400s > 300s: SELECT pg_sleep(86400) "
        "(database.connections.long_query_s); fix: SELECT pg_cancel_backend(4242) once its owner agrees"]
    idle = only_alarm(activity.idle_in_transaction([session(301.0, "idle in transaction")], Connections()))
    assert "idle in transaction for 301s" in idle.reason and "pg_terminate_backend(4242)" in idle.fix
    assert idle.key == "database.connections.idle_in_transaction_s"


def test_no_session_over_the_limit_is_one_ok():
    found = activity.long_queries([session(300.0)], Connections())  # at the limit: not longer than it
    assert [(f.status, f.subject) for f in found] == [("ok", "queries")]


# ---- wraparound and the horizon --------------------------------------------------------------------------------
HOLDER = HorizonHolder("prepared transaction 'forgotten' (app, aifilmstudio)", 1_200_000_000, None, "",
                       "ROLLBACK PREPARED 'forgotten' in database aifilmstudio")


def test_wraparound_names_the_database_and_what_holds_it_back():
    ages = [DatabaseAge("aifilmstudio", 1_200_000_000, 10, 55.9), DatabaseAge("postgres", 600_000_000, 10, 28.0),
            DatabaseAge("template1", 100, 10, 0.0)]
    found = activity.wraparound(ages, [HOLDER], Wraparound())
    bad = only_alarm(found)
    assert bad.line().startswith("aifilmstudio: xid age 1,200,000,000: transaction ID wraparound approaching; held "
                                 "back by: prepared transaction 'forgotten'")
    assert bad.key == "database.wraparound.xid_age_max" and bad.fix.startswith("ROLLBACK PREPARED 'forgotten'")
    assert "over xid_age_warn 500,000,000" in found[1].reason  # passes, saying so


def test_multixact_age_alone_fails_and_without_holders_the_fix_is_freeze():
    bad = only_alarm(activity.wraparound([DatabaseAge("app", 100, 1_100_000_000, 0.0)], [], Wraparound()))
    assert "multixact age 1,100,000,000" in bad.reason and "held back by: nothing now" in bad.reason
    assert bad.key == "database.wraparound.mxid_age_max" and bad.fix == "VACUUM (FREEZE) the oldest tables"


def test_a_forgotten_prepared_transaction_is_named_by_gid():
    rows = [Prepared("tx-old", "aifilmstudio", "app", T0, 3600.0, 51234), Prepared("tx-new", "app", "app", T0, 0.2, 3)]
    found = activity.prepared(rows, Horizon())
    assert alarms(found) == [
        "prepared transaction 'tx-old': prepared 3600s ago by app in aifilmstudio, xmin age 51234, older than 60s "
        "(database.horizon.prepared_xact_max_age_s); fix: ask its coordinator, then COMMIT PREPARED or ROLLBACK "
        "PREPARED 'tx-old' (in database aifilmstudio)"]
    assert [f.status for f in found] == ["alarm", "ok"] and activity.prepared([], Horizon())[0].status == "ok"


def slot(**kw):
    base = dict(name="s", type="physical", plugin="", database="", active=True, xmin_age=None, catalog_xmin_age=None,
                retained_bytes=0, wal_status="reserved")
    return Slot(**{**base, **kw})


@pytest.mark.parametrize("s, expected, key", [
    (slot(name="cdc", type="logical", plugin="pgoutput", database="app", active=False, catalog_xmin_age=12,
          retained_bytes=5 << 20),
     "replication slot 'cdc': logical (pgoutput, app), inactive: nothing consumes it; retains 5.0 MB of WAL, xmin "
     "age 12", "database.horizon.inactive_slots"),
    (slot(name="replica", retained_bytes=2 << 30),
     "replication slot 'replica': physical, active: retained WAL over 1.0 GB; retains 2.0 GB of WAL",
     "database.horizon.slot_max_retained_wal"),
    (slot(name="standby", xmin_age=60_000_000),
     "replication slot 'standby': physical, active: xmin age over 50000000", "database.horizon.slot_max_xmin_age"),
    (slot(name="gone", active=True, retained_bytes=None, wal_status="lost"),
     "replication slot 'gone': physical, active: its WAL is lost: the consumer cannot resume; retains ? of WAL", None),
], ids=["inactive", "retained WAL", "xmin age", "lost"])
def test_each_way_a_slot_fails(s, expected, key):
    bad = only_alarm(activity.slots([s, slot(name="fine", retained_bytes=1 << 20)], Horizon()))
    assert bad.line().startswith(expected) and bad.key == key
    assert bad.fix == f"reconnect its consumer, or SELECT pg_drop_replication_slot('{s.name}')"


def test_inactive_slots_under_limits_pass_when_asked():
    lenient = Horizon(inactive_slots="limits")
    assert not alarms(activity.slots([slot(active=False, retained_bytes=1 << 20)], lenient))
    assert alarms(activity.slots([slot(active=False, wal_status="lost")], lenient))  # a lost one never passes
    assert [f.subject for f in activity.slots([], Horizon())] == ["replication slots"]


# ---- read replicas -------------------------------------------------------------------------------------------------
def replica(replay_bytes=0, lag=0.0, state="streaming"):
    return Replica("r", state, None, 0, replay_bytes, lag, "async", None, None)


def test_replica_lag_seconds_count_only_while_wal_is_outstanding():
    assert replica(0, 120.0).lag_s == 0.0 and replica(5000, 7.5).lag_s == 7.5
    cfg = Replication(replicas=["idle", "behind", "slow", "gone", "catching-up"], max_lag_bytes="1MB", max_lag_s=5)
    seen = {"idle": replica(0, 120.0), "behind": replica(2 << 20, 1.0), "slow": replica(5000, 7.5),
            "catching-up": replica(state="catchup")}
    found = activity.replicas(seen, cfg)
    assert alarms(found) == [
        "behind: 2.0 MB of WAL not replayed, replay lag 1.0s (limits 1MB, 5s) (database.replication.max_lag_bytes)",
        "slow: 4.9 kB of WAL not replayed, replay lag 7.5s (limits 1MB, 5s) (database.replication.max_lag_s)",
        "gone: not connected to the primary (pg_stat_replication) (database.replication.replicas)",
        "catching-up: state catchup, not streaming"]
    assert found[0].status == "ok" and activity.replicas({}, Replication()) == []


# ---- parameters ------------------------------------------------------------------------------------------------------
RECOMMENDED = {"shared_buffers": "8GB", "work_mem": "50MB", "random_page_cost": "1.1"}
INSTANCE = RdsInstance("prod-db", "available", instance_class="db.r6g.xlarge", parameter_group="prod-params",
                       parameter_apply_status="in-sync")


def review(group, running=None, memory=32 * 1024 ** 3, instance=INSTANCE, **cfg):
    p = Parameters(**{"check_live": running is not None, **cfg})
    return params.parameters(instance, reviewed(RECOMMENDED, group, running, memory), p)


GOOD = {"shared_buffers": "{DBInstanceClassMemory/32768}", "work_mem": "51200", "random_page_cost": "1.1"}


def test_a_group_as_recommended_passes_within_tolerance():
    found = review({**GOOD, "work_mem": "53760"})  # 52.5MB: 5% over
    assert not alarms(found) and found[0].reason == "8GB for the class, recommended 8GB"
    assert found[-1].subject == "parameter group prod-params"
    assert alarms(review({**GOOD, "work_mem": "53800"}))  # just past the tolerance


@pytest.mark.parametrize("group, expected", [
    ({**GOOD, "work_mem": "4096"}, "work_mem: parameter group has 4096 (4MB), recommended 50MB"),
    ({**GOOD, "shared_buffers": "{DBInstanceClassMemory/65536}"},
     "shared_buffers: parameter group has {DBInstanceClassMemory/65536} (4GB for the class), recommended 8GB"),
    ({k: v for k, v in GOOD.items() if k != "random_page_cost"},
     "random_page_cost: parameter group has (engine default), recommended 1.1"),
], ids=["base unit", "formula", "engine default"])
def test_each_parameter_off_its_recommendation_is_named(group, expected):
    bad = only_alarm(review(group))
    assert bad.line() == f"{expected} (database.parameters.recommended); fix: python -m actions db-parameters"


def test_a_formula_without_the_class_memory_cannot_pass():
    bad = only_alarm(review(GOOD, memory=None))
    assert bad.subject == "shared_buffers" and "instance_memory_gib" in bad.reason


def test_the_live_value_is_compared_when_asked():
    from opsproof.postgres.parameters import Live

    running = {"shared_buffers": Live("shared_buffers", "8GB", 8 * 1024 ** 3, False, "configuration file"),
               "work_mem": Live("work_mem", "4MB", 4 * 1024 ** 2, False, "configuration file")}
    assert alarms(review(GOOD, running)) == [
        "work_mem: server runs 4MB, recommended 50MB (database.parameters.recommended); fix: python -m actions "
        "db-parameters",
        "random_page_cost: server runs (not reported), recommended 1.1 (database.parameters.recommended); fix: "
        "python -m actions db-parameters"]


def test_a_change_waiting_for_a_reboot_and_an_unknown_class():
    pending = only_alarm(review(GOOD, instance=replace(INSTANCE, parameter_apply_status="pending-reboot")))
    assert pending.line().startswith("parameter group prod-params: is pending-reboot (reboot in a window)")
    unknown = only_alarm(review({}, instance=replace(INSTANCE, instance_class="db.t3.micro")))
    assert unknown.subject == "prod-db" and '[database.parameters.recommended."db.t3.micro"]' in unknown.reason


def test_within():
    assert params.within(105.0, 100.0, 5) and not params.within(105.1, 100.0, 5) and not params.within(None, 1, 5)
