"""The [backups] section: the runbook's "Backup Validation" and the pre-maintenance "Create database backup / Verify
backup integrity", with every threshold's default and where it comes from.

    [backups]
    latest_snapshot_max_age_h = 24      # AWS Config rds-last-backup-recovery-point-created: 1 day
    [backups.drill]
    rto_min = 120                       # restore duration budget (AWS Config rds-meets-restore-time-target)
    [[backups.drill.validations]]
    table = "users"
    measure = "count"
"""

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator

from .base import Port, Section
from .target import AwsTarget

_IDENT = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")


class Validation(Section):
    """One validation query of the restore drill, compared with the source as of the snapshot's time."""

    table: str
    measure: Literal["count", "max"] = "count"
    """count: count(*) of the restored copy against the source's rows created at or before the snapshot time
    (within count_tolerance_pct). max: MAX(column) of the restored copy against the source's newest value at or
    before the snapshot time (the gap, the data lost, within rpo_min)."""
    column: str | None = None
    """For measure = max: a timestamp column (default: the drill's time_column)."""

    @field_validator("table", "column")
    @classmethod
    def _ident(cls, v):
        if v is not None and not _IDENT.fullmatch(v):
            raise ValueError(f"not a plain (schema.)identifier: {v!r}")
        return v

    @property
    def name(self) -> str:
        if self.measure == "count":
            return f"count(*) {self.table}"
        return f"max({self.column or 'created_at'}) {self.table}"


RUNBOOK_VALIDATIONS = [  # runbook: SELECT COUNT(*) FROM users; ... projects; SELECT MAX(created_at) FROM jobs;
    Validation(table="users", measure="count"),
    Validation(table="projects", measure="count"),
    Validation(table="jobs", measure="max", column="created_at"),
]


class Drill(Section):
    """The monthly restore test (runbook: "Test Database Restore", first Saturday of the month), done by
    `python -m actions restore-drill --apply` and judged by the monthly check from the record it leaves."""

    methods: list[Literal["rds", "logical"]] = ["rds"]
    """Which drills the monthly check expects a record of: rds (snapshot restore through the RDS API) and/or
    logical (pg_dump custom format restored with pg_restore into a scratch database, see [backups.logical])."""
    instance_prefix: str = Field("test-restore-", pattern=r"^[a-z][a-z0-9-]*$")
    """The drill instance is <prefix>YYYYMM (runbook: test-restore-$(date +%Y%m)). Instances with this prefix and no
    drill running are leftovers, as are instances carrying the drill tag."""
    tag_key: str = "opsproof:purpose"
    tag_value: str = "restore-drill"
    """The tag every drill instance carries: how leftovers of a crashed drill are found."""
    instance_class: str | None = None
    """Instance class of the drill instance (default: the snapshot's); a smaller class makes a cheaper drill but a
    slower restore, which then says less about the RTO."""
    subnet_group: str | None = None
    """DB subnet group of the drill instance (default: the account's default) — where the drill host can reach it."""
    security_groups: list[str] = []
    """VPC security groups of the drill instance (they must let the drill host in on the database port)."""
    wait_timeout_min: PositiveFloat = 90.0
    """How long to wait for the restored instance to become available (a 1 TB snapshot restores in tens of
    minutes) before the drill fails (and still deletes the instance)."""
    poll_s: PositiveFloat = 30.0
    """Status poll interval while waiting (the RDS waiter's own default is 30 s)."""
    rto_min: PositiveFloat = 120.0
    """Restore time objective: from the restore call until the restored copy answers queries. A longer restore
    fails the drill (AWS Config rds-meets-restore-time-target's maxRestoreTime). Set it to your RTO."""
    rpo_min: PositiveFloat = 60.0
    """Recovery point objective for the snapshot's content: the source's newest row at the snapshot time may be at
    most this much newer than the restored copy's (the data a restore would lose)."""
    count_tolerance_pct: NonNegativeFloat = 1.0
    """Restored row counts may differ from the source's rows created at or before the snapshot time by this much
    (rows deleted from the source since — archiving — make the source's count lower)."""
    time_column: str = "created_at"
    """The column that says when a row was created, for "the source as of the snapshot time"."""
    validations: list[Validation] = RUNBOOK_VALIDATIONS
    """The runbook's validation queries: row counts of users and projects, MAX(created_at) of jobs."""
    check_foreign_keys: bool = True
    """Every foreign key of the restored copy is checked for orphans (child rows whose parent is missing)."""
    amcheck: bool = True
    """Verify the restored copy's B-tree indexes with amcheck's bt_index_check where the extension is installed and
    the role may run it (skipped, and said so, elsewhere)."""
    amcheck_max_indexes: PositiveInt = 200
    """At most this many indexes (largest first) are verified."""
    validation_timeout_s: PositiveInt = 900
    """statement_timeout of each validation query on the restored copy and the source (a full count or an
    anti-join over a large table takes a while)."""
    record: Path = Path("reports/backups/restore-drill.json")
    """Where restore-drill --apply writes its result (and appends it to <record>.history.jsonl): the runbook's
    "Document results in maintenance log", read by the monthly check."""
    logical_record: Path = Path("reports/backups/logical-restore-drill.json")
    """The same for logical-restore-drill --apply."""
    max_age_days: PositiveFloat = 35.0
    """The monthly check fails when the last drill is older than this (first Saturday of each month: at most five
    weeks apart)."""

    @field_validator("time_column")
    @classmethod
    def _ident(cls, v):
        if not _IDENT.fullmatch(v):
            raise ValueError(f"not a plain identifier: {v!r}")
        return v

    def column_of(self, v: Validation) -> str:
        return v.column or self.time_column


class Scratch(Section):
    """The PostgreSQL server a logical drill restores into (never production): a role that may CREATE DATABASE."""

    host: str
    port: Port = 5432
    user: str = "opsproof_restore"
    password_env: str | None = "OPSPROOF_SCRATCH_PASSWORD"
    password_file: Path | None = None
    maintenance_db: str = "postgres"
    """The database to connect to for CREATE/DROP DATABASE."""
    sslmode: str = "prefer"
    database_prefix: str = Field("opsproof_scratch_", pattern=r"^[a-z_][a-z0-9_]*$")
    """Scratch databases are <prefix><yyyymmddhhmmss>; leftovers with this prefix are dropped by the next drill."""


class Logical(Section):
    """Self-managed PostgreSQL: the nightly pg_dump (custom format) is complete and restores."""

    dump: str | None = None
    """The dump file, or a glob (the newest match counts), e.g. "/backups/aifilmstudio-*.dump". Unset: the logical
    checks are skipped."""
    max_age_h: PositiveFloat = 26.0
    """The newest dump must be younger than this (a nightly dump, with slack for its own run time)."""
    verify_timeout_s: PositiveInt = 1800
    """Bound of reading the whole dump through pg_restore (the integrity check)."""
    jobs: PositiveInt = 2
    """pg_restore --jobs of the logical drill."""
    restore_timeout_s: PositiveInt = 7200
    """Bound of the logical drill's pg_restore."""
    scratch: Scratch | None = None


class Backups(AwsTarget):
    """Backup validation: RDS snapshots, the monthly restore drill, logical dumps."""

    instances: list[str] = []
    """RDS instances whose backups are checked (default: [rds] instance_id)."""
    latest_snapshot_max_age_h: PositiveFloat = 24.0
    """The newest available automated snapshot of each instance must be younger than this (AWS Config
    rds-last-backup-recovery-point-created: 1 day)."""
    min_retention_days: PositiveInt = 7
    """BackupRetentionPeriod of each instance at least this (RDS default 7; 0 turns automated backups off)."""
    require_encryption: bool = True
    """Every snapshot of each instance (automated and manual) is encrypted."""
    pre_window_snapshot_max_age_h: PositiveFloat = 24.0
    """Before a window (pre_maintenance) a manual snapshot of each instance must be available and younger than this
    (runbook, 24 hours before: "Create database backup")."""
    pre_window_snapshot_prefix: str = "pre-maintenance"
    """`python -m actions snapshot --apply` names its snapshot <instance>-<prefix>-<yyyymmdd-hhmmss>."""

    drill: Drill = Drill()
    logical: Logical = Logical()

    def instance_ids(self, default: str) -> list[str]:
        return list(self.instances) or [default]
