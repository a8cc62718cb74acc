"""The runbook's "Database Maintenance" as rules over the PostgreSQL facts (opsproof/postgres/) and the [database]
section: what the server and its tables, indexes, sequences and archive policy must look like. The rules over
sessions, the xmin horizon and replication are in rules/database_activity.py, the parameter review in
rules/database_parameters.py."""

import datetime as dt

from ..config.database import Archive, Bloat as BloatLimits, Database, Sequences, Statistics, Vacuum
from ..findings import SKIP, Finding, alarm, ok
from ..postgres import pretty
from ..postgres.archive import Overdue
from ..postgres.bloat import Bloat
from ..postgres.indexes import BrokenIndex, DuplicateIndex
from ..postgres.sequences import Sequence
from ..postgres.server import Server
from ..postgres.tables import Table
from ..postgres.window import Scope


def vacuum_analyze_fix(*tables: str) -> str:
    return "python -m actions vacuum-analyze --tables " + " ".join(tables)


# ---- the server ------------------------------------------------------------------------------------------------------
def server(s: Server, d: Database) -> list[Finding]:
    """The check role's session is read-only and the server's major version is supported."""
    role = f"role {s.user}"
    found = [ok(role, "read-only session") if s.read_only else
             alarm(role, "got a writable session: checks must be read-only", measured="read write",
                   limit="read only", fix=f"ALTER ROLE {s.user} SET default_transaction_read_only = on")]
    version = f"PostgreSQL {s.version}"
    if s.major >= d.min_server_version:
        found.append(ok(version, f"at least {d.min_server_version}", measured=s.major, limit=d.min_server_version))
    else:
        found.append(alarm(version, f"is older than {d.min_server_version}", measured=s.major,
                           limit=d.min_server_version, key="database.min_server_version"))
    return found


def rds_instance(inst, instance_id: str, region: str) -> list[Finding]:
    """The RDS instance (opsproof/probes/rds.py's Instance, or None when there is none) exists and is available."""
    if inst is None:
        return [alarm(instance_id, f"RDS instance not found in {region}", key="rds.instance_id")]
    if inst.status != "available":
        fix = f"aws rds start-db-instance --db-instance-identifier {inst.id}" if inst.status == "stopped" else None
        return [alarm(inst.id, f"RDS instance is {inst.status!r}, not 'available'", measured=inst.status,
                      limit="available", fix=fix)]
    return [ok(inst.id, "available", measured=inst.status, limit="available")]


# ---- vacuum, statistics, the window -------------------------------------------------------------------------------
def vacuum(rows: list[Table], v: Vacuum) -> list[Finding]:
    """A table with rows never vacuumed, or whose dead tuples passed trigger_factor × its own autovacuum trigger
    and the runbook's floor while no vacuum runs on it."""
    found = []
    for t in rows:
        limit = max(v.trigger_factor * t.vacuum_trigger, v.dead_tuples_floor)
        key = "database.vacuum." + ("trigger_factor" if limit > v.dead_tuples_floor else "dead_tuples_floor")
        if t.vacuumed_at is None and t.has_rows:
            found.append(alarm(t.name, "never vacuumed", fix=vacuum_analyze_fix(t.name)))
        elif t.dead_tuples > limit and not t.vacuum_running:
            found.append(alarm(t.name, f"{t.dead_tuples} dead tuples > trigger {limit:.0f}" + _autovacuum_off(t),
                               measured=t.dead_tuples, limit=round(limit), key=key, fix=vacuum_analyze_fix(t.name)))
        else:
            found.append(ok(t.name, f"{t.dead_tuples} dead tuples, trigger {limit:.0f}"
                            + (", vacuum running" if t.dead_tuples > limit else ""),
                            measured=t.dead_tuples, limit=round(limit)))
    return found


def statistics(rows: list[Table], s: Statistics) -> list[Finding]:
    """A table with rows never analyzed, or modified beyond trigger_factor × its own analyze trigger and the
    runbook's floor since its last analyze."""
    found = []
    for t in rows:
        limit = max(s.trigger_factor * t.analyze_trigger, s.mods_floor)
        key = "database.statistics." + ("trigger_factor" if limit > s.mods_floor else "mods_floor")
        fix = f"python -m actions analyze --tables {t.name}"
        if t.analyzed_at is None and t.has_rows:
            found.append(alarm(t.name, "never analyzed", fix=fix))
        elif t.mods_since_analyze > limit:
            found.append(alarm(t.name, f"{t.mods_since_analyze} modifications since analyze > trigger {limit:.0f}"
                               + _autovacuum_off(t), measured=t.mods_since_analyze, limit=round(limit), key=key,
                               fix=fix))
        else:
            found.append(ok(t.name, f"{t.mods_since_analyze} modifications since analyze, trigger {limit:.0f}",
                            measured=t.mods_since_analyze, limit=round(limit)))
    return found


def _autovacuum_off(t: Table) -> str:
    return "" if t.autovacuum_enabled else ", autovacuum disabled on it"


def window_reached(rows: list[Table], scope: Scope) -> list[Finding]:
    """Every table the window meant to vacuum/analyze (scope.vacuumed/analyzed; None: every table) shows a MANUAL
    vacuum/analyze after the window began. Autovacuum's runs do not count: the question is whether the window's own
    run reached them."""
    began = f"{scope.since.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S}Z"
    found = []
    for t in rows:
        missed = []
        for what, meant, last in (("vacuum", scope.vacuumed, t.last_vacuum), ("analyze", scope.analyzed,
                                                                              t.last_analyze)):
            if (meant is None or t.name in meant) and (last is None or last < scope.since):
                missed.append(alarm(t.name, f"last {what} {_when(last)}, not since the window began at {began}",
                                    measured=_when(last), limit=began,
                                    fix=vacuum_analyze_fix(t.name) if what == "vacuum"
                                    else f"python -m actions analyze --tables {t.name}"))
        if missed:
            found += missed
        elif scope.vacuumed is None or scope.analyzed is None or t.name in scope.vacuumed | scope.analyzed:
            found.append(ok(t.name, f"maintained since the window began at {began}"))
    return found


def _when(t: dt.datetime | None) -> str:
    return f"{t.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S}Z" if t else "never"


# ---- bloat and indexes -----------------------------------------------------------------------------------------------
def bloat(result: list[Bloat], b: BloatLimits) -> list[Finding]:
    """A table wasting more than max_percent of its size, and a table with no statistics that nobody could read
    (its bloat cannot be judged: never passed silently). An untrusted estimate that was not read is a skip."""
    found = []
    for r in result:
        size = pretty(r.size_bytes)
        if r.blind:
            found.append(alarm(r.name, f"no statistics, so its bloat cannot be judged ({size}, {r.note})",
                               fix=vacuum_analyze_fix(r.name)))
        elif r.percent is None:
            found.append(Finding(SKIP, r.name, f"not judged: estimate untrusted, not confirmed ({r.note})"))
        elif r.percent > b.max_percent:
            found.append(alarm(r.name, f"{r.percent}% wasted ({pretty(r.wasted_bytes)} of {size}, {r.basis}"
                               + (f", {r.note}" if r.note else "") + ")", measured=r.percent, limit=b.max_percent,
                               key="database.bloat.max_percent",
                               fix="pg_repack, or VACUUM FULL in a window (it locks the table)"))
        else:
            found.append(ok(r.name, f"{r.percent}% wasted ({r.basis})", measured=r.percent, limit=b.max_percent))
    return found


def invalid_indexes(broken: list[BrokenIndex]) -> list[Finding]:
    """Every index not valid, ready and live, or named like a concurrent build's leftover, is an alarm."""
    if not broken:
        return [ok("indexes", "every index valid, ready and live; no _ccnew/_ccold leftover")]
    return [alarm(i.name, f"on {i.table} (valid={i.valid}, ready={i.ready}): {i.leftover}", measured=pretty(i.bytes),
                  fix=f"python -m actions reindex --tables {i.table}") for i in broken]


def duplicate_indexes(dups: list[DuplicateIndex]) -> list[Finding]:
    """An index that duplicates another on the same table slows every write for nothing."""
    if not dups:
        return [ok("indexes", "no index duplicates another")]
    return [alarm(d.redundant, f"duplicates {d.kept} on {d.table} ({pretty(d.bytes)})", measured=d.bytes,
                  fix=f"DROP INDEX CONCURRENTLY {d.redundant}") for d in dups]


# ---- sequences and the archive policy -----------------------------------------------------------------------------
def sequences(rows: list[Sequence], s: Sequences) -> list[Finding]:
    """A sequence (per column it feeds) past max_used_percent of its range, counted to whichever ends first, and a
    sequence this role cannot read (never passed silently); most used first."""
    found = []
    for q in sorted(rows, key=lambda q: -q.used_percent):
        if not q.readable:
            found.append(alarm(q.name, "cannot read its last value",
                               fix="grant pg_read_all_data (or SELECT on it) to the check role"))
        elif q.used_percent > s.max_used_percent:
            found.append(alarm(q.subject, f"{q.usage}, past {s.max_used_percent:g}%", measured=q.used_percent,
                               limit=s.max_used_percent, key="database.sequences.max_used_percent",
                               fix=_widen(q)))
        else:
            found.append(ok(q.subject, q.usage, measured=q.used_percent, limit=s.max_used_percent))
    return found


def _widen(q: Sequence) -> str:
    steps = []
    if q.column and q.column_type != "bigint":
        table, column = q.column.rsplit(".", 1)
        steps.append(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint (a table rewrite: plan it in a window)")
    if q.type != "bigint":
        steps.append(f"ALTER SEQUENCE {q.name} AS bigint")
    return " and ".join(steps) or "a bigint sequence near its end: archive, or plan a new key"


def archive(due: Overdue, a: Archive) -> list[Finding]:
    """No completed job older than the retention is left in the table (the archive policy)."""
    what = f"row(s) with {a.status_column} = '{a.status}' older than {a.retention_days} days"
    if not due.rows:
        return [ok(a.table, f"no {what}", measured=0, limit=0)]
    return [alarm(a.table, f"{due.rows} {what} (oldest {a.time_column} {due.oldest:%Y-%m-%d})", measured=due.rows,
                  limit=0, key="database.archive.retention_days", fix="python -m actions archive-jobs --apply")]
