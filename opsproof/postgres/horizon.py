"""Prepared transactions and replication slots: what outlives every session and holds the xmin horizon back (a
slot also holds WAL on disk) until someone removes it.

A forgotten prepared transaction (a two-phase commit whose coordinator died) keeps its locks and its xmin for ever:
it has no session in pg_stat_activity, and neither a restart nor a failover ends it. An inactive replication slot
(a replica deleted without its slot, a DMS or Debezium task stopped) keeps every WAL segment since its restart_lsn
and, for a logical slot, its catalog_xmin: the classic way a database's volume fills up. The wraparound check names
both once the damage is done (transaction ID age); these name them on the day they appear.

    >>> [(p.gid, p.owner, p.database) for p in prepared(conn)]
    [('tx-42', 'app', 'aifilmstudio')]

Reads only pg_prepared_xacts and pg_replication_slots (pg_monitor). The rules: opsproof/rules/database_activity.py.
"""

import datetime as dt
from dataclasses import dataclass

import psycopg



# ---- prepared transactions --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    gid: str
    database: str
    owner: str
    prepared_at: dt.datetime
    age_s: float
    xid_age: int
    """Transactions since it began: how far it holds the xmin horizon back."""


def prepared(conn: psycopg.Connection) -> list[Prepared]:
    """Every prepared transaction of the cluster (pg_prepared_xacts is cluster-wide), oldest first."""
    return [Prepared(*r) for r in conn.execute(
        "SELECT gid, database, owner, prepared, extract(epoch FROM now() - prepared)::float8, age(transaction) "
        "FROM pg_prepared_xacts ORDER BY prepared").fetchall()]


# ---- replication slots ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    """physical | logical"""
    plugin: str
    database: str
    active: bool
    xmin_age: int | None
    catalog_xmin_age: int | None
    retained_bytes: int | None
    """WAL kept for it: from its restart_lsn to the current WAL position (None: it never reserved WAL)."""
    wal_status: str | None
    """reserved | extended | unreserved | lost (PostgreSQL 13+): lost means its consumer can never resume."""

    @property
    def horizon_age(self) -> int:
        return max(self.xmin_age or 0, self.catalog_xmin_age or 0)


SLOTS_SQL = """
SELECT slot_name, slot_type, coalesce(plugin, ''), coalesce(database, ''), active, age(xmin), age(catalog_xmin),
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
                       restart_lsn)::int8,
       {wal_status}
FROM pg_replication_slots ORDER BY 1
"""


def slots(conn: psycopg.Connection) -> list[Slot]:
    """Every replication slot of the cluster, by name."""
    wal_status = "wal_status" if conn.info.server_version >= 130000 else "NULL::text"
    return [Slot(*r) for r in conn.execute(SLOTS_SQL.format(wal_status=wal_status)).fetchall()]
