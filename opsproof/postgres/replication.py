"""Replication lag of read replicas, measured on the primary (pg_stat_replication), in bytes and seconds.

The classic replica-side measure, now() - pg_last_xact_replay_timestamp(), grows without bound while the primary
is idle: nothing to replay is not lag. Here the bytes come first: WAL the primary has written that the replica has
not replayed (pg_wal_lsn_diff). The seconds (replay_lag) only count while bytes are outstanding, so an idle primary
never raises a false alarm and a stuck replica is caught by its bytes even when replay_lag has gone NULL.

    >>> [(r.name, r.replay_bytes) for r in replicas(conn)]
    [('prod-db-replica-1', 0)]
"""

from dataclasses import dataclass

import psycopg

SQL = """
SELECT r.application_name, r.state, host(r.client_addr),
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.sent_lsn)::int8,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::int8,
       extract(epoch FROM r.replay_lag)::float8, r.sync_state,
       s.slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::int8
FROM pg_stat_replication r
LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid
ORDER BY 1
"""


@dataclass(frozen=True)
class Replica:
    name: str
    state: str
    client: str | None
    unsent_bytes: int
    replay_bytes: int
    """WAL written on the primary and not yet replayed on the replica."""
    replay_lag_s: float | None
    sync_state: str
    slot: str | None
    slot_retained_bytes: int | None

    @property
    def lag_s(self) -> float:
        """replay_lag, counted only while WAL is outstanding (the idle-primary artefact removed)."""
        return (self.replay_lag_s or 0.0) if self.replay_bytes > 0 else 0.0


def replicas(conn: psycopg.Connection) -> list[Replica]:
    """Every connected standby, from the primary's point of view. Needs pg_monitor (or superuser) for the LSNs."""
    return [Replica(*r) for r in conn.execute(SQL).fetchall()]
