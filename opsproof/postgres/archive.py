"""Rows the archive policy says should be gone: the runbook's completed jobs older than 90 days.

The selection is written once here and used by the check and by the archive-jobs action, so they can never disagree
about which rows are due. With the runbook's index on jobs (status, created_at) it is an index range scan, not a
read of the table.

    >>> overdue(conn, env.database.archive)
    Overdue(table='jobs', rows=0, oldest=None, cutoff=datetime(...), by_day=[])
"""

import datetime as dt
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ..config.database import Archive


def ident(name: str) -> sql.Composable:
    """'jobs' or 'public.jobs' as a quoted identifier."""
    return sql.Identifier(*name.split("."))


def due_filter(a: Archive) -> sql.Composed:
    """WHERE clause of the rows due (parameter %(cutoff)s: the archive cutoff time)."""
    return sql.SQL("{status} = {value} AND {time} < %(cutoff)s").format(
        status=ident(a.status_column), value=sql.Literal(a.status), time=ident(a.time_column))


def cutoff(conn: psycopg.Connection, a: Archive) -> dt.datetime:
    """now() - retention, by the database's clock (the one created_at was written with)."""
    return conn.execute("SELECT now() - make_interval(days => %s)", (a.retention_days,)).fetchone()[0]


@dataclass(frozen=True)
class Overdue:
    table: str
    rows: int
    oldest: dt.datetime | None
    cutoff: dt.datetime
    by_day: list[tuple[str, int]] = field(default_factory=list)
    """The runbook's 'Find old data to archive' query: count per day, oldest first (at most 30 days shown)."""


def overdue(conn: psycopg.Connection, a: Archive) -> Overdue:
    cut = cutoff(conn, a)
    q = sql.SQL("SELECT date_trunc('day', {time})::date::text, count(*), min({time}) FROM {table} WHERE {due} "
                "GROUP BY 1 ORDER BY 1").format(time=ident(a.time_column), table=ident(a.table), due=due_filter(a))
    days = conn.execute(q, {"cutoff": cut}).fetchall()
    return Overdue(a.table, sum(n for _, n, _ in days), days[0][2] if days else None, cut,
                   [(d, n) for d, n, _ in days[:30]])
