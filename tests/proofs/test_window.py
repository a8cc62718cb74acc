"""Proofs of the maintenance window: each phase check passes on the healthy sandbox and fails, naming the culprit, when
the sandbox is broken for it; the window runner against the sandbox; waivers; the nightly gate's exit codes.

The plan checks (change requests, the plan fitting the window, rollback procedures) verify a plan file, not the
sandbox: their proofs break a plan instead of the sandbox.
"""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opsproof import ROOT, schedule

PHASE_FILES = {"t-7d": "checks/window/test_announcement.py", "t-24h": "checks/window/test_readiness.py",
               "t-1h": "checks/window/test_final_hour.py"}


def window_of(sandbox):
    return schedule.belongs_to(sandbox.env.window, schedule.now())


@contextlib.contextmanager
def faulted(sandbox, name):
    from sandbox import faults, lifecycle

    with lifecycle.lock(sandbox):
        faults.apply(sandbox, name)
    try:
        yield
    finally:
        with lifecycle.lock(sandbox):
            faults.heal(sandbox, name)


def bad_plan(tmp_path, change) -> Path:
    text = change((ROOT / "examples" / "plans" / "routine.toml").read_text())
    p = tmp_path / "bad-plan.toml"
    p.write_text(text)
    return p


# ---- T-7 days ------------------------------------------------------------------------------------------------
def test_window_announced_on_status_page(run_checks, broken, sandbox):
    ok = run_checks(PHASE_FILES["t-7d"], "--phase", "t-7d")
    ok.assert_passed("test_window_announced_on_status_page")
    assert ok.record["window"]["id"] == window_of(sandbox).id, "the run states which window it belongs to"
    assert "Maintenance window" in (ok.out / "report.html").read_text()
    run = broken("window-not-announced", PHASE_FILES["t-7d"], "--phase", "t-7d")
    run.assert_failed("test_window_announced_on_status_page", "announces no maintenance for the window",
                      window_of(sandbox).label())


def test_window_phase_checks_wait_for_their_phase(run_checks, sandbox):
    w = window_of(sandbox)
    if schedule.phase(w, schedule.now(), sandbox.env.window) != "early":
        pytest.skip("the next window is less than 7 days away: every phase check is due")
    run = run_checks("checks/window", "-m", "pre_maintenance")
    assert {c["outcome"] for c in run.record["checks"]} == {"skipped"}
    assert "--phase t-7d runs it now" in run.output or "due from" in run.output


def test_change_requests_listed_and_approved(run_checks, tmp_path):
    run_checks(PHASE_FILES["t-7d"], "--phase", "t-7d").assert_passed("test_change_requests_listed_and_approved")
    plan = bad_plan(tmp_path, lambda s: s.replace('approved_by = "change-advisory-board"\n', "")
                    .replace('id = "CR-STD-001"', 'id = "CR-9"'))
    run = run_checks(PHASE_FILES["t-7d"], "--phase", "t-7d", f"--plan={plan}")
    run.assert_failed("test_change_requests_listed_and_approved", "not approved: CR-9", "bad-plan.toml")


def test_plan_fits_the_window(run_checks, tmp_path):
    run_checks(PHASE_FILES["t-7d"], "--phase", "t-7d").assert_passed("test_plan_fits_the_window")
    plan = bad_plan(tmp_path, lambda s: s.replace('estimate = "35m"', 'estimate = "3h30m"'))
    run = run_checks(PHASE_FILES["t-7d"], "--phase", "t-7d", f"--plan={plan}")
    run.assert_failed("test_plan_fits_the_window", "the steps need 4h", "soak 3h30m", "window.reserve")


# ---- T-24 h --------------------------------------------------------------------------------------------------
def test_rollback_procedures_named(run_checks, tmp_path):
    run_checks(PHASE_FILES["t-24h"], "--phase", "t-24h").assert_passed("test_rollback_procedures_named")
    plan = bad_plan(tmp_path, lambda s: s.replace('rollback = "docs/window.md#rollback"', 'rollback = "docs/nope.md"'))
    run = run_checks(PHASE_FILES["t-24h"], "--phase", "t-24h", f"--plan={plan}")
    run.assert_failed("test_rollback_procedures_named",
                      "step 1 (vacuum-analyze): rollback docs/nope.md is neither an action nor an existing file")


def test_access_and_credentials_verified(run_checks, broken):
    ok = run_checks(PHASE_FILES["t-24h"], "--phase", "t-24h")
    ok.assert_passed("test_access_and_credentials_verified")
    targets = {row["target"] for e in ok.evidence("test_access_and_credentials_verified") if e["title"] == "access"
               for row in e["payload"]}
    assert {"AWS identity", "status page API"} <= targets and any("opsproof_action" in t for t in targets)
    run = broken("action-login-revoked", PHASE_FILES["t-24h"], "--phase", "t-24h")
    run.assert_failed("test_access_and_credentials_verified", "database login as opsproof_action (action role)",
                      "not permitted to log in")


# ---- T-1 h ---------------------------------------------------------------------------------------------------
def test_status_page_announces_window(run_checks, broken, sandbox):
    run_checks(PHASE_FILES["t-1h"], "--phase", "t-1h").assert_passed("test_status_page_announces_window")
    run = broken("status-page-down", PHASE_FILES["t-1h"], "--phase", "t-1h")
    run.assert_failed("test_status_page_announces_window", f"127.0.0.1:{sandbox.ports.http}/v1/pages/sandbox-page",
                      "HTTP 503")


def test_system_state_snapshot_taken(run_checks, broken, tmp_path):
    ok = run_checks(PHASE_FILES["t-1h"], "--phase", "t-1h", f"--baseline={tmp_path / 'b.json'}")
    ok.assert_passed("test_system_state_snapshot_taken")
    saved = json.loads((tmp_path / "b.json").read_text())
    keys = {m["key"] for m in saved["metrics"]}
    assert {"api.p95_ms", "db.cpu_pct", "storage.used_gb", "rows.jobs", "ecs.backend-service"} <= keys
    assert any(k.startswith("cert.") for k in keys)
    run = broken("database-down", PHASE_FILES["t-1h"], "--phase", "t-1h", f"--baseline={tmp_path / 'c.json'}")
    run.assert_failed("test_system_state_snapshot_taken", "baseline incomplete", "rows.users", "connection refused")


# ---- after the window ----------------------------------------------------------------------------------------
def test_no_regression_against_baseline(run_checks, broken, tmp_path):
    b = f"--baseline={tmp_path / 'baseline.json'}"
    run_checks(PHASE_FILES["t-1h"], "--phase", "t-1h", b).assert_passed("test_system_state_snapshot_taken")
    run_checks("checks/window/test_baseline.py", b).assert_passed("test_no_regression_against_baseline")
    run = broken("api-latency-regression", "checks/window/test_baseline.py", b)
    run.assert_failed("test_no_regression_against_baseline", "regression against the baseline",
                      "API p95 response time", "window.baseline.api_p95_tolerance_pct")
    log = (run.out / "maintenance-log.md").read_text()
    assert "## Metrics Before/After" in log and "- API p95 response time:" in log and "**REGRESSION**" in log
    html = (run.out / "report.html").read_text()
    assert "Metrics Before/After" in html and "maintenance-log.md" in html, "the HTML report shows and links them"
    assert run.record["maintenance_log"].endswith("maintenance-log.md")


# ---- the window runner ---------------------------------------------------------------------------------------
FAST = """
[window]
type = "emergency"
start = "now"
duration = "{duration}"
reserve = "{reserve}"
rollback = "docs/window.md#rollback"

[[change_requests]]
id = "CR-PROOF"
approved_by = "proof"

[checks]
pre = "pre_maintenance and window"
post = "post_maintenance and window"
"""


def step(action, estimate, **options):
    opts = ", ".join(f"{k} = {json.dumps(v)}" for k, v in options.items())
    return f'\n[[steps]]\naction = "{action}"\nestimate = "{estimate}"\noptions = {{ {opts} }}\n'


def run_window(tmp_path, plan_text, *extra) -> tuple[subprocess.CompletedProcess, dict, str]:
    plan = tmp_path / "plan.toml"
    plan.write_text(plan_text)
    out = tmp_path / "window"
    env = {**os.environ, "OPSPROOF_ENV": os.environ.get("OPSPROOF_ENV") or "sandbox"}
    p = subprocess.run([sys.executable, "-m", "actions", "window", f"--plan={plan}", f"--out={out}", *extra],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    record = json.loads((out / "window.json").read_text()) if (out / "window.json").exists() else {}
    log = (out / "maintenance-log.md").read_text() if (out / "maintenance-log.md").exists() else ""
    return p, record, log


def test_runner_without_apply_prints_the_plan_and_its_checks(sandbox, tmp_path):
    p, record, _ = run_window(tmp_path, FAST.format(duration="10m", reserve="1m") + step("soak", "1m", seconds=1))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "plan only" in p.stdout and "checks/window/test_final_hour.py::test_system_state_snapshot_taken" in p.stdout
    assert "watch http://127.0.0.1" in p.stdout, "each step shows its action's own plan"
    assert not record and not (tmp_path / "window").exists(), "nothing ran, nothing was written"


def test_runner_stops_at_a_failing_action_and_the_log_says_so(sandbox, tmp_path):
    plan = FAST.format(duration="10m", reserve="1m") + step("windows", "1m", ics=str(tmp_path / "w.ics")) + \
        step("soak", "1m", seconds=1, every=0.2) + step("windows", "1m", count=1, ics=str(tmp_path / "never.ics"))
    with faulted(sandbox, "smoke-endpoint-error"):
        p, record, log = run_window(tmp_path, plan, "--apply")
    assert p.returncode == 1, p.stdout + p.stderr
    assert [s["status"] for s in record["steps"]] == ["done", "failed", "skipped"]
    assert (tmp_path / "w.ics").exists() and not (tmp_path / "never.ics").exists(), "step 3 never ran"
    assert "- Deviation: step 2 (soak) failed:" in log and "answered 503" in log
    assert "- [x] Step 1: windows (done" in log and "- [ ] Step 3: windows (skipped)" in log
    assert "carry over step 2 soak (failed); carry over step 3 windows (skipped)" in log


def test_runner_skips_what_the_deadline_leaves_no_time_for(sandbox, tmp_path):
    # The plan fits (2s + 17s in 20s), but step 1 overruns its estimate (4s): step 2 no longer fits.
    plan = FAST.format(duration="20s", reserve="0s") + step("soak", "2s", seconds=4, every=1) + \
        step("soak", "17s", seconds=1)
    p, record, log = run_window(tmp_path, plan, "--apply")
    assert p.returncode == 1, p.stdout + p.stderr
    assert [s["status"] for s in record["steps"]] == ["done", "skipped"]
    assert "step 2 (soak) not started: it needs up to 17s" in p.stdout
    assert any(n["event"] == "extension" and n["ok"] for n in record["notifications"])
    slack = (sandbox.dir / "receivers" / "slack.jsonl").read_text()
    assert "extra time needed" in slack
    assert "- Deviation: step 1 (soak) took" in log and "- Deviation: step 2 (soak) not started" in log
    assert record["post"]["ret"] == 0, "the post-maintenance suite still ran"


def test_runner_post_run_fails_on_a_regression_against_the_baseline(sandbox, tmp_path):
    import actions
    from actions.window import Runner
    from opsproof import config, plan as plans
    from sandbox import faults, lifecycle

    path = tmp_path / "plan.toml"
    path.write_text(FAST.format(duration="10m", reserve="1m") + step("soak", "1m", seconds=0.5, every=0.25))
    env = config.load(os.environ.get("OPSPROOF_ENV") or "sandbox")

    def step_that_slows_the_api(name, kwargs):  # the step's side effect: every API route 250 ms slower
        report = actions.run(name, env, apply=True, **kwargs)
        with lifecycle.lock(sandbox):
            faults.apply(sandbox, "api-latency-regression")
        return report

    try:
        r = Runner(env, plans.load(path), tmp_path / "out", say=lambda m: None, run_step=step_that_slows_the_api)
        record = r.run()
    finally:
        with lifecycle.lock(sandbox):
            faults.heal(sandbox, "api-latency-regression")
    assert [s["status"] for s in record["steps"]] == ["done"]
    assert record["post"]["ret"] == 1 and record["outcome"] == "completed with deviations"
    assert any("test_no_regression_against_baseline" in f and "API p95 response time" in f
               for f in record["post"]["failed"])
    log = (tmp_path / "out" / "maintenance-log.md").read_text()
    assert "**REGRESSION**" in log and "- Check test_no_regression_against_baseline failed" in log


def test_runner_goes_on_when_the_webhook_is_down(sandbox, tmp_path):
    plan = FAST.format(duration="10m", reserve="1m") + step("soak", "1m", seconds=0.5, every=0.25)
    with faulted(sandbox, "webhook-down"):
        p, record, log = run_window(tmp_path, plan, "--apply")
    assert p.returncode == 0, p.stdout + p.stderr
    assert record["outcome"] == "completed" and [s["status"] for s in record["steps"]] == ["done"]
    slack = [n for n in record["notifications"] if n["channel"] == "slack"]
    page = [n for n in record["notifications"] if n["channel"] == "status page"]
    assert {n["event"] for n in slack} >= {"start", "complete"} and not any(n["ok"] for n in slack)
    assert all(n["ok"] for n in page), "the status page still got every notice"
    assert all(n["attempts"] == 3 for n in slack), "each was retried (window.notify.attempts)"
    assert "- Notification start to slack not delivered: HTTP 503" in log
    assert "notification NOT delivered (the window goes on)" in p.stdout
    token = (sandbox.secrets_dir / "statuspage-token").read_text().strip()
    leaked = [f for f in (tmp_path / "window").rglob("*") if f.is_file() and token in f.read_text(errors="replace")]
    assert not leaked and token not in p.stdout + p.stderr, f"the status page token leaked into {leaked}"


# ---- waivers -------------------------------------------------------------------------------------------------
HEALTH = "checks/services/test_smoke.py::test_api_health_answers_within_budget"
WAIVER = """
[[waiver]]
check = "test_api_health_answers_within_budget"
justification = "the health endpoint is being replaced (CR-77)"
owner = "backend-team"
expires = {expires}
"""


def test_a_waived_failure_shows_as_waived_until_it_expires(broken, tmp_path):
    import datetime as dt

    today = dt.datetime.now(dt.timezone.utc).date()
    active, expired, malformed = (tmp_path / f"{n}.toml" for n in ("active", "expired", "malformed"))
    active.write_text(WAIVER.format(expires=today + dt.timedelta(days=10)))
    expired.write_text(WAIVER.format(expires=today - dt.timedelta(days=1)))
    malformed.write_text(WAIVER.format(expires=today).replace('owner = "backend-team"\n', ""))

    run = broken("smoke-endpoint-error", HEALTH, f"--waivers={active}")
    assert run.ret == 0, "a waived failure does not fail the run"
    assert run.outcome("test_api_health_answers_within_budget") == "waived"
    [c] = [c for c in run.record["checks"] if c["nodeid"].endswith("test_api_health_answers_within_budget")]
    assert c["waiver"]["justification"] == "the health endpoint is being replaced (CR-77)" and "503" in c["message"]
    assert "waived: the health endpoint is being replaced (CR-77) (owner backend-team" in run.output
    assert "Waived" in (run.out / "report.html").read_text()

    run = broken("smoke-endpoint-error", HEALTH, f"--waivers={expired}")
    assert run.ret == 1
    run.assert_failed("test_api_health_answers_within_budget", "answered 503")
    assert "EXPIRED on" in run.output and run.record["waivers"]["expired"][0]["owner"] == "backend-team"

    run = broken("smoke-endpoint-error", HEALTH, f"--waivers={malformed}")
    assert run.ret == 1, "a malformed waiver waives nothing"
    assert "malformed.toml waiver #1: missing owner" in run.output
    assert run.record["waivers"]["problems"][0]["message"].startswith("missing owner")


# ---- the nightly gate ----------------------------------------------------------------------------------------
def test_nightly_gate_exit_codes(run_checks, broken):
    assert run_checks("checks", "-m", "nightly and services").ret == 0
    assert broken("smoke-endpoint-error", "checks", "-m", "nightly and services").ret == 1
    assert run_checks("checks", "-m", "nightli").ret == 4, "a typo is a broken run (page), never a green one"
    workflow = (ROOT / "examples" / "ci" / "nightly.yml").read_text()
    assert "pytest -m nightly" in workflow and "if: always()" in workflow and "reports/" in workflow
