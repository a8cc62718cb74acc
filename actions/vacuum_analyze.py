"""Weekly 'Analyze and Vacuum': VACUUM (ANALYZE, VERBOSE) and ANALYZE VERBOSE, per table.

    python -m actions vacuum-analyze --env prod                      # the plan: every table, largest first
    python -m actions vacuum-analyze --env prod --apply --tables jobs users
    python -m actions analyze --env prod --apply

Per table rather than the runbook's one database-wide statement: a table that fails (a lock timeout) is reported and
the rest still run, and each table's VERBOSE output lands in the evidence. With --apply the run is recorded
(database.window.record) so the post-maintenance check can ask the database whether every table really shows it.
"""

from psycopg import sql

from opsproof.postgres import tables as pg_tables, window

from . import StepFailed, action, param
from ._postgres import flush_stats, messages, qualified, resolve_tables, set_timeouts, shown, summary

TABLES = param("--tables", nargs="*", default=None, metavar="TABLE",
               help="tables (name or schema.name); default: every table, largest first")


@action("vacuum-analyze", help="VACUUM (ANALYZE, VERBOSE) every table, or the named ones", params=[TABLES])
def vacuum_analyze(ctx, tables=None):
    return _run(ctx, tables, vacuum=True)


@action("analyze", help="ANALYZE VERBOSE every table, or the named ones", params=[TABLES])
def analyze(ctx, tables=None):
    return _run(ctx, tables, vacuum=False)


def _run(ctx, tables, vacuum: bool) -> dict:
    db, cfg = ctx.db, ctx.env.database
    targets = resolve_tables(db, tables)
    state = {t.name: t for t in pg_tables.tables(db)}
    verb = "VACUUM (ANALYZE, VERBOSE)" if vacuum else "ANALYZE VERBOSE"
    names = [shown(*t) for t in targets]
    record = None
    if ctx.apply:
        set_timeouts(db, cfg.maintenance_timeout_s, ctx.env.timeouts.lock_ms)
        flush_stats(db)
        started = db.execute("SELECT now()").fetchone()[0]
        record = window.merge(window.read_record(ctx.env.path(cfg.window.record)), window.Record(
            action=ctx.report.action, started_at=started, vacuumed=names if vacuum else [], analyzed=names))
        window.write_record(ctx.env.path(cfg.window.record), record)
    done, failed = [], []
    for (schema, name), label in zip(targets, names):
        t = state.get(label)
        what = f"{verb} {label}" + (f" ({round(t.reltuples)} rows, {t.dead_tuples} dead, "
                                    f"{t.mods_since_analyze} modified since analyze)" if t else "")
        try:
            out = ctx.step(what, lambda s=schema, n=name: _execute(db, verb, s, n))
        except StepFailed:
            failed.append(label)  # recorded as failed in the report; the other tables still run
            continue
        if ctx.apply:
            done.append(label)
            ctx.report.steps[-1].output = summary(out)
            ctx.evidence.text(f"{verb} {label}", out[-4000:])
    if record is not None:
        record.finished_at = db.execute("SELECT now()").fetchone()[0]
        window.write_record(ctx.env.path(cfg.window.record), record)
    return {"tables": names, "done": done, "failed": failed}


def _execute(db, verb: str, schema: str, name: str) -> str:
    with messages(db) as m:
        db.execute(sql.SQL(verb + " {}").format(qualified(schema, name)))
    if m.warnings:  # e.g. 'skipping "x" --- only table or database owner can vacuum it': not done, not success
        raise RuntimeError("; ".join(m.warnings))
    return m.text()
