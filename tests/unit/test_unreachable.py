"""A dead target makes its checks fail fast with a line a tired person understands, never a hang or a traceback."""

import json
import subprocess
import sys
import time

from opsproof import ROOT
from sandbox import tls
from sandbox.private import private_env


def test_every_foundation_check_fails_fast_and_readably_when_nothing_answers(tmp_path):
    env_file, state = private_env("nothing-here", 24000, tmp_path)  # nothing listens on 24xxx
    tls.ensure(state / "tls")
    (state / "secrets").mkdir()
    for role in ("opsproof_check", "opsproof_action"):
        (state / "secrets" / role).write_text("not-a-real-password")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart", f"--env={env_file}",
         f"--html={tmp_path}/r.html", f"--junitxml={tmp_path}/j.xml", "checks/database/test_server.py::test_database_accepts_connections",
         "checks/database/test_rds_instance.py::test_rds_instance_is_available",
         "checks/certificates/test_endpoints.py::test_served_certificates_are_not_expiring",
         "checks/services/test_smoke.py::test_api_health_answers_within_budget",
         "checks/infrastructure/test_hosts.py::test_database_port_is_listening"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    record = json.loads((tmp_path / "evidence.json").read_text())
    assert proc.returncode == 1
    assert elapsed < 30, f"took {elapsed:.1f}s"
    by_check = {c["nodeid"].split("::")[-1]: c for c in record["checks"]}
    assert len(by_check) == 5
    for name, c in by_check.items():
        assert c["outcome"] == "failed", (name, c)
        assert "Traceback" not in (c["message"] or ""), (name, c["message"])
    assert "connection refused" in by_check["test_database_accepts_connections"]["message"]
    assert "127.0.0.1:24000" in by_check["test_rds_instance_is_available"]["message"]
    assert "127.0.0.1:24443" in by_check["test_served_certificates_are_not_expiring"]["message"]
    assert "127.0.0.1:24080" in by_check["test_api_health_answers_within_budget"]["message"]
    assert "nothing listens on tcp://127.0.0.1:24432" in by_check["test_database_port_is_listening[local]"]["message"]
