"""What the database actions share: resolving table names, running maintenance statements under their own timeouts,
and catching the server's NOTICE/INFO/WARNING messages (VACUUM VERBOSE's output, REINDEX's 'skipping' warnings)."""

from contextlib import contextmanager

import psycopg
from psycopg import sql

from opsproof.errors import OpsproofError


class Messages:
    """Server messages (INFO, NOTICE, WARNING) of one statement, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def __call__(self, diag: psycopg.errors.Diagnostic) -> None:
        text = diag.message_primary or ""
        if diag.message_detail:
            text += "\n" + diag.message_detail
        self.items.append((diag.severity_nonlocalized or diag.severity or "", text))

    @property
    def warnings(self) -> list[str]:
        return [t for s, t in self.items if s == "WARNING"]

    def text(self) -> str:
        return "\n".join(f"{s}: {t}" for s, t in self.items)


@contextmanager
def messages(conn: psycopg.Connection):
    """Collect the server's messages while the block runs."""
    m = Messages()
    conn.add_notice_handler(m)
    try:
        yield m
    finally:
        conn.remove_notice_handler(m)


def set_timeouts(conn: psycopg.Connection, statement_s: float, lock_ms: int) -> None:
    """Session timeouts of a maintenance run: long enough for a VACUUM of a big table, never unbounded."""
    conn.execute(f"SET statement_timeout = {int(statement_s * 1000)}")
    conn.execute(f"SET lock_timeout = {int(lock_ms)}")


def resolve_tables(conn: psycopg.Connection, names: list[str] | None) -> list[tuple[str, str]]:
    """(schema, table) of each named table (as 'table' or 'schema.table'), or of every user table, largest first."""
    if not names:
        return [tuple(r) for r in conn.execute(
            "SELECT s.schemaname, s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' ORDER BY c.relpages DESC, 1, 2").fetchall()]
    out, unknown = [], []
    for name in names:
        row = conn.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'm', 'p')", (name,)).fetchone()
        (out if row else unknown).append(tuple(row) if row else name)
    if unknown:
        raise OpsproofError(f"no such table(s): {', '.join(unknown)}")
    return out


def qualified(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def shown(schema: str, name: str) -> str:
    """schema.name as the checks print it."""
    return f"{schema}.{name}"


def flush_stats(conn: psycopg.Connection) -> None:
    """Publish this session's pending table statistics before a VACUUM/ANALYZE (PostgreSQL 15+ holds them up to a
    second: the rows a batch just deleted would otherwise be counted as dead after the VACUUM that removed them)."""
    if conn.info.server_version >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT 1")


def summary(verbose: str) -> str:
    """The line of VERBOSE output a person wants in the plan: VACUUM's 'tuples:' line, ANALYZE's 'scanned' line."""
    lines = [line.strip() for line in verbose.splitlines()]
    picked = [line for line in lines if line.startswith("tuples:")] or [line for line in lines if "scanned" in line]
    return (picked[-1] if picked else (lines[-1] if lines else ""))[:200]
