"""Monthly 'Reindex Tables': REINDEX INDEX CONCURRENTLY, one index at a time, each under a lock_timeout.

    python -m actions reindex --env prod                    # the plan: the runbook's indexes + every index of its
                                                            # large tables (database.reindex)
    python -m actions reindex --env prod --apply --indexes idx_users_email

Why per index, and why this much care: a REINDEX CONCURRENTLY that fails (a lock timeout, a unique violation, a
cancel) leaves `<index>_ccnew` behind, invalid yet updated on every write; REINDEX TABLE CONCURRENTLY then skips such
indexes with a WARNING and still exits 0. Here every failure is reported with its leftover and, with --apply, the
leftover is dropped (DROP INDEX CONCURRENTLY); a skipped index is a failure, never a success; and the run ends by
asking the catalog whether any target is still invalid.
"""

import psycopg
import tenacity
from psycopg import sql

from opsproof.postgres import indexes as pg_indexes

from . import StepFailed, action, param
from ._postgres import messages, set_timeouts

TARGETS_SQL = """
SELECT n.nspname, ic.relname, quote_ident(n.nspname) || '.' || quote_ident(tc.relname), pg_relation_size(i.indexrelid),
       i.indisvalid, c.contype = 'x' AS exclusion
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'x'
WHERE (i.indexrelid = ANY(%(indexes)s::regclass[]) OR i.indrelid = ANY(%(tables)s::regclass[]))
ORDER BY tc.relname, ic.relname
"""


@action("reindex", help="REINDEX INDEX CONCURRENTLY the runbook's indexes and those of its large tables", params=[
    param("--indexes", nargs="*", default=None, metavar="INDEX", help="default: database.reindex.indexes"),
    param("--tables", nargs="*", default=None, metavar="TABLE",
          help="every index of these tables too; default: database.reindex.tables"),
    param("--lock-timeout-ms", type=int, default=None, help="default: database.reindex.lock_timeout_ms"),
])
def reindex(ctx, indexes=None, tables=None, lock_timeout_ms=None):
    cfg = ctx.env.database
    db = ctx.db
    lock_ms = lock_timeout_ms or cfg.reindex.lock_timeout_ms
    indexes = cfg.reindex.indexes if indexes is None else indexes
    tables = cfg.reindex.tables if tables is None else tables
    targets = _targets(db, indexes, tables)
    if ctx.apply:
        set_timeouts(db, cfg.maintenance_timeout_s, lock_ms)
    ctx.evidence.table("indexes before", [{"index": f"{s}.{n}", "table": t, "bytes": b, "valid": v}
                                          for s, n, t, b, v, _ in targets])
    target_tables = sorted({t for *_, t, _, _, _ in targets} | set(_tables(db, tables)))

    # Leftovers of earlier failed rebuilds on these tables: the manual says drop them, then reindex.
    for bad in [b for b in pg_indexes.broken(db) if b.table in target_tables and _is_leftover(b.name)]:
        _drop(ctx, db, bad.name, f"leftover from an earlier failure: {bad.leftover}")

    rebuilt, failed = [], []
    for schema, name, table, size, valid, exclusion in targets:
        label = f"{schema}.{name}"
        if _is_leftover(label):
            continue  # handled above
        if exclusion:
            ctx.report.steps.append(_failed_step(f"REINDEX INDEX CONCURRENTLY {label}",
                                                 "exclusion-constraint indexes cannot be rebuilt concurrently"))
            failed.append(label)
            continue
        what = (f"REINDEX INDEX CONCURRENTLY {label} on {table} ({size} bytes{', INVALID' if not valid else ''}; "
                f"lock_timeout {lock_ms} ms)")
        try:
            ctx.step(what, lambda s=schema, n=name: _rebuild(db, s, n))
        except StepFailed:
            failed.append(label)
            for leftover in _leftovers_of(db, schema, name):
                _drop(ctx, db, leftover, f"left by the failed rebuild of {label}")
            continue
        if ctx.apply:
            rebuilt.append(label)

    if ctx.apply:
        still = [b for b in pg_indexes.broken(db) if b.table in target_tables]
        ctx.evidence.table("broken indexes after", still)
        if still:
            ctx.report.steps.append(_failed_step("verify: no invalid or leftover index on the reindexed tables",
                                                 "; ".join(f"{b.name}: {b.leftover}" for b in still)))
    return {"rebuilt": rebuilt, "failed": failed}


def _targets(db, indexes: list[str], tables: list[str]) -> list[tuple]:
    missing = [n for n in indexes + tables if db.execute("SELECT to_regclass(%s)", (n,)).fetchone()[0] is None]
    if missing:
        from opsproof.errors import OpsproofError

        raise OpsproofError(f"no such index or table: {', '.join(missing)}")
    rows = db.execute(TARGETS_SQL, {"indexes": indexes, "tables": tables}).fetchall()
    return [tuple(r) for r in rows]


QUALIFIED = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)"


def _tables(db, tables: list[str]) -> list[str]:
    return [db.execute(f"SELECT {QUALIFIED} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.oid = to_regclass(%s)", (t,)).fetchone()[0] for t in tables]


def _is_leftover(name: str) -> bool:
    base = name.rstrip("0123456789")
    return base.endswith("_ccnew") or base.endswith("_ccold")


def _rebuild(db, schema: str, name: str) -> str:
    with messages(db) as m:
        db.execute(sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(sql.Identifier(schema, name)))
    if m.warnings:  # PostgreSQL skips some indexes with a WARNING and succeeds: that is not a rebuild
        raise RuntimeError("skipped: " + "; ".join(m.warnings))
    return ""


def _leftovers_of(db, schema: str, name: str) -> list[str]:
    """The _ccnew/_ccold indexes a failed REINDEX CONCURRENTLY of schema.name left (names are cut at 63 bytes)."""
    base = name[:57]
    return [r[0] for r in db.execute(
        f"SELECT {QUALIFIED} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'i' AND c.relname ~ ('^' || %s || '_cc(new|old)[0-9]*$')",
        (schema, base)).fetchall()]


DROP_ATTEMPTS = 3
"""The transaction that made a rebuild time out may still be open: the drop waits for it a few times, each within
the lock_timeout, before it gives up (and the leftover is reported, and dropped first by the next run)."""


def _drop(ctx, db, qualified_name: str, why: str) -> None:
    schema, name = qualified_name.split(".", 1)
    stmt = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(schema, name))
    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(DROP_ATTEMPTS), wait=tenacity.wait_fixed(0.5),
                                 retry=tenacity.retry_if_exception_type(psycopg.errors.LockNotAvailable), reraise=True)
    try:
        ctx.step(f"DROP INDEX CONCURRENTLY {qualified_name} ({why})", lambda: retrying(db.execute, stmt))
    except StepFailed:
        pass  # recorded as failed; the verification at the end names it again


def _failed_step(description: str, output: str):
    from . import Step

    return Step(description, "failed", output)
