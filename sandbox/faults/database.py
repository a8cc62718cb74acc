"""Faults of the database area. Each breaks the sandbox's PostgreSQL (or the RDS parameter group) the way production
breaks, and heals it exactly: the next proof sees the healthy sandbox again.

Tables and names they touch are the runbook's: assets, projects, users (idx_users_email), jobs, prod-params.
"""

import json
import time

from botocore.exceptions import ClientError

from .. import postgres
from . import fault


@fault("database-down", area="database", part="postgres")
class DatabaseDown:
    """The PostgreSQL server is stopped: connections are refused and its port is closed."""

    def apply(self, sb):
        postgres.stop(sb)

    def heal(self, sb):
        postgres.start(sb)
        postgres.wait_ready(sb)


@fault("rds-instance-stopped", area="database")
class RdsInstanceStopped:
    """The RDS instance prod-db is stopped (status 'stopped')."""

    def apply(self, sb):
        sb.client("rds").stop_db_instance(DBInstanceIdentifier=sb.env.rds.instance_id)

    def heal(self, sb):
        sb.client("rds").start_db_instance(DBInstanceIdentifier=sb.env.rds.instance_id)


# ---- vacuum, statistics, bloat ---------------------------------------------------------------------------------
def flush_stats(c) -> None:
    """Publish this session's pending table statistics now. PostgreSQL 15 holds a backend's counts for up to a
    second: a VACUUM/ANALYZE right after a DELETE would otherwise be followed by the DELETE's dead tuples."""
    c.execute("SELECT pg_stat_force_next_flush()")
    c.execute("SELECT 1")  # the flush happens as the session goes idle after the call above


@fault("bloated-table", area="database", part="postgres")
class BloatedTable:
    """assets is half dead tuples (autovacuum off on it, every row updated once).

    The table doubled; ANALYZE ran afterwards, so its statistics are fresh and the bloat estimate is trusted."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("ALTER TABLE assets SET (autovacuum_enabled = off)")
            c.execute("UPDATE assets SET size_bytes = size_bytes")  # a new version of every row, same data
            flush_stats(c)
            c.execute("ANALYZE assets")

    def heal(self, sb):
        with sb.admin() as c:
            c.execute("VACUUM FULL assets")  # back to its seeded size
            c.execute("ALTER TABLE assets RESET (autovacuum_enabled)")
            c.execute("VACUUM ANALYZE assets")


STALE_MARK = "opsproof-fault stale-statistics"


@fault("stale-statistics", area="database", part="postgres")
class StaleStatistics:
    """projects has 3,000 rows changed since its last ANALYZE (its own trigger: 2,050).

    Autovacuum was switched off on it for a 'bulk load' and never switched back on."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("ALTER TABLE projects SET (autovacuum_enabled = off)")
            c.execute("INSERT INTO projects (user_id, title) SELECT 1 + g %% 5000, %s FROM generate_series(1, 3000) g",
                      (STALE_MARK,))

    def heal(self, sb):
        with sb.admin() as c:
            c.execute("DELETE FROM projects WHERE title = %s", (STALE_MARK,))
            flush_stats(c)
            c.execute("ALTER TABLE projects RESET (autovacuum_enabled)")
            c.execute("VACUUM ANALYZE projects")


@fault("never-vacuumed-table", area="database", part="postgres")
class NeverVacuumedTable:
    """assets has rows but no vacuum or analyze on record (its statistics were reset).

    A restore, a failover or a major version upgrade does that; check_postgres's last_vacuum skips such a table."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("SELECT pg_stat_reset_single_table_counters('assets'::regclass)")

    def heal(self, sb):
        with sb.admin() as c:
            c.execute("VACUUM ANALYZE assets")


NEVER_ANALYZED_TABLE = "render_imports"


@fault("table-never-analyzed", area="database", part="postgres")
class TableNeverAnalyzed:
    """render_imports, a bulk load's staging table (autovacuum off on it), is 90% dead tuples and was never
    vacuumed nor analyzed: relpages is still 0 and no statistics exist (about 8 MB on disk).

    60,000 rows were loaded and 54,000 of them deleted once processed."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("SET ROLE app")
            c.execute(f"CREATE TABLE {NEVER_ANALYZED_TABLE} (id bigint, project_id bigint, payload text) "
                      "WITH (autovacuum_enabled = off)")
            c.execute(f"INSERT INTO {NEVER_ANALYZED_TABLE} SELECT g, 1 + g % 20000, repeat('x', 80) "
                      "FROM generate_series(1, 60000) g")
            c.execute(f"DELETE FROM {NEVER_ANALYZED_TABLE} WHERE id % 10 <> 0")
            flush_stats(c)

    def heal(self, sb):
        with sb.admin() as c:
            c.execute(f"DROP TABLE IF EXISTS {NEVER_ANALYZED_TABLE}")


# ---- indexes ---------------------------------------------------------------------------------------------------------
@fault("invalid-index", area="database", part="postgres")
class InvalidIndex:
    """idx_users_email_ccnew is left behind by a REINDEX CONCURRENTLY that failed on its lock_timeout.

    A transaction writing to users held the rebuild up; the new index stays, invalid, and is maintained on every
    write."""

    def apply(self, sb):
        import psycopg

        with sb.admin(autocommit=False) as writer, sb.admin() as c:
            writer.execute("LOCK TABLE users IN ROW EXCLUSIVE MODE")  # an application transaction, open
            c.execute("SET lock_timeout = '300ms'")
            try:
                c.execute("REINDEX INDEX CONCURRENTLY idx_users_email")
            except psycopg.errors.LockNotAvailable:
                pass  # the failure we want: the new index was created, then the wait for the writer timed out
            else:
                raise RuntimeError("REINDEX CONCURRENTLY did not fail: no _ccnew index was left")
            writer.rollback()

    def heal(self, sb):
        with sb.admin() as c:
            for (name,) in c.execute("SELECT relname FROM pg_class WHERE relname ~ '^idx_users_email_cc(new|old)'"
                                     ).fetchall():
                c.execute(f'DROP INDEX IF EXISTS "{name}"')


@fault("duplicate-index", area="database", part="postgres")
class DuplicateIndex:
    """projects_user_id_idx (an ORM migration's) duplicates the runbook's idx_projects_user_id on projects(user_id)."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("SET ROLE app")
            c.execute("CREATE INDEX projects_user_id_idx ON projects (user_id)")

    def heal(self, sb):
        with sb.admin() as c:
            c.execute("DROP INDEX IF EXISTS projects_user_id_idx")


# ---- archive policy --------------------------------------------------------------------------------------------------
UNARCHIVED_COMPLETED = 2_500
UNARCHIVED_FAILED = 100


def ensure_archive_bucket(sb) -> None:
    """The archive bucket of [database.archive] (the AWS seed does not make it yet: moto forgets it on restart)."""
    bucket = sb.env.database.archive.bucket
    s3 = sb.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


@fault("unarchived-jobs", area="database", part="postgres")
class UnarchivedJobs:
    """jobs holds 2,500 completed jobs older than 90 days (archive-jobs has not run).

    Beside them, 100 failed jobs of the same age, which the policy keeps."""

    def _ids_file(self, sb):
        return sb.run_dir / "unarchived-jobs.json"

    def apply(self, sb):
        ensure_archive_bucket(sb)
        with sb.admin() as c:
            c.execute("SET ROLE app")
            ids = [r[0] for r in c.execute(
                "INSERT INTO jobs (project_id, kind, status, gpu_seconds, created_at, finished_at) "
                "SELECT 1 + (g * 7) %% 20000, (ARRAY['render','upscale','voice','edit'])[1 + g %% 4], "
                "       CASE WHEN g <= %(failed)s THEN 'failed' ELSE 'completed' END, 30 + g %% 600, "
                "       now() - make_interval(days => 91, mins => g * 60), "
                "       now() - make_interval(days => 91, mins => g * 60 - 7) "
                "FROM generate_series(1, %(n)s) g RETURNING id",
                {"failed": UNARCHIVED_FAILED, "n": UNARCHIVED_COMPLETED + UNARCHIVED_FAILED}).fetchall()]
        self._ids_file(sb).write_text(json.dumps(ids))

    def heal(self, sb):
        path = self._ids_file(sb)
        ids = json.loads(path.read_text()) if path.exists() else []
        with sb.admin() as c:
            c.execute("DELETE FROM jobs WHERE id = ANY(%s)", (ids,))  # what archive-jobs left, if it ran
            flush_stats(c)
            c.execute("VACUUM ANALYZE jobs")
        path.unlink(missing_ok=True)


# ---- sessions, connections, wraparound -----------------------------------------------------------------------------
def _hold_past(sb, name: str, mode: str, limit_s: float, count: int = 1) -> None:
    postgres.hold(sb, name, count, mode)
    time.sleep(limit_s + 0.3)  # past the sandbox's threshold, as a forgotten session would be


@fault("idle-in-transaction", area="database", part="postgres")
class IdleInTransaction:
    """A session of the application (app) is idle inside an open transaction.

    It read users and stopped: it holds its lock and its snapshot (the xmin horizon)."""

    def apply(self, sb):
        _hold_past(sb, "idle-in-transaction", "idle-in-transaction", sb.env.database.connections.idle_in_transaction_s)

    def heal(self, sb):
        postgres.release(sb, "idle-in-transaction")


@fault("long-running-query", area="database", part="postgres")
class LongRunningQuery:
    """A query of the application (app) has been running far longer than any request should (pg_sleep)."""

    def apply(self, sb):
        _hold_past(sb, "long-running-query", "active", sb.env.database.connections.long_query_s)

    def heal(self, sb):
        postgres.release(sb, "long-running-query")


@fault("connection-saturation", area="database", part="postgres")
class ConnectionSaturation:
    """The application (app) holds idle connections up to 85% of max_connections.

    A pool per task, scaled out: the next deploy's surge hits the limit."""

    def apply(self, sb):
        with sb.admin() as c:
            max_conn, now = c.execute(
                "SELECT current_setting('max_connections')::int, (SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend')").fetchone()
        postgres.hold(sb, "connection-saturation", max(int(max_conn * 0.85) - now, 1), "idle")

    def heal(self, sb):
        postgres.release(sb, "connection-saturation")


FORGOTTEN_GID = "opsproof-fault-forgotten"


@fault("xid-wraparound-risk", area="database", part="postgres")
class XidWraparoundRisk:
    """Every database's transaction ID age passes xid_age_max behind a forgotten prepared transaction.

    The prepared transaction holds the xmin horizon while the cluster burns XIDs; autovacuum cannot freeze past it."""

    def apply(self, sb):
        with sb.admin(autocommit=False) as c:
            c.execute("SELECT txid_current()")
            c.execute(f"PREPARE TRANSACTION '{FORGOTTEN_GID}'")
        with sb.admin() as c:
            age = c.execute("SELECT min(age(datfrozenxid)) FROM pg_database").fetchone()[0]
            burn = max(sb.env.database.wraparound.xid_age_max + 5_000 - age, 1)
            # one XID per COMMIT, about 400k a second on the sandbox
            c.execute(f"DO $$ BEGIN FOR i IN 1..{burn} LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$")

    def heal(self, sb):
        with sb.admin() as c:
            if c.execute("SELECT 1 FROM pg_prepared_xacts WHERE gid = %s", (FORGOTTEN_GID,)).fetchone():
                c.execute(f"ROLLBACK PREPARED '{FORGOTTEN_GID}'")
            dbs = [r[0] for r in c.execute("SELECT datname FROM pg_database WHERE datname <> 'template0'")]
            c.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS true")  # autovacuum would take up to a naptime
            dbs.append("template0")
        try:
            for name in dbs:
                with sb.admin(name) as c:
                    c.execute("VACUUM (FREEZE)")
        finally:
            with sb.admin() as c:
                c.execute("ALTER DATABASE template0 ALLOW_CONNECTIONS false")


PREPARED_GID = "opsproof-fault-prepared"


@fault("prepared-transaction-forgotten", area="database", part="postgres")
class PreparedTransactionForgotten:
    """A prepared transaction of the application (app), 'opsproof-fault-prepared', was never committed nor rolled
    back: its two-phase-commit coordinator died after PREPARE.

    It holds a row lock on webhooks and the xmin horizon, with no session left in pg_stat_activity."""

    def apply(self, sb):
        with sb.admin(autocommit=False) as c:
            c.execute("SET ROLE app")
            c.execute("UPDATE webhooks SET url = url WHERE id = 1")
            c.execute(f"PREPARE TRANSACTION '{PREPARED_GID}'")
        time.sleep(sb.env.database.horizon.prepared_xact_max_age_s + 0.3)  # past the sandbox's threshold

    def heal(self, sb):
        with sb.admin() as c:
            if c.execute("SELECT 1 FROM pg_prepared_xacts WHERE gid = %s", (PREPARED_GID,)).fetchone():
                c.execute(f"ROLLBACK PREPARED '{PREPARED_GID}'")


ABANDONED_SLOT = "opsproof_fault_abandoned"


@fault("replication-slot-abandoned", area="database", part="postgres")
class ReplicationSlotAbandoned:
    """The logical replication slot opsproof_fault_abandoned (pgoutput) has no consumer: the change-data-capture
    task that used it was deleted, the slot was not.

    It retains the 8 MB of WAL written since, and holds its catalog_xmin."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute("SET statement_timeout = '10s'")  # creating it waits for running transactions to end
            c.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (ABANDONED_SLOT,))
            for _ in range(2):  # WAL without touching a table: nothing to clean up afterwards
                c.execute("SELECT pg_logical_emit_message(false, 'opsproof-fault', repeat('x', 4 * 1024 * 1024))")

    def heal(self, sb):
        with sb.admin() as c:
            if c.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (ABANDONED_SLOT,)).fetchone():
                c.execute("SELECT pg_drop_replication_slot(%s)", (ABANDONED_SLOT,))


# ---- sequences -------------------------------------------------------------------------------------------------------
NEAR_END = {"webhooks_id_seq": 2_040_109_466, "job_events_id_seq": 2_000_000_000}
"""webhooks' int4 sequence at 95% of 2^31 - 1; job_events' bigint sequence at 2e9, 93% of its int4 column."""


@fault("sequence-near-end", area="database", part="postgres")
class SequenceNearEnd:
    """webhooks_id_seq (int4) has handed out 95% of its values, and job_events_id_seq (bigint, from before
    PostgreSQL 10) is at 2,000,000,000: 0.00002% of its own range, 93% of the int4 key job_events.id it feeds.

    A bulk import with a huge sequence cache, an id-space reservation (setval) or simply years of growth."""

    def apply(self, sb):
        with sb.admin() as c:
            for seq, value in NEAR_END.items():
                c.execute("SELECT setval(%s, %s)", (seq, value))

    def heal(self, sb):
        with sb.admin() as c:
            for seq, table in (("webhooks_id_seq", "webhooks"), ("job_events_id_seq", "job_events")):
                c.execute(f"SELECT setval(%s, (SELECT max(id) FROM {table}))", (seq,))


# ---- parameters, replication ----------------------------------------------------------------------------------------
DRIFT = {"work_mem": "4096", "random_page_cost": "4"}  # RDS units: work_mem in kB (4MB); the HDD default


@fault("parameter-drift", area="database", part="aws")
class ParameterDrift:
    """prod-params has drifted: work_mem 4MB (runbook: 50MB) and random_page_cost 4 (runbook: 1.1 on SSD)."""

    def apply(self, sb):
        self._set(sb, DRIFT)

    def heal(self, sb):
        from ..aws.seed import DB_PARAMETERS

        self._set(sb, {k: DB_PARAMETERS[k] for k in DRIFT})

    def _set(self, sb, values):
        from ..aws.seed import DB_PARAMETER_GROUP

        sb.client("rds").modify_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, Parameters=[
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in values.items()])


def _restore_group(sb) -> None:
    """The seeded group again: RDS's defaults plus the runbook's values (seed.DB_PARAMETERS)."""
    from ..aws.seed import DB_PARAMETER_GROUP, DB_PARAMETERS

    rds = sb.client("rds")
    rds.reset_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, ResetAllParameters=True)
    rds.modify_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, Parameters=[
        {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in DB_PARAMETERS.items()])


@fault("parameters-reset-to-defaults", area="database", part="aws")
class ParametersResetToDefaults:
    """prod-params was reset to RDS's defaults (ResetDBParameterGroup --reset-all-parameters): RDS's own formulas
    again - effective_cache_size {DBInstanceClassMemory/16384} (16GB on 32 GiB), maintenance_work_mem
    GREATEST(...) (~537MB), max_connections LEAST({DBInstanceClassMemory/9531392},5000) (3604) - and work_mem and
    random_page_cost at PostgreSQL's defaults. shared_buffers' default formula is the runbook's 8GB: not a drift."""

    def apply(self, sb):
        from ..aws.seed import DB_PARAMETER_GROUP

        sb.client("rds").reset_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, ResetAllParameters=True)

    def heal(self, sb):
        _restore_group(sb)


@fault("parameter-formula-drift", area="database", part="aws")
class ParameterFormulaDrift:
    """prod-params sets shared_buffers to the formula {DBInstanceClassMemory/65536}: an eighth of the memory (4GB
    on db.r6g.xlarge), not the runbook's 8GB."""

    def apply(self, sb):
        from ..aws.seed import DB_PARAMETER_GROUP

        sb.client("rds").modify_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, Parameters=[
            {"ParameterName": "shared_buffers", "ParameterValue": "{DBInstanceClassMemory/65536}",
             "ApplyMethod": "pending-reboot"}])

    def heal(self, sb):
        _restore_group(sb)


@fault("replica-lag", area="database", part="postgres")
class ReplicaLag:
    """prod-db-replica-1 has stopped replaying (pg_wal_replay_pause) 8 MB of WAL behind the primary.

    It still streams: only its replay position falls behind."""

    def _replica(self, sb):
        import psycopg

        name, _, port = postgres.replicas(sb)[0]
        return name, psycopg.connect(postgres.replica_dsn(sb, port), autocommit=True)

    def apply(self, sb):
        name, r = self._replica(sb)
        with r:
            r.execute("SELECT pg_wal_replay_pause()")
        with sb.admin() as c:
            for _ in range(2):  # WAL without touching a table: nothing to clean up afterwards
                c.execute("SELECT pg_logical_emit_message(false, 'opsproof-fault', repeat('x', 4 * 1024 * 1024))")

    def heal(self, sb):
        name, r = self._replica(sb)
        with r:
            r.execute("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 20
        with sb.admin() as c:
            target = c.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            # caught up with everything written until now (the replica reports every second: see postgres.py)
            while c.execute("SELECT coalesce(bool_or(replay_lsn < %s::pg_lsn), true) FROM pg_stat_replication "
                            "WHERE application_name = %s", (target, name)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"replica {name} did not catch up within 20 s")
                time.sleep(0.1)
