"""Proofs of the database maintenance checks (issue 3): each passes on the healthy sandbox and fails, naming the
culprit, under the fault that breaks exactly what it guards."""

import pytest

from sandbox import faults

# The fault registry (and what its modules import, numpy among them) is loaded once, here: pytester restores
# sys.modules after every test, and an extension module such as numpy cannot be imported twice in one process.
faults.all_faults()

VACUUM = "checks/database/test_vacuum.py"
CONNECTIONS = "checks/database/test_connections.py"


@pytest.fixture
def also_broken(sandbox):
    """also_broken(*FAULTS): faults applied beside broken()'s own, so one pytester run proves several checks (CI time
    is tight); healed afterwards."""
    from sandbox import faults as registry, lifecycle

    applied = []

    def apply(*names: str) -> None:
        with lifecycle.lock(sandbox):
            for name in names:
                registry.apply(sandbox, name)
                applied.append(name)

    yield apply
    with lifecycle.lock(sandbox):
        for name in reversed(applied):
            registry.heal(sandbox, name)


def _rows(run, check, title):
    """The rows of one evidence table of a check."""
    return next(e["payload"] for e in run.evidence(check) if e["kind"] == "table" and e["title"].startswith(title))


# ---- vacuum, statistics, window ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fault, culprits", [
    ("bloated-table", ["public.assets", "40000 dead tuples > trigger 8050", "autovacuum disabled"]),
    ("never-vacuumed-table", ["public.assets", "never vacuumed"]),
])
def test_vacuum_keeps_up(healthy, broken, fault, culprits):
    healthy.assert_passed("test_vacuum_keeps_up")
    # Per-table settings are honoured: jobs is tuned to 5% (50 + 0.05 x 120,000), not the server's 20%.
    jobs = next(r for r in _rows(healthy, "test_vacuum_keeps_up", "most dead") if r["table"] == "public.jobs")
    assert 6000 <= jobs["vacuum trigger"] <= 6300, jobs
    broken(fault, VACUUM).assert_failed("test_vacuum_keeps_up", *culprits)


@pytest.mark.parametrize("fault, culprits", [
    ("stale-statistics", ["public.projects", "3000 modifications since analyze > trigger 2050"]),
    ("never-vacuumed-table", ["public.assets", "never analyzed"]),
])
def test_statistics_are_current(healthy, broken, fault, culprits):
    healthy.assert_passed("test_statistics_are_current")
    broken(fault, VACUUM).assert_failed("test_statistics_are_current", *culprits)


def test_window_vacuumed_and_analyzed_every_table(healthy, broken):
    healthy.assert_passed("test_window_vacuumed_and_analyzed_every_table")
    run = broken("never-vacuumed-table", VACUUM)
    run.assert_failed("test_window_vacuumed_and_analyzed_every_table", "public.assets: last vacuum never",
                      "public.assets: last analyze never")


# ---- bloat -----------------------------------------------------------------------------------------------------------
def test_tables_are_not_bloated(healthy, broken, also_broken):
    healthy.assert_passed("test_tables_are_not_bloated")
    # beside it, in the same run: a table never vacuumed nor analyzed (relpages 0, no statistics), judged by its
    # real size and read (tests/unit/test_database_probes.py: without pgstattuple it fails as not judgeable)
    also_broken("table-never-analyzed")
    run = broken("bloated-table", "checks/database/test_bloat.py")
    msg = run.assert_failed("test_tables_are_not_bloated", "public.assets", "% wasted", "pgstattuple_approx")
    assert "public.render_imports" in msg and "pgstattuple_approx, never vacuumed nor analyzed" in msg, msg


def test_bloat_estimate_is_not_trusted_on_stale_statistics(broken):
    """Stale statistics make the estimate untrusted: the table is read (pgstattuple) instead, and found healthy."""
    run = broken("stale-statistics", "checks/database/test_bloat.py")
    run.assert_passed("test_tables_are_not_bloated")
    projects = next(r for r in _rows(run, "test_tables_are_not_bloated", "bloat per table")
                    if r["name"] == "public.projects")
    assert not projects["estimate_trusted"] and projects["basis"] == "pgstattuple_approx", projects


# ---- indexes ---------------------------------------------------------------------------------------------------------
def test_no_invalid_indexes(healthy, broken):
    healthy.assert_passed("test_no_invalid_indexes")
    assert _rows(healthy, "test_no_invalid_indexes", "largest indexes")
    run = broken("invalid-index", "checks/database/test_indexes.py")
    run.assert_failed("test_no_invalid_indexes", "public.idx_users_email_ccnew", "failed REINDEX CONCURRENTLY")


def test_no_duplicate_indexes(healthy, broken):
    healthy.assert_passed("test_no_duplicate_indexes")
    run = broken("duplicate-index", "checks/database/test_indexes.py")
    run.assert_failed("test_no_duplicate_indexes",
                      "public.projects_user_id_idx: duplicates public.idx_projects_user_id")


# ---- wraparound, connections ------------------------------------------------------------------------------------
def test_transaction_ids_are_far_from_wraparound(healthy, broken):
    healthy.assert_passed("test_transaction_ids_are_far_from_wraparound")
    run = broken("xid-wraparound-risk", "checks/database/test_wraparound.py")
    run.assert_failed("test_transaction_ids_are_far_from_wraparound", "aifilmstudio: xid age",
                      "prepared transaction 'opsproof-fault-forgotten'",
                      "ROLLBACK PREPARED 'opsproof-fault-forgotten' in database aifilmstudio")


def test_no_forgotten_prepared_transactions(healthy, broken, also_broken):
    """One run for the horizon's two checks and the sequences': the abandoned slot is made first (creating a logical
    slot waits for every open transaction, a prepared one included), then the forgotten prepared transaction."""
    for check in ("test_no_forgotten_prepared_transactions", "test_replication_slots_are_consumed",
                  "test_sequences_are_far_from_their_end"):
        healthy.assert_passed(check)
    # the replica's own physical slot is the healthy sandbox's one slot, active
    assert [r["name"] for r in _rows(healthy, "test_replication_slots_are_consumed", "replication slots")] == [
        "prod_db_replica_1"]
    also_broken("replication-slot-abandoned", "sequence-near-end")
    run = broken("prepared-transaction-forgotten", "checks/database/test_horizon.py",
                 "checks/database/test_sequences.py")
    run.assert_failed("test_no_forgotten_prepared_transactions", "prepared transaction 'opsproof-fault-prepared'",
                      "by app in aifilmstudio", "xmin age", "older than 1s")
    msg = run.assert_failed("test_replication_slots_are_consumed", "replication slot 'opsproof_fault_abandoned'",
                            "logical (pgoutput, aifilmstudio), inactive", "MB of WAL", "xmin age")
    assert "prod_db_replica_1" not in msg, msg
    run.assert_failed("test_sequences_are_far_from_their_end",
                      "public.webhooks_id_seq (integer) feeds public.webhooks.id (integer): 95.0% used",
                      # the int4 key fed by a bigint sequence: 0.00002% of the sequence, 93% of the column
                      "public.job_events_id_seq (bigint) feeds public.job_events.id (integer): 93.1% used",
                      "the column ends first", "past 75%")


def test_connections_below_max_connections(healthy, broken):
    healthy.assert_passed("test_connections_below_max_connections")
    run = broken("connection-saturation", CONNECTIONS)
    run.assert_failed("test_connections_below_max_connections", "of max_connections 60",
                      "app/opsproof-fault-connection-saturation")


def test_no_long_running_queries(healthy, broken):
    healthy.assert_passed("test_no_long_running_queries")
    run = broken("long-running-query", CONNECTIONS)
    run.assert_failed("test_no_long_running_queries", "opsproof-fault-long-running-query", "SELECT pg_sleep(86400)")


def test_no_idle_in_transaction_sessions(healthy, broken):
    healthy.assert_passed("test_no_idle_in_transaction_sessions")
    run = broken("idle-in-transaction", CONNECTIONS)
    run.assert_failed("test_no_idle_in_transaction_sessions", "opsproof-fault-idle-in-transaction",
                      "idle in transaction for")


# ---- archive policy, parameters, replication ------------------------------------------------------------------
def test_no_completed_jobs_past_retention(healthy, broken, run_checks, sandbox):
    healthy.assert_passed("test_no_completed_jobs_past_retention")
    run = broken("unarchived-jobs", "checks/database/test_archive.py")
    run.assert_failed("test_no_completed_jobs_past_retention", "jobs: 2500 row(s)", "older than 90 days",
                      "database.archive.retention_days")
    # ... and the runbook's procedure fixes what the check found (the failed jobs of the same age stay).
    import actions

    report = actions.run("archive-jobs", sandbox.env, apply=True)
    assert report.ok, report.as_text()
    run_checks("checks/database/test_archive.py").assert_passed("test_no_completed_jobs_past_retention")


def test_parameters_match_instance_class(healthy, broken):
    healthy.assert_passed("test_parameters_match_instance_class")
    run = broken("parameter-drift", "checks/database/test_parameters.py")
    run.assert_failed("test_parameters_match_instance_class", "work_mem: parameter group has 4096 (4MB)",
                      "recommended 50MB", "random_page_cost")


def test_parameters_match_instance_class_real_group(healthy, sandbox):
    """The group is a real postgres15 one (every parameter, base units, RDS's formulas): no false red on it."""
    rds = sandbox.client("rds")
    params = [p for page in rds.get_paginator("describe_db_parameters").paginate(DBParameterGroupName="prod-params")
              for p in page["Parameters"]]
    by_name = {p["ParameterName"]: p for p in params}
    assert len(params) > 300 and {p["Source"] for p in params} == {"engine-default", "system", "user"}
    assert by_name["shared_buffers"]["ParameterValue"] == "{DBInstanceClassMemory/32768}"
    assert by_name["shared_buffers"]["ApplyType"] == "static" and by_name["work_mem"]["Source"] == "user"
    assert "ParameterValue" not in by_name["random_page_cost"] or by_name["random_page_cost"]["Source"] == "user"
    with pytest.raises(rds.exceptions.ClientError, match="InvalidParameterValue"):  # RDS refuses "8GB"
        rds.modify_db_parameter_group(DBParameterGroupName="prod-params", Parameters=[
            {"ParameterName": "shared_buffers", "ParameterValue": "8GB", "ApplyMethod": "pending-reboot"}])
    rows = _rows(healthy, "test_parameters_match_instance_class", "parameters (prod-params")
    shown = {r["name"]: r["group_value"] for r in rows}
    assert shown["shared_buffers"] == "8GB for the class" and shown["effective_cache_size"] == "24GB for the class"


def test_parameters_match_instance_class_formulas(broken):
    run = broken("parameter-formula-drift", "checks/database/test_parameters.py")
    msg = run.assert_failed("test_parameters_match_instance_class", "shared_buffers: parameter group has "
                            "{DBInstanceClassMemory/65536} (4GB for the class), recommended 8GB")
    assert "effective_cache_size" not in msg and "work_mem" not in msg


def test_parameters_match_instance_class_rds_defaults(broken):
    """A group reset to RDS's defaults: its formulas are worked out for the class; the one that equals the
    runbook (shared_buffers, a quarter of the memory) is not a drift, the others are, with their values."""
    run = broken("parameters-reset-to-defaults", "checks/database/test_parameters.py")
    msg = run.assert_failed("test_parameters_match_instance_class",
                            "effective_cache_size: parameter group has {DBInstanceClassMemory/16384} (16GB for the "
                            "class), recommended 24GB",
                            "max_connections: parameter group has LEAST({DBInstanceClassMemory/9531392},5000) (3604 "
                            "for the class), recommended 200",
                            "work_mem: parameter group has (engine default)", "maintenance_work_mem")
    assert "shared_buffers" not in msg


def test_read_replicas_keep_up(healthy, broken):
    healthy.assert_passed("test_read_replicas_keep_up")
    run = broken("replica-lag", "checks/database/test_replication.py")
    run.assert_failed("test_read_replicas_keep_up", "prod-db-replica-1", "of WAL not replayed")
