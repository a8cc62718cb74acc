"""The database answers: the runbook's first step of every database task is `\\connect aifilmstudio`."""

import pytest

from opsproof import connect, findings
from opsproof.postgres import server
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_accepts_connections(env, evidence):
    """The database accepts a read-only login and runs a supported PostgreSQL version."""
    with connect.database(env) as conn:
        s = server.server(conn)
    evidence.value("in recovery (replica)", s.in_recovery)
    findings.expect_no_alarm(rules.server(s, env.database), evidence)
