"""The [database] section: where PostgreSQL is, how checks and actions log in, and every threshold of the runbook's
"Database Maintenance" with its default and where that default comes from (runbook, RDS guidance, experts)."""

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, \
    model_validator

from .base import Port, Section

# ---- small value types ---------------------------------------------------------------------------------------------
_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}


def parse_size(value: str | int | float) -> int:
    """'8GB' → 8589934592; PostgreSQL's units are powers of 1024 (kB, MB, GB, TB). A bare number is bytes.

    >>> parse_size("50MB"), parse_size("8kB"), parse_size(1024)
    (52428800, 8192, 1024)
    """
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?[bB])?\s*", str(value))
    if not m:
        raise ValueError(f"not a size: {value!r} (write it like 8GB, 50MB, 64kB)")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekly(value: str) -> tuple[int, dt.time]:
    """'sun 03:00' (UTC) → (weekday, time): a weekly cron job's time.

    >>> parse_weekly("sun 03:00")
    (6, datetime.time(3, 0))
    """
    m = re.fullmatch(r"\s*([a-zA-Z]{3})\s+(\d{1,2}):(\d{2})\s*", value)
    if not m or m.group(1).lower() not in _DAYS:
        raise ValueError(f"not a weekly time: {value!r} (write it like 'sun 03:00', UTC)")
    return _DAYS.index(m.group(1).lower()), dt.time(int(m.group(2)), int(m.group(3)))


def last_weekly(value: str, now: dt.datetime) -> dt.datetime:
    """The most recent occurrence of a weekly time at or before now (UTC)."""
    day, start = parse_weekly(value)
    now = now.astimezone(dt.timezone.utc)
    t = dt.datetime.combine(now.date(), start, dt.timezone.utc) - dt.timedelta(days=(now.weekday() - day) % 7)
    return t if t <= now else t - dt.timedelta(days=7)


# ---- maintenance thresholds ----------------------------------------------------------------------------------------
class Vacuum(Section):
    """Vacuum keeps up: each table's dead tuples against its own autovacuum trigger
    (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples, per-table settings honoured)."""

    trigger_factor: PositiveFloat = 1.0
    """A table fails when its dead tuples pass factor × its own trigger (1.0: autovacuum is due and has not run)."""
    dead_tuples_floor: NonNegativeInt = 1000
    """...and only above this many dead tuples: the runbook's `n_dead_tup > 1000`, kept as a floor so a table of 40
    rows with 60 dead ones is not an alarm."""


class Statistics(Section):
    """Statistics are current: modifications since the last analyze against each table's own analyze trigger
    (autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples)."""

    trigger_factor: PositiveFloat = 1.0
    mods_floor: NonNegativeInt = 1000
    """The runbook's `n_mod_since_analyze > 1000`, kept as a floor under each table's own trigger."""


class MaintenanceWindow(Section):
    """After a window every table the window vacuumed/analyzed shows a last (manual) vacuum/analyze after its start."""

    record: Path = Path("reports/window/database.json")
    """Where `vacuum-analyze --apply` and `analyze --apply` record their run (start time and tables)."""
    weekly_vacuum: str | None = "sun 03:00"
    """The runbook's cron job `0 3 * * 0` (UTC). When its last run is newer than the record, every table must show a
    vacuum after it. Empty: only the record counts."""

    @field_validator("weekly_vacuum")
    @classmethod
    def _weekly(cls, v):
        if not v:
            return None
        parse_weekly(v)
        return v


class Bloat(Section):
    """Table bloat: an estimate from the catalog (no table read) trusted only on fresh statistics, above a size
    floor, confirmed with pgstattuple_approx where the extension is installed."""

    min_table_size: str = "100MB"
    """Tables smaller than this are not judged: their bloat costs little (check_postgres defaults to 1 GB wasted,
    which never flags a 2x-bloated 40 MB table; we judge the ratio above a floor)."""
    max_percent: float = Field(30.0, gt=0, lt=100)
    """Wasted (dead + free beyond fillfactor) share of the table that fails the check."""
    confirm_from_percent: float = Field(20.0, ge=0, lt=100)
    """Estimates at or above this are confirmed by pgstattuple before a verdict (the estimate errs both ways)."""
    confirm_with: Literal["pgstattuple_approx", "pgstattuple", "none"] = "pgstattuple_approx"
    """pgstattuple_approx skips all-visible pages; pgstattuple reads the whole table."""
    confirm_max_tables: PositiveInt = 10
    """At most this many tables (largest first) are read per run; the rest are reported as unconfirmed."""
    confirm_timeout_s: PositiveFloat = 60.0
    """Time budget of all confirmations of one run (each read's statement_timeout is what is left of it): within the
    check's own timeout (timeouts.check_s)."""

    @field_validator("min_table_size")
    @classmethod
    def _size(cls, v):
        parse_size(v)
        return v

    @property
    def min_table_bytes(self) -> int:
        return parse_size(self.min_table_size)


class Indexes(Section):
    largest: PositiveInt = 10
    """How many of the largest indexes and tables go into evidence (the runbook's index-size query)."""


class Wraparound(Section):
    """Transaction ID wraparound. Defaults: AWS RDS guidance (MaximumUsedTransactionIDs: 500M look, 1B act,
    1.5B emergency); check_postgres uses 1.3B/1.4B, which leaves too little time on a busy database."""

    xid_age_max: PositiveInt = 1_000_000_000
    """age(datfrozenxid) of any database above this fails (RDS: act at 1 billion)."""
    xid_age_warn: PositiveInt = 500_000_000
    """Above this the check passes but says so in evidence (RDS: start looking at 500 million)."""
    mxid_age_max: PositiveInt = 1_000_000_000
    """mxid_age(datminmxid) above this fails (multixact IDs wrap around the same way)."""

    @model_validator(mode="after")
    def _order(self):
        if self.xid_age_warn > self.xid_age_max:
            raise ValueError("xid_age_warn must not exceed xid_age_max")
        return self


class Connections(Section):
    max_percent: float = Field(80.0, gt=0, le=100)
    """Client connections above this share of max_connections fail (check_postgres backends warns at 90%: by then a
    deploy's connection surge hits the limit)."""
    long_query_s: PositiveFloat = 300.0
    """An active query running longer than this is reported (five minutes: far beyond any API request)."""
    idle_in_transaction_s: PositiveFloat = 300.0
    """A session idle in a transaction longer than this is reported: it holds locks and the xmin horizon."""


class Archive(Section):
    """Archive policy (runbook: completed jobs older than 90 days go to S3, then are deleted in batches of 1000)."""

    table: str = "jobs"
    status_column: str = "status"
    status: str = "completed"
    time_column: str = "created_at"
    retention_days: PositiveInt = 90
    batch_size: int = Field(1000, ge=1, le=100_000)
    bucket: str | None = None
    """The S3 bucket archives go to (required by archive-jobs)."""
    prefix: str = "db-archive/jobs/"
    """Key prefix inside the bucket; each run writes <prefix>run=<id>/{jobs.jsonl.gz,manifest.json,deleted.json}."""

    @field_validator("table", "status_column", "time_column")
    @classmethod
    def _ident(cls, v):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?", v):
            raise ValueError(f"not a plain (schema.)identifier: {v!r}")
        return v


class Reindex(Section):
    """The runbook's monthly reindex: REINDEX INDEX CONCURRENTLY per index."""

    indexes: list[str] = ["idx_users_email", "idx_projects_user_id"]
    """The runbook's 'Automated Approach' indexes."""
    tables: list[str] = ["users", "projects", "jobs", "assets"]
    """The runbook's 'large tables': every index on them is rebuilt too."""
    lock_timeout_ms: PositiveInt = 5000
    """A rebuild that waits longer than this for a lock fails (and its _ccnew is reported/dropped), rather than
    queueing the application's writes behind it."""


RUNBOOK_XLARGE = {  # runbook: "Recommended Settings for Production (db.r6g.xlarge)"
    "shared_buffers": "8GB", "effective_cache_size": "24GB", "work_mem": "50MB", "maintenance_work_mem": "2GB",
    "max_connections": "200", "random_page_cost": "1.1",
}


class Parameters(Section):
    """The quarterly parameter review: the RDS parameter group against the recommended values for the class."""

    recommended: dict[str, dict[str, str | int | float]] = {"db.r6g.xlarge": RUNBOOK_XLARGE}
    """Per instance class: parameter → value (sizes with units, as the runbook writes them)."""
    instance_memory_gib: dict[str, PositiveFloat] = {"db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64,
                                                     "db.r6g.4xlarge": 128}
    """For parameter groups that use {DBInstanceClassMemory...} formulas."""
    tolerance_percent: NonNegativeFloat = 5.0
    """How far a value may be from the recommendation (formulas and RDS's own rounding)."""
    check_live: bool = True
    """Also compare the server's live settings (pg_settings) with the recommendation. (db-parameters --apply
    --reboot reboots only inside a scheduled window: [window.schedule].)"""

    @field_validator("recommended")
    @classmethod
    def _sizes(cls, v):
        for klass, params in v.items():
            for name, value in params.items():
                if isinstance(value, str) and re.search(r"[a-zA-Z]", value):
                    parse_size(value)
        return v


class Replication(Section):
    replicas: list[str] = []
    """Read replicas by their application_name in pg_stat_replication (an RDS replica: its instance identifier)."""
    max_lag_bytes: str = "256MB"
    """WAL not yet replayed on a replica."""
    max_lag_s: PositiveFloat = 60.0
    """replay_lag; only counted while WAL is outstanding (an idle primary is not a lagging replica)."""
    settle_s: NonNegativeFloat = 10.0
    """A replica over the limits is measured again for this long before it fails (a burst of WAL, a vacuum, a
    restore on the primary: lag that clears within seconds is not the alarm)."""

    @field_validator("max_lag_bytes")
    @classmethod
    def _size(cls, v):
        parse_size(v)
        return v


class Horizon(Section):
    """What outlives every session and holds the xmin horizon back (and, for a slot, WAL on disk) until someone
    removes it: prepared transactions and replication slots (opsproof/postgres/horizon.py)."""

    prepared_xact_max_age_s: NonNegativeFloat = 60.0
    """A prepared transaction older than this fails, named by its gid. A two-phase commit's coordinator commits
    within a second of PREPARE; one prepared a minute ago was forgotten (its coordinator died). check_postgres's
    prepared_txns warns from 1 second: on most systems any use is a mistake."""
    inactive_slots: Literal["fail", "limits"] = "fail"
    """"fail": every inactive slot fails (nothing consumes it: it retains WAL without bound); "limits": an inactive
    slot fails only past slot_max_retained_wal or slot_max_xmin_age (a consumer that reconnects on a schedule)."""
    slot_max_retained_wal: str = "1GB"
    """Any slot, active or not, retaining more WAL than this fails (pg_wal_lsn_diff(pg_current_wal_lsn(),
    restart_lsn)): four times replication.max_lag_bytes, so a lagging replica is named by its own check first."""
    slot_max_xmin_age: PositiveInt = 50_000_000
    """A slot whose xmin or catalog_xmin is older than this many transactions fails: a tenth of RDS's 500 million
    'look' level, so the slot is named long before the wraparound check warns."""
    slot_settle_s: NonNegativeFloat = 10.0
    """An inactive slot is looked at again for this long before it fails (a replica restarting reconnects within
    seconds)."""

    @field_validator("slot_max_retained_wal")
    @classmethod
    def _size(cls, v):
        parse_size(v)
        return v

    @property
    def slot_max_retained_bytes(self) -> int:
        return parse_size(self.slot_max_retained_wal)


class Sequences(Section):
    """Sequences and the integer keys they feed, against the share of their range already used."""

    max_used_percent: float = Field(75.0, gt=0, lt=100)
    """A sequence (or the int2/int4 column it feeds, whichever ends first) past this share of its range fails.
    pghero flags 90%, check_postgres warns at 85% and is critical at 95%: those are alerts. This is a pre-maintenance
    gate that must leave time to schedule the fix, ALTER COLUMN ... TYPE bigint, a rewrite of the whole table
    (hours on a large one) in a monthly window; at 75% an int4 key still has 537 million values left."""


# ---- the section -----------------------------------------------------------------------------------------------------
class Database(Section):
    """Where the PostgreSQL database is and how checks and actions log in. No password here: see password_*."""

    host: str = ""
    """Required unless enabled = false."""
    port: Port = 5432
    enabled: bool = True
    """false: the team leaves the database out on purpose; its checks are skipped as not configured, never passed."""
    dbname: str = "aifilmstudio"
    sslmode: str = "prefer"
    user: str = "opsproof_check"
    """The read-only role checks use."""
    password_env: str | None = "OPSPROOF_DB_PASSWORD"
    password_file: Path | None = None
    """A file holding the password (relative to the project folder); the sandbox writes its throwaway ones."""
    action_user: str = "opsproof_action"
    """The role actions use (vacuum, reindex, archive)."""
    action_password_env: str | None = "OPSPROOF_DB_ACTION_PASSWORD"
    action_password_file: Path | None = None
    min_server_version: PositiveInt = 12
    """REINDEX CONCURRENTLY needs 12+ (runbook: 'PostgreSQL 12+')."""
    maintenance_timeout_s: PositiveInt = 3600
    """statement_timeout of one maintenance statement (VACUUM, REINDEX, a delete batch): inside the 4-hour window."""

    vacuum: Vacuum = Vacuum()
    statistics: Statistics = Statistics()
    window: MaintenanceWindow = MaintenanceWindow()
    bloat: Bloat = Bloat()
    indexes: Indexes = Indexes()
    wraparound: Wraparound = Wraparound()
    connections: Connections = Connections()
    archive: Archive = Archive()
    reindex: Reindex = Reindex()
    parameters: Parameters = Parameters()
    replication: Replication = Replication()
    horizon: Horizon = Horizon()
    sequences: Sequences = Sequences()

    @model_validator(mode="after")
    def _host_when_enabled(self):
        if self.enabled and not self.host:
            raise ValueError("host: required (or enabled = false to leave the database out)")
        return self

