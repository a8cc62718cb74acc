"""The database answers: the runbook's first step of every database task is `\\connect aifilmstudio`."""

import pytest

from opsproof import connect
from opsproof.probes import postgres

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_accepts_connections(env, evidence):
    """The database accepts a read-only login and runs a supported PostgreSQL version."""
    with connect.database(env) as conn:
        s = postgres.server(conn)
    evidence.value("server version", s.version)
    evidence.value("read-only session", s.read_only)
    evidence.value("in recovery (replica)", s.in_recovery)
    assert s.read_only, f"the check role {s.user} got a writable session: checks must be read-only"
    assert s.major >= env.database.min_server_version, (
        f"PostgreSQL {s.version} is older than {env.database.min_server_version} (database.min_server_version)"
    )
