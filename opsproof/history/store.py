"""The run history store: SQLite (one file, the default) or PostgreSQL (a team's shared store), the same schema
(opsproof/history/migrations.py) and the same SQL.

Appending a run is one exclusive transaction: read the chain's head, write the manifest that links to it, insert
the run. SQLite takes its write lock first (BEGIN IMMEDIATE), PostgreSQL a transaction-scoped advisory lock, so two
runs at once queue rather than both linking to the same head (a fork) or both migrating.

    >>> with open_store(url) as store, store.appending() as tx:
    ...     head = tx.head("prod")                      # (digest, manifest bytes) of the last run, or None
    ...     tx.add_run(run)
"""

import contextlib
import sqlite3
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OpsproofError
from . import migrations

LOCK_KEY = 0x6F707370  # "opsp": the advisory lock every opsproof writer of a PostgreSQL store takes


@dataclass
class Run:
    environment: str
    started_at: float
    finished_at: float
    exitstatus: int
    results: list[dict]
    """Each: nodeid, area, outcome, duration_s, evidence_digest, measurements [(key, subject, value), ...]."""
    account: str | None = None
    change_request: str | None = None
    commit_sha: str | None = None
    markexpr: str | None = None
    folder: str | None = None
    manifest_digest: str | None = None
    previous_digest: str | None = None
    manifest: bytes | None = None


@dataclass
class Row:
    """One check's result in one run, as the summaries read it."""

    run_id: int
    finished_at: float
    nodeid: str
    area: str | None
    outcome: str
    evidence_digest: str | None
    measurements: list[tuple[str, str, float]] = field(default_factory=list)


class StoreError(OpsproofError):
    """The store could not be reached or written (sqlite3's or psycopg's error, re-raised as one)."""


def is_url(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def open_store(location: str | Path, lock_timeout_s: float = 60.0) -> "Store":
    """A PostgreSQL URL, else a SQLite file's path (its folder is made)."""
    if is_url(str(location)):
        return Store("postgresql", str(location), lock_timeout_s)
    try:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"{location}: {e}") from None
    return Store("sqlite", str(location), lock_timeout_s)


class Store:
    def __init__(self, dialect: str, location: str, lock_timeout_s: float):
        self.dialect, self.location, self.lock_timeout_s = dialect, location, lock_timeout_s
        self._migrated = False
        with self._errors():
            if dialect == "sqlite":
                # autocommit mode: transactions are ours (BEGIN IMMEDIATE), and a busy store is waited for
                self.conn = sqlite3.connect(location, timeout=lock_timeout_s, isolation_level=None)
            else:
                import psycopg

                self.conn = psycopg.connect(location, autocommit=True, connect_timeout=10)

    @contextlib.contextmanager
    def _errors(self):
        """sqlite3's and psycopg's errors as StoreError (one line naming the store, never a password)."""
        try:
            yield
        except sqlite3.Error as e:
            raise StoreError(f"{self.location}: {e}") from None
        except Exception as e:
            if type(e).__module__.startswith("psycopg"):
                raise StoreError(f"PostgreSQL history: {str(e).strip().splitlines()[0]}") from None
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.conn.close()

    # ---- SQL in one dialect ------------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.dialect == "sqlite" else sql

    def execute(self, sql: str, params=()):
        with self._errors():
            return self.conn.execute(self._sql(sql), params)

    def query(self, sql: str, params=()) -> list[tuple]:
        with self._errors():
            return list(self.execute(sql, params).fetchall())

    # ---- transactions ------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _exclusive(self):
        if self.dialect == "sqlite":
            self.execute("BEGIN IMMEDIATE")
        else:
            self.execute("BEGIN")
            self.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'")
            self.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.conn.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def appending(self):
        """One exclusive transaction, migrated first: read the head, then add the run that links to it."""
        with self._exclusive():
            self._migrate()
            yield self

    def version(self) -> int:
        if not self._has_table("opsproof_schema"):
            return 0
        rows = self.query("SELECT max(version) FROM opsproof_schema")
        return rows[0][0] or 0

    def _has_table(self, name: str) -> bool:
        if self.dialect == "sqlite":
            return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (name,)))
        return bool(self.query("SELECT to_regclass(%s)", (name,))[0][0])

    def _migrate(self) -> None:
        if not self._has_table("opsproof_schema"):
            self.execute("CREATE TABLE opsproof_schema (version INTEGER NOT NULL, applied_at DOUBLE PRECISION)")
        for version, sql in migrations.statements(self.dialect, self.version()):
            for s in sql:
                self.execute(s)
            self.execute("INSERT INTO opsproof_schema (version, applied_at) VALUES (%s, %s)", (version, time.time()))
        self._migrated = True

    def migrate(self) -> int:
        """Bring the store to the latest schema (each run does this in its own transaction); its version."""
        with self._exclusive():
            self._migrate()
        return self.version()

    # ---- the chain and the runs --------------------------------------------------------------------------------
    def head(self, environment: str) -> tuple[str, bytes] | None:
        """The environment's last manifest: (digest, bytes)."""
        rows = self.query("SELECT manifest_digest, manifest FROM runs WHERE environment = %s AND manifest_digest "
                          "IS NOT NULL ORDER BY id DESC LIMIT 1", (environment,))
        return (rows[0][0], _unpack(rows[0][1])) if rows else None

    def manifest(self, digest: str) -> bytes | None:
        if not self.version():
            return None
        rows = self.query("SELECT manifest FROM runs WHERE manifest_digest = %s", (digest,))
        return _unpack(rows[0][0]) if rows and rows[0][0] is not None else None

    def _ids(self, table: str, unique: tuple[str, ...], values: set[tuple], extra: tuple[str, ...] = ()) -> dict:
        """unique names -> id in `table` (checks, series): each name is stored once and referenced by every run."""
        cols = unique + extra
        if values:
            self._many(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
                       f"ON CONFLICT ({', '.join(unique)}) DO NOTHING", sorted(values, key=str))
        return {tuple(r[1:]): r[0] for r in self.query(f"SELECT id, {', '.join(unique)} FROM {table}")}

    def add_run(self, run: Run) -> int:
        assert self._migrated, "add_run inside appending()"
        manifest = zlib.compress(run.manifest, 9) if run.manifest is not None else None
        cols = ("environment", "account", "change_request", "commit_sha", "markexpr", "started_at", "finished_at",
                "exitstatus", "folder", "manifest_digest", "previous_digest", "manifest")
        values = (run.environment, run.account, run.change_request, run.commit_sha, run.markexpr, run.started_at,
                  run.finished_at, run.exitstatus, run.folder, run.manifest_digest, run.previous_digest, manifest)
        sql = f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
        if self.dialect == "sqlite":
            run_id = self.execute(sql, values).lastrowid
        else:
            run_id = self.query(sql + " RETURNING id", values)[0][0]
        checks = self._ids("checks", ("nodeid",), {(r["nodeid"], r.get("area")) for r in run.results}, ("area",))
        self._many("INSERT INTO results (run_id, check_id, outcome, duration_s, evidence_digest) "
                   "VALUES (%s, %s, %s, %s, %s)",
                   [(run_id, checks[(r["nodeid"],)], r["outcome"], r.get("duration_s"), r.get("evidence_digest"))
                    for r in run.results])
        points = {(k, s, r["nodeid"]): v for r in run.results for k, s, v in r.get("measurements", ())}
        series = self._ids("series", ("key", "subject", "nodeid"), set(points))
        self._many("INSERT INTO measurements (run_id, series_id, value) VALUES (%s, %s, %s)",
                   [(run_id, series[k], v) for k, v in points.items()])
        return run_id

    def _many(self, sql: str, rows: list[tuple]) -> None:
        if not rows:
            return
        with self._errors():
            if self.dialect == "sqlite":
                self.conn.executemany(self._sql(sql), rows)
            else:
                with self.conn.cursor() as cur:
                    cur.executemany(sql, rows)

    def rows(self, environment: str, since: float) -> list[Row]:
        """Every check's result in the environment's runs since `since` (epoch s), oldest first."""
        if not self.version():
            return []
        found = self.query(
            "SELECT r.id, r.finished_at, c.nodeid, c.area, x.outcome, x.evidence_digest FROM runs r "
            "JOIN results x ON x.run_id = r.id JOIN checks c ON c.id = x.check_id "
            "WHERE r.environment = %s AND r.finished_at >= %s ORDER BY r.id, c.nodeid", (environment, since))
        out = [Row(*r) for r in found]
        by = {(r.run_id, r.nodeid): r for r in out}
        for run_id, nodeid, key, subject, value in self.query(
                "SELECT m.run_id, s.nodeid, s.key, s.subject, m.value FROM measurements m "
                "JOIN runs r ON r.id = m.run_id JOIN series s ON s.id = m.series_id "
                "WHERE r.environment = %s AND r.finished_at >= %s ORDER BY m.run_id, s.id", (environment, since)):
            if (run_id, nodeid) in by:
                by[(run_id, nodeid)].measurements.append((key, subject, value))
        return out

    def last_success(self, environment: str, markexpr: str | None) -> float | None:
        """When a run of this gate (its -m expression) last passed."""
        if not self.version():
            return None
        rows = self.query("SELECT max(finished_at) FROM runs WHERE environment = %s AND exitstatus = 0 AND "
                          "coalesce(markexpr, '') = %s", (environment, markexpr or ""))
        return rows[0][0]

    def count_runs(self) -> int:
        return self.query("SELECT count(*) FROM runs")[0][0] if self.version() else 0

    def chain_forks(self, environment: str) -> list[str]:
        """Digests two runs both link to (two heads read at once): never, when appends are exclusive."""
        return [r[0] for r in self.query(
            "SELECT previous_digest FROM runs WHERE environment = %s AND previous_digest IS NOT NULL "
            "GROUP BY previous_digest HAVING count(*) > 1", (environment,))]


def _unpack(v) -> bytes:
    return zlib.decompress(bytes(v))
