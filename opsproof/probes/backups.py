"""Probes of backups: drill instances (opsproof/probes/rds.py reads RDS), the restore drill's validation queries
(read-only SQL) judged as Findings, its record, and logical dumps (pg_restore reads them; nothing is restored here).

    >>> compare_counts(source=5000, restored=4990, tolerance_pct=1.0).status
    'ok'
"""

import datetime as dt
import glob
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProbeFailed, TargetUnreachable
from ..findings import Finding, alarm, ok
from .rds import Instance, instances, now

UTC = dt.timezone.utc


# ---- drill instances -------------------------------------------------------------------------------------------------
def drill_instances(rds, prefix: str, tag_key: str, tag_value: str) -> list[Instance]:
    """DB instances that are restore drills: carrying the drill tag, or named <prefix>... (the runbook's drills by
    hand, test-restore-YYYYMM, carry no tag)."""
    return [i for i in instances(rds) if i.tags.get(tag_key) == tag_value or i.id.startswith(prefix)]


# ---- validation queries (read-only) ----------------------------------------------------------------------------------
def _q(conn, sql: str, params=None):
    return conn.execute(sql, params or ()).fetchone()[0]


def _ident(name: str) -> str:
    return ".".join(f'"{p}"' for p in name.split("."))


def count_rows(conn, table: str, time_column: str | None = None, as_of: dt.datetime | None = None) -> int:
    """count(*) (never n_live_tup, an estimate that a restore resets); with as_of: rows created at or before it."""
    if as_of is None:
        return _q(conn, f"SELECT count(*) FROM {_ident(table)}")
    return _q(conn, f"SELECT count(*) FROM {_ident(table)} WHERE {_ident(time_column)} <= %s", (as_of,))


def max_value(conn, table: str, column: str, as_of: dt.datetime | None = None):
    if as_of is None:
        return _q(conn, f"SELECT max({_ident(column)}) FROM {_ident(table)}")
    return _q(conn, f"SELECT max({_ident(column)}) FROM {_ident(table)} WHERE {_ident(column)} <= %s", (as_of,))


def compare_counts(name: str = "count", source: int = 0, restored: int = 0, tolerance_pct: float = 1.0) -> Finding:
    """The restored copy's row count against the source's at the snapshot time, within the tolerance."""
    diff = restored - source
    pct = abs(diff) * 100.0 / max(source, 1)
    verdict = ok if pct <= tolerance_pct else alarm
    return verdict(name, f"source {source}, restored {restored}: {diff:+d} rows ({pct:.2f}%, tolerance "
                   f"{tolerance_pct:g}%)", measured=restored, limit=source, key="backups.drill.count_tolerance_pct")


def compare_freshness(name: str, source: dt.datetime | None, restored: dt.datetime | None, rpo_min: float) -> Finding:
    """The source's newest row at the snapshot time against the restored copy's newest: the gap is data lost."""
    kw = dict(measured=restored, limit=source, key="backups.drill.rpo_min")
    if source is None:
        return ok(name, "the source had no rows at the snapshot time", **kw)
    if restored is None:
        return alarm(name, "the restored copy has no rows", **kw)
    gap_min = (source - restored).total_seconds() / 60
    verdict = ok if gap_min <= rpo_min else alarm
    return verdict(name, f"restored copy {gap_min:.1f} min behind the source (RPO {rpo_min:g} min)", **kw)


@dataclass(frozen=True)
class Orphans:
    constraint: str
    child: str
    columns: str
    parent: str
    rows: int


FOREIGN_KEYS = """
SELECT c.conname, format('%I.%I', cn.nspname, cl.relname) AS child, format('%I.%I', pn.nspname, pl.relname) AS parent,
       array_agg(format('%I', ca.attname) ORDER BY k.ord) AS child_cols,
       array_agg(format('%I', pa.attname) ORDER BY k.ord) AS parent_cols
FROM pg_constraint c
JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cl.relnamespace
JOIN pg_class pl ON pl.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pl.relnamespace
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_att, parent_att, ord)
JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att
WHERE c.contype = 'f' AND cn.nspname NOT IN ('pg_catalog', 'information_schema')
GROUP BY c.conname, cn.nspname, cl.relname, pn.nspname, pl.relname
ORDER BY child, c.conname
"""


def foreign_key_orphans(conn) -> tuple[int, list[Orphans]]:
    """(foreign keys checked, those with orphans): child rows whose referenced parent row is missing."""
    fks = conn.execute(FOREIGN_KEYS).fetchall()
    bad = []
    for name, child, parent, ccols, pcols in fks:
        notnull = " AND ".join(f"c.{col} IS NOT NULL" for col in ccols)
        match = " AND ".join(f"p.{p} = c.{col}" for col, p in zip(ccols, pcols))
        n = _q(conn, f"SELECT count(*) FROM {child} c WHERE {notnull} AND NOT EXISTS "
                     f"(SELECT 1 FROM {parent} p WHERE {match})")
        if n:
            bad.append(Orphans(name, child, ", ".join(ccols), parent, n))
    return len(fks), bad


@dataclass
class Amcheck:
    status: str  # ok | failed | skipped
    checked: int = 0
    failures: list[str] = field(default_factory=list)
    reason: str = ""


def amcheck(conn, max_indexes: int) -> Amcheck:
    """bt_index_check on the valid B-tree indexes (largest first), where amcheck is installed and allowed."""
    import psycopg

    schema = conn.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                          "WHERE e.extname = 'amcheck'").fetchone()
    if schema is None:
        return Amcheck("skipped", reason="the amcheck extension is not installed in the restored copy")
    fn = f'"{schema[0]}".bt_index_check'
    allowed = _q(conn, "SELECT has_function_privilege(%s, 'EXECUTE')", (f"{fn}(regclass, boolean)",))
    if not allowed:
        return Amcheck("skipped", reason=f"this role may not execute {fn}")
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't' "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY pg_relation_size(i.indexrelid) DESC LIMIT %s", (max_indexes,)).fetchall()
    result = Amcheck("ok")
    for (index,) in indexes:
        try:
            conn.execute(f"SELECT {fn}(%s::regclass, false)", (index,))
            result.checked += 1
        except psycopg.Error as e:
            result.failures.append(f"{index}: {str(e).strip().splitlines()[0]}")
    if result.failures:
        result.status = "failed"
    return result


# ---- drill records ---------------------------------------------------------------------------------------------------
def record_path(env, method: str) -> Path:
    d = env.backups.drill
    return env.path(d.record if method == "rds" else d.logical_record)


def read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as e:
        return {"passed": False, "failures": [f"{path}: not a drill record ({e})"], "finished_at": None}
    record["validations"] = [_as_finding_row(v) for v in record.get("validations", [])]
    return record


def _as_finding_row(v: dict) -> dict:
    """A validation row as a Finding's row; drills recorded before the Finding shape wrote name/source/restored/ok."""
    if "status" in v or "ok" not in v:
        return v
    return {"status": "ok" if v["ok"] else "alarm", "subject": v.get("name"), "reason": v.get("detail", ""),
            "measured": v.get("restored"), "limit": v.get("source"), "key": None, "fix": None}


def write_record(path: Path, record: dict) -> None:
    """The latest result (path) and every result (path.history.jsonl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, default=str)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    with path.with_name(path.name + ".history.jsonl").open("a") as f:
        f.write(json.dumps(record, default=str) + "\n")


def record_age_days(record: dict) -> float:
    when = record.get("finished_at")
    if not when:
        return float("inf")
    return (now() - dt.datetime.fromisoformat(when)).total_seconds() / 86400


def as_row(c: Finding) -> dict:
    d = c.row()
    for k in ("measured", "limit"):
        if isinstance(d[k], dt.datetime):
            d[k] = d[k].isoformat(timespec="seconds")
    return d


# ---- logical dumps ---------------------------------------------------------------------------------------------------
def pg_tool(name: str) -> str:
    """A PostgreSQL client program: the newest Debian-installed version, else the one on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name),
                   reverse=True)
    if found:
        return str(found[0])
    path = shutil.which(name)
    if not path:
        raise TargetUnreachable(f"{name} is not installed (apt-get install postgresql-client)")
    return path


def newest_dump(pattern: str) -> Path | None:
    """The newest file matching the configured dump path or glob."""
    files = [Path(p) for p in glob.glob(pattern) if os.path.isfile(p)]
    return max(files, key=lambda p: p.stat().st_mtime) if files else None


@dataclass
class DumpToc:
    path: str
    size_bytes: int
    created_at: dt.datetime | None
    """'Archive created at' in the dump's header: the time its data is as of."""
    database: str | None
    data_tables: list[str]
    """Tables whose data the dump holds (TABLE DATA entries)."""
    entries: int


_CREATED = re.compile(r"^;\s+Archive created at (.+)$", re.M)
_DBNAME = re.compile(r"^;\s+dbname: (.+)$", re.M)
_DATA = re.compile(r"^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(\S+)\s", re.M)


def dump_toc(path: Path, timeout_s: float = 60) -> DumpToc:
    """pg_restore --list: the dump's header and table of contents. Raises DumpError when it is not readable."""
    r = _run([pg_tool("pg_restore"), "--list", str(path)], timeout_s, path)
    created = None
    m = _CREATED.search(r.stdout)
    if m:
        created = _parse_pg_time(m.group(1).strip())
    db = _DBNAME.search(r.stdout)
    tables = [f"{s}.{t}" for s, t in _DATA.findall(r.stdout)]
    entries = sum(1 for line in r.stdout.splitlines() if line and not line.startswith(";"))
    return DumpToc(str(path), path.stat().st_size, created, db.group(1).strip() if db else None, tables, entries)


def read_whole_dump(path: Path, timeout_s: float) -> float:
    """Read every block of the dump through pg_restore (decompressing all table data) to /dev/null: a truncated or
    corrupt dump fails here. Returns the seconds it took. Raises DumpError."""
    import time

    t0 = time.monotonic()
    _run([pg_tool("pg_restore"), "--file", os.devnull, str(path)], timeout_s, path)
    return round(time.monotonic() - t0, 2)


@dataclass
class DumpRead:
    """What reading one dump found: its age, its table of contents and how long pg_restore took to read it all, or
    pg_restore's error."""

    path: str
    size_bytes: int
    age_h: float
    toc: DumpToc | None = None
    read_s: float | None = None
    error: str | None = None


def read_dump(path: Path, timeout_s: float) -> DumpRead:
    """The dump's table of contents, then every block read through pg_restore; a DumpError becomes ``error``."""
    st = path.stat()
    out = DumpRead(str(path), st.st_size, (now().timestamp() - st.st_mtime) / 3600)
    try:
        out.toc = dump_toc(path)
        out.read_s = read_whole_dump(path, timeout_s)
    except DumpError as e:
        out.error = str(e)
    return out


class DumpError(ProbeFailed):
    """pg_restore could not read a dump: the message is pg_restore's, naming the file."""


def _run(argv: list[str], timeout_s: float, path: Path) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                           env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
    except subprocess.TimeoutExpired:
        raise DumpError(f"{path}: pg_restore did not finish reading it within {timeout_s:g}s") from None
    if r.returncode != 0:
        errors = [line for line in r.stderr.strip().splitlines() if "error" in line.lower()] or \
            r.stderr.strip().splitlines() or ["pg_restore failed"]
        raise DumpError(f"{path}: {errors[0].strip()}")
    return r


def _parse_pg_time(text: str) -> dt.datetime | None:
    """'2026-11-28 13:31:21 UTC' (pg_restore prints the dump's time zone abbreviation)."""
    m = re.match(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*(\S+)?", text)
    if not m:
        return None
    t = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
    zone = (m.group(2) or "UTC").upper()
    if zone in ("UTC", "GMT", "Z"):
        return t.replace(tzinfo=UTC)
    offset = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?", zone)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        delta = dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return t.replace(tzinfo=dt.timezone(sign * delta))
    return t.astimezone(UTC)  # a zone name: the machine's local time is the best guess
