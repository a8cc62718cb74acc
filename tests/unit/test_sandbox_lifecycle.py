"""python -m sandbox: cold up, idempotent up, status, bad input, down — on a private sandbox of its own."""

import os
import shutil
import socket
import tempfile
from pathlib import Path

import subprocess
import sys

import pytest

from opsproof import ROOT
from sandbox.private import private_env


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    # Under /tmp itself: pytest's own temp folders are private to root, and PostgreSQL runs as another user.
    folder = tempfile.mkdtemp(prefix="opsproof-test-")
    os.chmod(folder, 0o755)
    env_file, state = private_env("lifecycle", 24500, Path(folder))
    env = {**os.environ, "OPSPROOF_ENV": str(env_file)}

    def sandbox(*args):
        return subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    sandbox.env_file = str(env_file)
    yield sandbox
    sandbox("down", "--purge")
    shutil.rmtree(folder, ignore_errors=True)


def _our_processes(marker: str) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if marker in line and "ps -eo" not in line]


def test_port_taken_is_one_line_and_leaves_nothing_running(private):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 24500 + 80))
        s.listen()
        p = private("up")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "port 24580 (http) is already in use" in p.stderr
    assert not _our_processes("opsproof-lifecycle")


def test_cold_up_then_idempotent_up_status_and_down(private):
    p = private("up")
    assert p.returncode == 0, p.stderr
    assert "sandbox up in" in p.stdout
    assert private("up").stdout.strip() == "sandbox already up"
    status = private("status")
    assert status.returncode == 0
    assert "export PGHOST=127.0.0.1 PGPORT=24932" in status.stdout
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:24500" in status.stdout
    assert private("break", "no-such-fault").stderr.strip() == \
        "sandbox: unknown fault 'no-such-fault' (python -m sandbox faults lists them)"
    assert private("break", "smoke-endpoint-error").returncode == 0
    assert "smoke-endpoint-error" in private("status").stdout
    assert private("heal").stdout.strip() == "healed: smoke-endpoint-error"
    assert private("down").returncode == 0
    assert private("status").returncode == 3
    assert not _our_processes("opsproof-lifecycle")


def test_the_suite_starts_a_stopped_sandbox_once_for_all_workers_and_stops_it(private, tmp_path):
    assert private("status").returncode == 3
    env = {**os.environ, "OPSPROOF_ENV": private.env_file}
    p = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-m", "post_maintenance", "-p", "no:cacheprovider",
                        f"--html={tmp_path}/r.html", f"--junitxml={tmp_path}/j.xml"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:]
    assert p.stdout.count("sandbox up in") == 1 and "sandbox down" in p.stdout
    assert private("status").returncode == 3
    assert not _our_processes("opsproof-lifecycle")
