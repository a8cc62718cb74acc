"""The window runner's decisions, in-process with a fake clock, fake checks and fake steps (the proofs in
tests/proofs/test_window.py run it for real against the sandbox)."""

import datetime as dt
import json
import threading
import time

import pytest

import actions
from actions.window import CheckResult, Runner
from opsproof import config, plan as plans
from opsproof.errors import ConfigError
from opsproof.schedule import utc

T0 = utc(2026, 1, 5, 14, 0)


class Clock:
    def __init__(self, t=T0):
        self.t = t
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.t

    def advance(self, d: dt.timedelta):
        with self.lock:
            self.t += d


class FakeChecks:
    """Check runs by name: ok unless listed in `failing`; the pre run writes the baseline as the real gate does."""

    def __init__(self, out, failing=()):
        self.out, self.failing, self.runs = out, set(failing), []

    def run(self, name, markexpr, paths, extra=(), timeout_s=None):
        self.runs.append((name, markexpr, list(paths), list(extra)))
        if name == "pre":
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "baseline.json").write_text(json.dumps({"taken_at": T0.isoformat(), "environment": "t",
                                                                "metrics": []}))
        if name in self.failing:
            return CheckResult(name, "pytest", 1, passed=3, failed=[f"test_{name}: it broke"])
        return CheckResult(name, "pytest", 0, passed=3)

    def collect(self, markexpr, paths):
        return [f"checks/x.py::test_{markexpr or 'verify'}"]


class FakeNotifier:
    def __init__(self):
        self.sent = []

    def send(self, event, window, text, crs=()):
        self.sent.append((event, text))
        return []


def make_plan(tmp_path, steps, duration="1h", reserve="10m", progress="30m", rollback="docs/window.md"):
    body = "\n".join(f'[[steps]]\naction = "soak"\ntitle = "{name}"\nestimate = "{est}"\n' +
                     (f'verify = ["checks/{name}"]\n' if verify else "") +
                     (f'rollback = "{rb}"\n' if rb else "")
                     for name, est, verify, rb in steps)
    p = tmp_path / "plan.toml"
    p.write_text(f'[window]\ntype = "emergency"\nstart = "now"\nduration = "{duration}"\nreserve = "{reserve}"\n'
                 f'progress_every = "{progress}"\nrollback = "{rollback}"\n'
                 f'[[change_requests]]\nid = "CR-1"\napproved_by = "jane"\n{body}')
    return plans.load(p)


def make_runner(tmp_path, plan, durations=None, fail=(), failing_checks=(), clock=None):
    """durations: step title -> how long it takes (fake clock); fail: titles that raise."""
    clock = clock or Clock()
    done = []
    by_seconds = {}

    def run_step(name, kwargs):
        title = by_seconds.get(kwargs.get("seconds"), name)
        done.append(title)
        clock.advance((durations or {}).get(title, dt.timedelta(minutes=1)))
        if title in fail:
            raise RuntimeError(f"{title} blew up")
        return actions.Report(name, applied=True, steps=[actions.Step(f"ran {title}", "done")])

    # each step gets a distinct `seconds` option so the fake knows which step it runs
    for i, s in enumerate(plan.steps):
        by_seconds[float(i + 1)] = s.title
    plan = plan.model_copy(update={"steps": [s.model_copy(update={"options": {"seconds": float(i + 1)}})
                                             for i, s in enumerate(plan.steps)]})
    out = tmp_path / "out"
    r = Runner(config.load("sandbox"), plan, out, clock=clock, checks=FakeChecks(out, failing_checks),
               notifier=FakeNotifier(), say=lambda m: None, run_step=run_step)
    return r, done


def statuses(record):
    return [s["status"] for s in record["steps"]]


def test_every_step_runs_in_order_and_is_verified(tmp_path):
    plan = make_plan(tmp_path, [("a", "10m", True, None), ("b", "10m", False, None), ("c", "10m", True, None)])
    r, done = make_runner(tmp_path, plan)
    rec = r.run()
    assert done == ["a", "b", "c"] and statuses(rec) == ["done"] * 3
    assert [x[0] for x in r.checks.runs] == ["pre", "step-1", "step-3", "post"]
    assert rec["outcome"] == "completed" and not rec["deviations"]
    assert [e for e, _ in r.notifier.sent] == ["start", "complete"]
    assert r.notifier.sent[1][1].startswith("Maintenance Complete")
    assert (r.out / "maintenance-log.md").read_text().startswith("# Maintenance Log - ")
    assert json.loads((r.out / "window.json").read_text())["outcome"] == "completed"


def test_no_step_starts_that_cannot_finish_before_the_deadline(tmp_path):
    plan = make_plan(tmp_path, [("a", "20m", False, None), ("b", "20m", False, None), ("c", "5m", False, None)])
    r, done = make_runner(tmp_path, plan, durations={"a": dt.timedelta(minutes=35)})  # a overruns
    rec = r.run()
    assert done == ["a"], "b needs 20m but 1h - 10m reserve - 35m = 15m are left: neither b nor c may start"
    assert statuses(rec) == ["done", "skipped", "skipped"]
    assert "took 35m, over its estimate of 20m" in rec["deviations"][0]
    assert "step 2 (soak) not started: it needs up to 20m, only 15m left" in rec["deviations"][1]
    events = dict(r.notifier.sent)
    assert "extra time needed" in events["extension"] and "25m" in events["extension"]
    assert rec["outcome"] == "completed with deviations"
    assert [x[0] for x in r.checks.runs][-1] == "post", "the post-maintenance suite runs whatever happened"


def test_a_failing_step_stops_the_window_and_is_rolled_back(tmp_path):
    plan = make_plan(tmp_path, [("a", "5m", False, None), ("b", "5m", False, "soak"), ("c", "5m", False, None)])
    r, done = make_runner(tmp_path, plan, fail={"b"})
    rec = r.run()
    assert done == ["a", "b", "soak"], "c never starts; b's rollback (the soak action) runs"
    assert statuses(rec) == ["done", "rolled back", "skipped"]
    assert rec["steps"][2]["output"] == "not started: step 2 (soak) did not succeed"
    assert any("step 2 (soak) failed: RuntimeError: b blew up" in d for d in rec["deviations"])
    assert any("rolled back with soak" in d for d in rec["deviations"])
    log = (r.out / "maintenance-log.md").read_text()
    assert "- Deviation: step 2 (soak) failed: RuntimeError: b blew up" in log
    assert "- [ ] Step 3: c (skipped)" in log


def test_a_failed_verification_stops_the_window_and_names_a_manual_rollback(tmp_path):
    plan = make_plan(tmp_path, [("a", "5m", True, None), ("b", "5m", False, None)], rollback="docs/rollback.md")
    r, done = make_runner(tmp_path, plan, failing_checks={"step-1"})
    rec = r.run()
    assert done == ["a"] and statuses(rec) == ["failed", "skipped"]
    assert any("verification failed" in d and "test_step-1: it broke" in d for d in rec["deviations"])
    assert any("roll back by hand following docs/rollback.md" in d for d in rec["deviations"])


def test_a_failed_gate_starts_no_step(tmp_path):
    plan = make_plan(tmp_path, [("a", "5m", False, None)])
    r, done = make_runner(tmp_path, plan, failing_checks={"pre"})
    rec = r.run()
    assert done == [] and statuses(rec) == ["skipped"]
    assert rec["deviations"][0].startswith("pre-maintenance checks failed")
    assert [x[0] for x in r.checks.runs] == ["pre", "post"]
    pre = r.checks.runs[0]
    assert "--phase=t-1h" in pre[3] and any(a.startswith("--baseline=") for a in pre[3])


def test_progress_is_notified_while_a_step_runs(tmp_path):
    plan = make_plan(tmp_path, [("a", "5m", False, None)], progress="0.05s")
    r, _ = make_runner(tmp_path, plan)
    original = r.run_step
    r.run_step = lambda name, kw: (time.sleep(0.3), original(name, kw))[1]
    r.run()
    progress = [t for e, t in r.notifier.sent if e == "progress"]
    assert progress and "step 1/1 (a) running" in " ".join(progress)


def test_a_scheduled_window_only_runs_while_it_is_open(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[window]\ndate = 2026-01-11\n[[change_requests]]\nid = "CR-1"\napproved_by = "j"\n'
                 '[[steps]]\naction = "soak"\nestimate = "5m"\n')
    early = Clock(utc(2026, 1, 11, 1, 0))
    r, _ = make_runner(tmp_path, plans.load(p), clock=early)
    with pytest.raises(ConfigError, match="is not open now"):
        r.run()
    inside = Clock(utc(2026, 1, 11, 2, 30))
    r, done = make_runner(tmp_path, plans.load(p), clock=inside)
    assert r.run()["outcome"] == "completed" and r.deadline == utc(2026, 1, 11, 6)


def test_the_plan_without_apply_lists_steps_and_checks(tmp_path):
    plan = make_plan(tmp_path, [("a", "5m", True, None)])
    r, done = make_runner(tmp_path, plan)
    text = "\n".join(f"{d}\n{x}" for d, x in r.describe())
    assert done == [], "a plan changes nothing"
    assert "pre-maintenance gate: -m 'pre_maintenance'" in text and "checks/x.py::test_pre_maintenance" in text
    assert "step 1: a (soak, estimate 5m; rollback: docs/window.md)" in text and "verify (1 checks)" in text
    assert "post-maintenance suite: -m 'post_maintenance'" in text
