"""Probes of a PostgreSQL database. Every function takes an open (read-only) connection.

    >>> server(conn).version_num >= 120000
    True

The family, one small module per topic (each reads catalogs and statistics views only, unless it says otherwise):

    pg_tables       vacuum/analyze state of every table against its own autovacuum triggers
    pg_window       the record of the last maintenance window (what it vacuumed/analyzed, when it began)
    pg_bloat        bloat estimate on fresh statistics, confirmed with pgstattuple (the one step that reads tables)
    pg_indexes      invalid/not-ready/_ccnew/_ccold indexes, duplicates, largest indexes and tables
    pg_activity     connections, long queries, idle-in-transaction sessions, wraparound ages, horizon holders
    pg_archive      rows past the archive policy's retention
    pg_params       the runbook's reviewed parameters: RDS parameter group and live values, comparable
    pg_replication  read replicas' lag in bytes and seconds, from the primary
"""

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Server:
    version: str
    version_num: int
    in_recovery: bool
    user: str
    read_only: bool

    @property
    def major(self) -> int:
        return self.version_num // 10000


def server(conn: psycopg.Connection) -> Server:
    row = conn.execute(
        "select current_setting('server_version'), current_setting('server_version_num')::int, "
        "pg_is_in_recovery(), current_user, current_setting('transaction_read_only') = 'on'"
    ).fetchone()
    return Server(*row)


def pretty(n: float | None) -> str:
    """Bytes as pg_size_pretty writes them: '4096 bytes', '40 MB', '1.2 GB'.

    >>> pretty(3383296)
    '3.2 MB'
    """
    if n is None:
        return "?"
    for unit, size in (("TB", 1024 ** 4), ("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"
