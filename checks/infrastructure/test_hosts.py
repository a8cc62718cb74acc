"""Hosts, through pytest-testinfra. The database host's port check runs on [hosts] database_host; the fleet's checks
(kernel, services, disks, clock) are in test_host_health.py and run once per host of [hosts] specs."""

import pytest

from fixtures.options import ENV
from opsproof import findings
from opsproof.probes import hosts
from opsproof.rules import infrastructure as rules

pytestmark = [pytest.mark.infrastructure]


def pytest_generate_tests(metafunc):
    """The database host as a parameter named like testinfra names hosts ([local], [ssh://db-1]); collected the
    same on every xdist worker (it comes from the configuration)."""
    if "database_host" in metafunc.fixturenames:
        spec = metafunc.config.stash[ENV].hosts.database_host
        ident = hosts.get_host(spec).backend.get_pytest_id() if spec else "none"
        metafunc.parametrize("database_host", [spec], ids=[ident])


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_port_is_listening(env, database_host, evidence):
    """The database host listens on the PostgreSQL port."""
    if not database_host:
        pytest.skip("hosts.database_host is not set (a managed database: no host to look at)")
    db = env.database
    host = hosts.get_host(database_host, env)

    def look():
        return host.socket(f"tcp://{db.host}:{db.port}").is_listening

    listening = hosts.bounded(host, "socket", look, env.hosts.command_timeout_s)
    findings.expect_no_alarm(rules.listening(hosts.name(host), f"tcp://{db.host}:{db.port}", listening), evidence)
