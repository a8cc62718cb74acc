"""Proofs of the foundation's first checks: one per kind of target (database, AWS, TLS, HTTP, host)."""

import pytest


def test_database_accepts_connections(healthy, broken, sandbox):
    healthy.assert_passed("test_database_accepts_connections")
    run = broken("database-down", "checks/database/test_server.py")
    msg = run.assert_failed("test_database_accepts_connections", f"127.0.0.1:{sandbox.ports.postgres}/aifilmstudio",
                            "connection refused")
    assert "Traceback" not in msg


def test_rds_instance_is_available(healthy, broken):
    healthy.assert_passed("test_rds_instance_is_available")
    run = broken("rds-instance-stopped", "checks/database/test_rds_instance.py")
    run.assert_failed("test_rds_instance_is_available", "prod-db", "stopped")


def test_served_certificates_are_not_expiring(healthy, broken, sandbox):
    healthy.assert_passed("test_served_certificates_are_not_expiring")
    days = [row["days_left"] for e in healthy.evidence("test_served_certificates_are_not_expiring")
            if e["title"] == "served certificates" for row in e["payload"]]
    assert days and days[0] > 300
    run = broken("expired-certificate", "checks/certificates/test_endpoints.py")
    run.assert_failed("test_served_certificates_are_not_expiring", f"127.0.0.1:{sandbox.ports.tls}", "api.aifilmstudio.test",
                      "-1")


@pytest.mark.parametrize("fault, culprit", [("smoke-endpoint-error", "answered 503"),
                                            ("smoke-endpoint-slow", "over its budget of 1s")])
def test_api_health_answers_within_budget(healthy, broken, sandbox, fault, culprit):
    healthy.assert_passed("test_api_health_answers_within_budget")
    run = broken(fault, "checks/services/test_smoke.py")
    run.assert_failed("test_api_health_answers_within_budget", f"http://127.0.0.1:{sandbox.ports.http}/health",
                      culprit)


def test_database_port_is_listening(healthy, broken, sandbox):
    healthy.assert_passed("test_database_port_is_listening")
    run = broken("database-down", "checks/infrastructure/test_hosts.py")
    run.assert_failed("test_database_port_is_listening", f"tcp://127.0.0.1:{sandbox.ports.postgres}", "local")
