"""Connections against max_connections, long-running queries and idle-in-transaction sessions: what makes a
maintenance window's locks wait, and what the quarterly max_connections review needs (opsproof/probes/pg_activity.py).
Query text in evidence has its literals masked."""

import pytest

from opsproof.probes import pg_activity

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_connections_below_max_connections(env, db, evidence):
    """Client connections stay below database.connections.max_percent of max_connections."""
    limit = env.database.connections.max_percent
    u = pg_activity.usage(db)
    groups = pg_activity.connection_groups(db)
    evidence.value("connections", f"{u.client_connections} of max_connections {u.max_connections} ({u.percent}%)")
    evidence.value("superuser_reserved_connections", u.reserved)
    evidence.table("connections by user, application, client and state", groups)
    assert u.percent <= limit, (
        f"{u.client_connections} client connections = {u.percent}% of max_connections {u.max_connections} "
        f"(database.connections.max_percent {limit:g}%); largest: "
        + "; ".join(f"{g.connections} × {g.user}/{g.application} from {g.client or 'local'} ({g.state})"
                    for g in groups[:3]))


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_long_running_queries(env, db, evidence):
    """No query has been running longer than database.connections.long_query_s."""
    limit = env.database.connections.long_query_s
    long = pg_activity.long_running(db, limit)
    evidence.table(f"queries running longer than {limit:g}s", long)
    assert not long, f"{len(long)} query(ies) running longer than {limit:g}s (database.connections.long_query_s): " \
        + "; ".join(map(str, long[:5]))


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_idle_in_transaction_sessions(env, db, evidence):
    """No session has been idle inside an open transaction longer than database.connections.idle_in_transaction_s
    (it holds its locks and the xmin horizon: VACUUM cannot clean up behind it)."""
    limit = env.database.connections.idle_in_transaction_s
    idle = pg_activity.idle_in_transaction(db, limit)
    evidence.table(f"sessions idle in transaction longer than {limit:g}s", idle)
    assert not idle, (
        f"{len(idle)} session(s) idle in transaction longer than {limit:g}s "
        f"(database.connections.idle_in_transaction_s): " + "; ".join(map(str, idle[:5]))
        + ". Set idle_in_transaction_session_timeout, or end them with pg_terminate_backend(pid)")
