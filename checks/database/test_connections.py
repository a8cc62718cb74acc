"""Connections against max_connections, long-running queries and idle-in-transaction sessions: what makes a
maintenance window's locks wait, and what the quarterly max_connections review needs (opsproof/postgres/activity.py).
Query text in evidence has its literals masked."""

import pytest

from opsproof import findings
from opsproof.postgres import activity
from opsproof.rules import database_activity as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_connections_below_max_connections(env, db, evidence):
    """Client connections stay below database.connections.max_percent of max_connections."""
    u = activity.usage(db)
    groups = activity.connection_groups(db)
    evidence.value("superuser_reserved_connections", u.reserved)
    evidence.table("connections by user, application, client and state", groups)
    findings.expect_no_alarm(rules.connections(u, groups, env.database.connections), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_long_running_queries(env, db, evidence):
    """No query has been running longer than database.connections.long_query_s."""
    c = env.database.connections
    long = activity.long_running(db, c.long_query_s)
    evidence.table(f"queries running longer than {c.long_query_s:g}s", long)
    findings.expect_no_alarm(rules.long_queries(long, c), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_idle_in_transaction_sessions(env, db, evidence):
    """No session has been idle inside an open transaction longer than database.connections.idle_in_transaction_s
    (it holds its locks and the xmin horizon: VACUUM cannot clean up behind it)."""
    c = env.database.connections
    idle = activity.idle_in_transaction(db, c.idle_in_transaction_s)
    evidence.table(f"sessions idle in transaction longer than {c.idle_in_transaction_s:g}s", idle)
    findings.expect_no_alarm(rules.idle_in_transaction(idle, c), evidence)
