"""The project's own tests. Proofs run real checks in a subprocess (pytester) against the sandbox, healthy and
broken by a named fault, and assert on what the check reported.

    def test_served_certificates_are_not_expiring(healthy, broken):
        healthy.assert_passed("test_served_certificates_are_not_expiring")
        run = broken("expired-certificate", "checks/certificates/test_endpoints.py")
        run.assert_failed("test_served_certificates_are_not_expiring", "127.0.0.1:15443", "days left")
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from opsproof import ROOT

from tests import proof_record

pytest_plugins = ["pytester"]

def _worker_sandbox() -> None:
    """Under pytest-xdist each worker breaks and heals its own private sandbox: a fault one worker applies must never
    reach the checks another is running. Set before any test module reads OPSPROOF_ENV, and inherited by every
    subprocess a test starts."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or os.environ.get("OPSPROOF_ENV", "").endswith(f"-{worker}/sandbox.toml"):
        return
    from sandbox.private import private_env

    # under the run's own state folder when it has one (CI), so two runs never share a worker's sandbox; bases from
    # 27000 (tests' own private environments use 24000-24999)
    root = Path(os.environ["OPSPROOF_SANDBOX_DIR"]) if os.environ.get("OPSPROOF_SANDBOX_DIR") else None
    env_file, _ = private_env(f"tests-{worker}", 27000 + 1000 * int(worker.removeprefix("gw")), root)
    os.environ["OPSPROOF_ENV"] = str(env_file)


_worker_sandbox()
SANDBOX_ENV = os.environ.get("OPSPROOF_ENV") or "sandbox"
"""The sandbox environment the proofs use: a private one (python -m sandbox.private) when OPSPROOF_ENV names it,
and each xdist worker's own."""
RECORD_ENV, CALLS_FILE = "OPSPROOF_RECORD_CALLS", "aws-calls.jsonl"
"""Every check run here records its AWS calls (opsproof/recording.py) into its own folder: CheckRun.aws_calls();
tests/proofs/test_zz_aws_contract.py and tests/proofs/test_iam.py read them."""


# ---- the sandbox the proofs break and heal ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def sandbox():
    """The sandbox, up and healed. Started for the test session when it was not running (and stopped after)."""
    from sandbox import faults, lifecycle
    from sandbox.state import Sandbox

    faults.all_faults()  # import every fault module now: pytester's module snapshot must not re-import them
    sb = Sandbox.load(SANDBOX_ENV)
    started = lifecycle.up(sb, log=lambda m: None)
    with lifecycle.lock(sb):
        faults.heal(sb)
    yield sb
    if started:
        lifecycle.down(sb, log=lambda m: None)


# ---- running checks --------------------------------------------------------------------------------------------
@dataclass
class CheckRun:
    """One pytest run of real checks: its exit code, output, and what each check recorded (evidence.json)."""

    ret: int
    output: str
    record: dict
    out: Path
    """Where its report.html, junit.xml and evidence.json are."""
    result: pytest.RunResult | None = None
    """The pytester RunResult (fnmatch_lines, assert_outcomes) when run through pytester."""
    fault: str | None = None
    """The fault the sandbox was broken by for this run (None: as it was, healthy unless a test broke it)."""
    faults_on: tuple[str, ...] = ()
    """Faults a test applied earlier that are still on (a run_checks after a broken() in the same test)."""

    def aws_calls(self) -> list[dict]:
        """The AWS calls the run recorded, one dict each (opsproof/recording.py's lines)."""
        path = self.out / CALLS_FILE
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def _find(self, check: str) -> list[dict]:
        found = [c for c in self.record["checks"] if c["nodeid"].split("::")[-1].split("[")[0] == check]
        assert found, f"{check} did not run; ran: {[c['nodeid'] for c in self.record['checks']]}\n" \
                      f"{self.output[-3000:]}"
        return found

    def outcome(self, check: str) -> str:
        outcomes = {c["outcome"] for c in self._find(check)}
        return "failed" if "failed" in outcomes else outcomes.pop()

    def message(self, check: str) -> str:
        return "\n".join(c["message"] or "" for c in self._find(check))

    def evidence(self, check: str) -> list:
        return [e for c in self._find(check) for e in c["evidence"]]

    def assert_passed(self, check: str) -> None:
        assert self.outcome(check) == "passed", f"{check} should pass:\n{self.message(check)}"
        if self.fault is None:
            proof_record.seen(check, "green")

    def assert_failed(self, check: str, *culprits: str) -> str:
        """The check failed (or errored at setup: its target was down) and its message names every culprit."""
        assert self.outcome(check) == "failed", f"{check} should fail but {self.outcome(check)}"
        msg = self.message(check)
        for c in culprits:
            assert c in msg, f"{check}'s failure should name {c!r}: {msg}"
        # red under the fault this run (or an earlier one in the test) applied; a proof that breaks the check through
        # its configuration (a bad plan, a dead endpoint) instead of the sandbox is recorded as such
        proof_record.seen(check, "red", self.fault or "+".join(self.faults_on) or proof_record.CONFIGURATION)
        return msg


def checks_command(out: Path, *args: str, env_name: str = SANDBOX_ENV) -> list[str]:
    """pytest from the project folder (its pytest.ini and conftest.py), reports into out/."""
    return [sys.executable, "-m", "pytest", "--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"),
            "-p", "no:cacheprovider", "--no-sandbox-autostart", f"--env={env_name}",
            f"--html={out / 'report.html'}", f"--junitxml={out / 'junit.xml'}",
            *[str(ROOT / a) if a.startswith(("checks", "tests")) else a for a in args]]


def _record(out: Path, ret: int) -> dict:
    path = out / "evidence.json"
    return json.loads(path.read_text()) if path.exists() else {"checks": [], "exitstatus": ret}


@pytest.fixture(scope="session")
def healthy(sandbox, tmp_path_factory) -> CheckRun:
    """Every non-destructive check, run once on the healthy sandbox."""
    out = tmp_path_factory.mktemp("healthy")
    env = {**os.environ, RECORD_ENV: str(out / CALLS_FILE)}  # every AWS response, for test_zz_aws_contract.py
    proc = subprocess.run(checks_command(out, "checks", "-m", "not destructive"), cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env=env)
    return CheckRun(proc.returncode, proc.stdout + proc.stderr, _record(out, proc.returncode), out)


@pytest.fixture
def run_checks(sandbox, pytester, monkeypatch):
    """run_checks(*args) → CheckRun of a pytest run of real checks on the sandbox as it is now (its AWS calls
    recorded: CheckRun.aws_calls())."""
    monkeypatch.setenv(RECORD_ENV, str(pytester.path / CALLS_FILE))

    def run(*args: str, env_name: str = SANDBOX_ENV) -> CheckRun:
        result = pytester.run(*checks_command(pytester.path, *args, env_name=env_name), timeout=600)
        return CheckRun(result.ret, result.stdout.str() + result.stderr.str(), _record(pytester.path, result.ret),
                        pytester.path, result, faults_on=tuple(run.faults_on))

    run.faults_on = []
    return run


@pytest.fixture
def broken(sandbox, run_checks):
    """broken(FAULT, *check paths) → CheckRun of those checks with FAULT applied; healed afterwards."""
    from sandbox import faults, lifecycle

    applied = []

    def run(fault: str, *args: str) -> CheckRun:
        with lifecycle.lock(sandbox):
            faults.apply(sandbox, fault)
        applied.append(fault)
        run_checks.faults_on.append(fault)
        run = run_checks(*args)
        run.fault = fault
        return run

    yield run
    with lifecycle.lock(sandbox):
        for f in reversed(applied):
            faults.heal(sandbox, f)


# ---- the record of what the proofs saw (tests/proofs/red_green.json) -----------------------------------------
def pytest_configure(config):
    proof_record.start(config)


def pytest_sessionfinish(session, exitstatus):
    proof_record.finish(session)
