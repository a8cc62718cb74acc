"""Sessions, connections and transaction ID age: who is connected, who has been busy or idle-in-transaction too
long, how far each database is from wraparound, and what holds the xmin horizon back.

Query text never leaves this module whole: string literals are masked (a query may carry a password or a customer's
data) and the rest is cut to 100 characters.

    >>> usage(conn).percent
    8.3
    >>> [h.what for h in horizon_holders(conn)]
    ["prepared transaction 'forgotten'"]
"""

import datetime as dt
import re
from dataclasses import dataclass

import psycopg


def excerpt(query: str | None, width: int = 100) -> str:
    """A query with its string literals masked, on one line, cut to width.

    >>> excerpt("ALTER ROLE app PASSWORD 'hunter2'")
    "ALTER ROLE app PASSWORD '…'"
    """
    q = re.sub(r"(?s)[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|(\$[a-zA-Z_]*\$).*?\1", "\0", query or "")
    # pg_stat_activity cuts long queries (track_activity_query_size): an unterminated literal is cut off whole
    q = re.split(r"'|\$[a-zA-Z_]*\$", q, maxsplit=1)[0]
    q = " ".join(q.replace("\0", "'…'").split())
    return q if len(q) <= width else q[: width - 1] + "…"


# ---- connections -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Usage:
    max_connections: int
    reserved: int
    """superuser_reserved_connections: slots only superusers (on RDS: rdsadmin) can take."""
    client_connections: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.client_connections / self.max_connections, 1)


@dataclass(frozen=True)
class ConnectionGroup:
    user: str | None
    application: str
    client: str | None
    state: str | None
    connections: int


def usage(conn: psycopg.Connection) -> Usage:
    return Usage(*conn.execute(
        "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')").fetchone())


def connection_groups(conn: psycopg.Connection) -> list[ConnectionGroup]:
    """Client connections grouped by user, application, client address and state, largest group first."""
    return [ConnectionGroup(*r) for r in conn.execute(
        "SELECT usename, coalesce(nullif(application_name, ''), '(none)'), host(client_addr), state, count(*) "
        "FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2"
    ).fetchall()]


# ---- long queries and idle transactions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    pid: int
    user: str | None
    application: str
    client: str | None
    state: str
    seconds: float
    """How long it has been in this state (running the query, or idle inside its transaction)."""
    transaction_seconds: float | None
    xmin_age: int | None
    """Transactions since its snapshot: how far it holds the xmin horizon back."""
    query: str

    def __str__(self) -> str:
        return (f"pid {self.pid} ({self.user}, {self.application}) {self.state} for {self.seconds:.0f}s: "
                f"{self.query}")


SESSIONS_SQL = """
SELECT pid, usename, coalesce(nullif(application_name, ''), '(none)'), host(client_addr), state,
       extract(epoch FROM now() - {since})::float8,
       extract(epoch FROM now() - xact_start)::float8, age(backend_xmin), query
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND {where}
  AND now() - {since} > make_interval(secs => %s)
ORDER BY 6 DESC
"""


def long_running(conn: psycopg.Connection, min_s: float) -> list[Session]:
    """Active queries running longer than min_s (this session excluded)."""
    return _sessions(conn, "query_start", "state = 'active'", min_s)


def idle_in_transaction(conn: psycopg.Connection, min_s: float) -> list[Session]:
    """Sessions idle inside an open transaction for longer than min_s: they hold locks and the xmin horizon."""
    return _sessions(conn, "state_change", "state LIKE 'idle in transaction%%'", min_s)


def _sessions(conn, since: str, where: str, min_s: float) -> list[Session]:
    rows = conn.execute(SESSIONS_SQL.format(since=since, where=where), (min_s,)).fetchall()
    return [Session(*r[:5], round(r[5], 1), round(r[6], 1) if r[6] is not None else None, r[7], excerpt(r[8]))
            for r in rows]


# ---- transaction ID wraparound ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatabaseAge:
    database: str
    xid_age: int
    """age(datfrozenxid): transactions since the database's oldest unfrozen XID. Wraparound stops writes at ~2^31."""
    mxid_age: int
    """mxid_age(datminmxid): the same for multixact IDs (row locks shared by several transactions)."""
    xid_percent_of_wraparound: float


def database_ages(conn: psycopg.Connection) -> list[DatabaseAge]:
    """Every database of the cluster (wraparound is cluster-wide: one old database stops them all), oldest first."""
    return [DatabaseAge(*r) for r in conn.execute(
        "SELECT datname, age(datfrozenxid), mxid_age(datminmxid), "
        "round(100.0 * age(datfrozenxid) / 2147483647, 2)::float8 FROM pg_database ORDER BY 2 DESC").fetchall()]


@dataclass(frozen=True)
class HorizonHolder:
    what: str
    xid_age: int
    """How many transactions old the xmin it holds is: VACUUM cannot freeze or remove anything newer."""
    since: dt.datetime | None
    detail: str = ""
    fix: str = ""
    """What releases it (the statement to run once its owner agrees)."""

    def __str__(self) -> str:
        return f"{self.what} (xmin age {self.xid_age})" + (f": {self.fix}" if self.fix else "")


HOLDERS_SQL = """
SELECT 'session pid ' || pid || ' (' || coalesce(usename, '?') || ', '
         || coalesce(nullif(application_name, ''), '(none)') || ', ' || coalesce(state, '?') || ')',
       greatest(age(backend_xmin), age(backend_xid)), xact_start, query,
       'SELECT pg_terminate_backend(' || pid || ')'
FROM pg_stat_activity
WHERE (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
UNION ALL
SELECT 'replication slot ' || quote_literal(slot_name) || CASE WHEN active THEN '' ELSE ' (inactive)' END,
       greatest(age(xmin), age(catalog_xmin)), NULL, slot_type,
       CASE WHEN active THEN 'its consumer must catch up' ELSE 'SELECT pg_drop_replication_slot('
            || quote_literal(slot_name) || ')' END
FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL
UNION ALL
SELECT 'prepared transaction ' || quote_literal(gid) || ' (' || owner || ', ' || database || ')',
       age(transaction), prepared, NULL, 'ROLLBACK PREPARED ' || quote_literal(gid) || ' in database ' || database
FROM pg_prepared_xacts
UNION ALL
SELECT 'standby ' || quote_literal(coalesce(application_name, '?')) || ' (hot_standby_feedback)',
       age(backend_xmin), NULL, NULL, 'end the standby''s long query, or turn hot_standby_feedback off'
FROM pg_stat_replication WHERE backend_xmin IS NOT NULL
ORDER BY 2 DESC NULLS LAST
"""


def horizon_holders(conn: psycopg.Connection) -> list[HorizonHolder]:
    """What holds the xmin horizon back, oldest first: open transactions and snapshots, replication slots,
    prepared transactions, and standbys' feedback. Autovacuum cannot freeze past the oldest of them."""
    return [HorizonHolder(r[0], r[1] or 0, r[2], excerpt(r[3]) if r[3] else "", r[4])
            for r in conn.execute(HOLDERS_SQL).fetchall()]


def freeze_max_age(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT current_setting('autovacuum_freeze_max_age')::int8").fetchone()[0])
