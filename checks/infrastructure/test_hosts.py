"""Hosts, through pytest-testinfra: the fleet comes from [hosts] in the environment (or --hosts)."""

import pytest

pytestmark = [pytest.mark.infrastructure]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_port_is_listening(env, host, evidence):
    """The database host listens on the PostgreSQL port."""
    db = env.database
    sock = host.socket(f"tcp://{db.host}:{db.port}")
    listening = sock.is_listening
    evidence.value("host", host.backend.get_pytest_id())
    evidence.value("listening", f"tcp://{db.host}:{db.port} {'yes' if listening else 'no'}")
    assert listening, f"nothing listens on tcp://{db.host}:{db.port} on {host.backend.get_pytest_id()}"
