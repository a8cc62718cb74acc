"""Probes of a PostgreSQL database. Every function takes an open (read-only) connection and returns facts
(dataclasses); the judgement over them is in opsproof/rules/database*.py.

    >>> from opsproof.postgres import server
    >>> server.server(conn).version_num >= 120000
    True

One small module per thing measured (each reads catalogs and statistics views only, unless it says otherwise):

    server       the server's version, the session's role and read-only state
    tables       vacuum/analyze state of every table against its own autovacuum triggers
    window       the record of the last maintenance window (what it vacuumed/analyzed, when it began)
    bloat        bloat estimate on fresh statistics, confirmed with pgstattuple (the one step that reads tables)
    indexes      invalid/not-ready/_ccnew/_ccold indexes, duplicates, largest indexes and tables
    activity     connections, long queries, idle-in-transaction sessions, wraparound ages, horizon holders
    horizon      prepared transactions and replication slots (what outlives sessions and holds the horizon)
    sequences    sequences and the integer keys they feed, counted to whichever ends first
    archive      rows past the archive policy's retention
    parameters   the runbook's reviewed parameters: RDS parameter group and live values, comparable
    replication  read replicas' lag in bytes and seconds, from the primary
"""


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
