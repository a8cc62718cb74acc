"""window: run a maintenance window from its plan (runbook: "Scheduled Maintenance Windows").

    python -m actions window --plan plans/2026-01-11.toml            # the plan, and the checks it would run
    python -m actions window --plan plans/2026-01-11.toml --apply    # run the window

With --apply, in order:

1. notify start (Slack + status page), then progress every window.progress_every while it runs;
2. the pre-maintenance gate: ``pytest -m pre_maintenance`` as at T-1 h (it takes the baseline); if it fails, no step
   starts;
3. each step: the action (with --apply), then its verification checks; a step that fails (or whose verification
   fails) is rolled back when its rollback is an action, and no further step starts ("verify each step before
   proceeding"); a step whose estimate does not fit in the time left before the deadline (less window.reserve) is not
   started, nor any after it, and "extra time needed" is notified;
4. the post-maintenance suite, compared against the baseline;
5. notify completion; the evidence folder holds window.json (steps, deviations, notifications), the pre/post/step
   reports, the baseline, notifications.jsonl and the maintenance log;
6. hand over: post/change-request.html is rendered again with the whole window (steps, deviations), emailed to the
   stakeholders ([window.notify.email]) and attached with the JUnit XML and evidence.json to each change request of
   the plan ([window.attach]); what happened is in window.json (notifications, attachments).

A notification that cannot be delivered is recorded and never stops the window. Exit code 0: every step done and
verified, no deviation, the post-maintenance suite passed; 1: otherwise (the maintenance log says what happened).
"""

import argparse
import datetime as dt
import getpass
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from opsproof import ROOT, baseline, change_report, config, handover, maintenance_log, plan as plans, schedule, \
    secrets
from opsproof.config.window import format_duration
from opsproof.errors import ConfigError
from opsproof.notify import Notifier

from . import Step, action, all_actions, param, run as run_action


# ---- running checks --------------------------------------------------------------------------------------------
@dataclass
class CheckResult:
    name: str
    command: str
    ret: int
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    """'test_x: message' of every failed check."""
    waived: list[str] = field(default_factory=list)
    skipped: int = 0
    report: str = ""
    duration_s: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.ret == 0

    def summary(self) -> str:
        if self.note:
            return self.note
        parts = [f"{self.passed} passed"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({', '.join(f.split(':')[0] for f in self.failed[:5])})")
        if self.waived:
            parts.append(f"{len(self.waived)} waived")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        text = ", ".join(parts)
        if self.ret == 5:
            text = "nothing was selected: NOT a pass"
        elif self.ret not in (0, 1):
            text += f" (pytest exit {self.ret}: the run itself broke)"
        return text


class PytestChecks:
    """Runs checks as a pytest subprocess from the project folder, reports into out/<name>/."""

    def __init__(self, env_source: str, out: Path, window_arg: str, plan_path: Path | None, timeout_s: float):
        self.env_source = env_source
        self.out = out
        self.window_arg = window_arg
        self.plan_path = plan_path
        self.timeout_s = timeout_s

    def command(self, name: str, markexpr: str | None, paths: list[str], extra: list[str],
                out: Path | None = None) -> list[str]:
        d = (out or self.out) / name
        cmd = [sys.executable, "-m", "pytest", "--rootdir", str(ROOT), "-c", str(ROOT / "pytest.ini"),
               "-p", "no:cacheprovider", "--no-sandbox-autostart", f"--env={self.env_source}",
               f"--html={d / 'report.html'}", f"--junitxml={d / 'junit.xml'}", f"--window={self.window_arg}"]
        if self.plan_path:
            cmd.append(f"--plan={self.plan_path}")
        cmd += [*extra, *paths]
        if markexpr:
            cmd += ["-m", markexpr]
        return cmd

    def collect(self, markexpr: str | None, paths: list[str]) -> list[str]:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="opsproof-collect-") as tmp:  # a plan leaves nothing behind
            cmd = self.command("collect", markexpr, paths, ["--collect-only", "-q"], out=Path(tmp))
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=_child_env(self))
        ids = [line for line in p.stdout.splitlines() if "::" in line and not line.startswith(("ERROR", "FAILED"))]
        if p.returncode not in (0, 5) and not ids:
            tail = [x for x in (p.stdout + p.stderr).splitlines() if x.strip()][-1:]
            raise ConfigError(f"collecting checks failed (pytest exit {p.returncode}): {' '.join(tail)}")
        return ids

    def run(self, name: str, markexpr: str | None, paths: list[str], extra: list[str] = (),
            timeout_s: float | None = None) -> CheckResult:
        d = self.out / name
        d.mkdir(parents=True, exist_ok=True)
        cmd = self.command(name, markexpr, paths, list(extra))
        shown = "pytest " + " ".join(
            x for x in cmd[3:] if not x.startswith(("--rootdir", "-c", "--html", "--junitxml", "-p", "no:")))
        t0 = time.monotonic()
        timeout = max(5.0, timeout_s or self.timeout_s)
        try:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=_child_env(self))
            ret, output = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            ret, output = 124, f"{(e.stdout or b'').decode(errors='replace')}\ntimed out after {timeout:.0f}s"
        (d / "output.txt").write_text(secrets.redact(output))
        res = CheckResult(name, shown, ret, report=str(d / "report.html"), duration_s=round(time.monotonic() - t0, 2))
        if ret == 124:
            res.note = f"did not finish within {timeout:.0f}s"
        try:
            record = json.loads((d / "evidence.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            lines = [x for x in output.splitlines() if x.strip()]
            res.note = res.note or f"no evidence (pytest exit {ret}): {lines[-1] if lines else ''}"
            return res
        for c in record.get("checks", []):
            short = c["nodeid"].split("::")[-1]
            if c["outcome"] == "passed":
                res.passed += 1
            elif c["outcome"] == "failed":
                res.failed.append(f"{short}: {c.get('message') or ''}")
            elif c["outcome"] == "waived":
                res.waived.append(short)
            elif c["outcome"] == "skipped":
                res.skipped += 1
        return res


def _child_env(checks: PytestChecks) -> dict:
    env = dict(os.environ)
    env["OPSPROOF_ENV"] = checks.env_source
    env.pop("PYTEST_ADDOPTS", None)
    return env


def env_source(env: config.Environment) -> str:
    """The environment file env came from (child pytest runs load the same one)."""
    candidates = [os.environ.get("OPSPROOF_ENV"), env.name, *sorted(str(p) for p in config.ENV_DIR.glob("*.toml"))]
    for c in dict.fromkeys(c for c in candidates if c):
        try:
            if config.load(c) == env:
                return c
        except ConfigError:
            continue
    raise ConfigError(f"cannot tell which environment file '{env.name}' was loaded from: pass --env or set "
                      "OPSPROOF_ENV")


# ---- the plan's steps as action calls --------------------------------------------------------------------------
def action_kwargs(name: str, options: dict, where: str) -> dict:
    """The keyword arguments of an action: its parameters' defaults, overridden by the plan's options."""
    known = all_actions()
    if name not in known:
        raise ConfigError(f"{where}.action: no action {name!r} (python -m actions --help lists them: "
                          f"{', '.join(sorted(known))})")
    p = argparse.ArgumentParser(add_help=False)
    for prm in known[name].params:
        p.add_argument(*prm.flags, **prm.kwargs)
    dests = {a.dest: a for a in p._actions}
    unknown = sorted(set(options) - set(dests))
    if unknown:
        raise ConfigError(f"{where}.options: {name} has no option {', '.join(unknown)} "
                          f"(it takes: {', '.join(sorted(dests)) or 'none'})")
    missing = [d for d, a in dests.items() if a.required and d not in options]
    if missing:
        raise ConfigError(f"{where}.options: {name} needs {', '.join(missing)}")
    return {**{d: a.default for d, a in dests.items()}, **options}


def validate(plan: plans.Plan) -> None:
    for i, s in enumerate(plan.steps):
        where = f"{plan.name}: steps.{i}"
        action_kwargs(s.action, s.options, where)
        rb = plan.rollback_of(s)
        if rb and rb in all_actions():
            action_kwargs(rb, s.rollback_options, f"{where}.rollback")


# ---- the runner ------------------------------------------------------------------------------------------------
class Ticker(threading.Thread):
    """Calls fn every `every` seconds until stopped (progress notifications)."""

    def __init__(self, every_s: float, fn):
        super().__init__(daemon=True)
        self.every_s, self.fn, self.halt = every_s, fn, threading.Event()

    def run(self):
        while not self.halt.wait(self.every_s):
            try:
                self.fn()
            except Exception:  # noqa: BLE001 - progress is best effort
                pass

    def stop(self):
        self.halt.set()


class Runner:
    def __init__(self, env: config.Environment, plan: plans.Plan, out: Path | None = None, *, clock=schedule.now,
                 checks: PytestChecks | None = None, notifier: Notifier | None = None, say=print,
                 run_step=None, source: str | None = None, hand_over=None):
        self.env, self.plan, self.clock, self.say = env, plan, clock, say
        self.cfg = env.window
        self.started = clock()
        self.window = plan.resolve(self.cfg, self.started)
        self.out = out or env.path(self.cfg.reports_dir) / f"{self.window.id}_{self.started:%Y%m%dT%H%M%SZ}"
        self.reserve = plan.window.reserve if plan.window.reserve is not None else self.cfg.reserve
        self.progress_every = plan.window.progress_every or self.cfg.progress_every
        window_arg = self.window.id if self.window.kind == "scheduled" else \
            f"{self.window.start.isoformat()}/{self.window.end.isoformat()}"
        self.checks = checks or PytestChecks(source or env_source(env), self.out, window_arg,
                                             plan.path.resolve() if plan.path else None,
                                             self.cfg.check_run_timeout.total_seconds())
        self.notifier = notifier or Notifier(env, journal=self.out / "notifications.jsonl", clock=clock)
        self.run_step = run_step or (lambda name, kwargs: run_action(name, env, apply=True, **kwargs))
        self.hand_over_fn = hand_over or handover.handover
        self.status = "starting"
        self.record: dict = {}

    # ---- helpers -----------------------------------------------------------------------------------------------
    @property
    def deadline(self) -> dt.datetime:
        return self.window.end

    @property
    def crs(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.plan.change_requests)

    def left(self) -> dt.timedelta:
        """Time a step may still use: until the deadline, less the reserve for the post-maintenance checks."""
        return self.deadline - self.reserve - self.clock()

    def notify(self, event: str, text: str) -> None:
        for d in self.notifier.send(event, self.window, text, self.crs):
            self.record["notifications"].append(asdict(d))
            if not d.ok:
                self.say(f"  notification NOT delivered (the window goes on): {d.line()}")
        self.save()

    def deviation(self, text: str) -> None:
        self.record["deviations"].append(text)
        self.say(f"  DEVIATION: {text}")
        self.save()

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "window.json").write_text(secrets.redact(json.dumps(self.record, indent=1, default=str)))

    def check_args(self) -> list[str]:
        return [f"--baseline={self.out / 'baseline.json'}"]

    # ---- the plan (no --apply) ---------------------------------------------------------------------------------
    def describe(self) -> list[tuple[str, str]]:
        """[(description, details)] of everything --apply would do, in order; collects the checks it would run."""
        p, c = self.plan, self.checks
        out = [("window", f"{self.window.label()}; deadline {self.deadline:%Y-%m-%d %H:%M} UTC; "
                          f"{format_duration(self.reserve)} kept for the post-maintenance checks; change requests: "
                          f"{', '.join(self.crs) or 'none'}")]
        receivers = [r for r, on in (("Slack", self.cfg.notify.slack), ("status page", self.cfg.notify.status_page))
                     if on]
        out.append((f"notify start, then progress every {format_duration(self.progress_every)}, to "
                    f"{' and '.join(receivers) or 'nobody (window.notify)'}", ""))
        pre = c.collect(p.checks.pre, p.checks.paths)
        out.append((f"pre-maintenance gate: -m '{p.checks.pre}' as at T-1 h ({len(pre)} checks); takes the "
                    f"baseline", "\n".join(pre)))
        for i, s in enumerate(p.steps, 1):
            kwargs = action_kwargs(s.action, s.options, f"steps.{i - 1}")
            try:
                sub = run_action(s.action, self.env, apply=False, **kwargs).as_text()
            except Exception as e:  # noqa: BLE001 - the plan of a plan is best effort
                sub = f"(its plan could not be shown: {secrets.redact(str(e))})"
            verify = c.collect(s.verify_markers, s.verify) if (s.verify or s.verify_markers) else []
            rb = p.rollback_of(s)
            details = [sub] + ([f"verify ({len(verify)} checks):"] + [f"  {v}" for v in verify] if verify else
                               ["verify: the action's own outcome only (no checks named)"])
            out.append((f"step {i}: {s.label} ({s.action}, estimate {format_duration(s.estimate)}; rollback: "
                        f"{rb or 'none'})", "\n".join(details)))
        post = c.collect(p.checks.post, p.checks.paths)
        out.append((f"post-maintenance suite: -m '{p.checks.post}' ({len(post)} checks), compared with the baseline",
                    "\n".join(post)))
        out.append((f"notify completion; evidence and the maintenance log in {self.out}", ""))
        return out

    # ---- the window (--apply) ----------------------------------------------------------------------------------
    def run(self) -> dict:
        w, p = self.window, self.plan
        now = self.clock()
        if not (w.start <= now < w.end):
            raise ConfigError(f"{p.name}: the window {w.label()} is not open now ({now:%Y-%m-%d %H:%M} UTC): a "
                              "scheduled window runs between its start and its end; an unscheduled one is "
                              "type = \"emergency\"")
        validate(p)
        self.record = {
            "window": w.as_dict(), "plan": str(p.path), "environment": self.env.name,
            "started_at": self.started.isoformat(), "finished_at": None, "deadline": self.deadline.isoformat(),
            "reserve": format_duration(self.reserve), "performed_by": p.window.performed_by or self.cfg.performed_by,
            "operator": os.environ.get("OPSPROOF_OPERATOR") or os.environ.get("USER") or getpass.getuser(),
            "change_requests": [c.model_dump() for c in p.change_requests],
            "special_tasks": list(p.next.special_tasks), "steps": [
                {"index": i, "action": s.action, "title": s.label, "estimate": format_duration(s.estimate),
                 "status": "planned", "started_at": None, "duration_s": 0.0, "output": "", "verification": None,
                 "rollback": None} for i, s in enumerate(p.steps, 1)],
            "pre": None, "post": None, "deviations": [], "notifications": [], "outcome": "running",
            "links": {"Window record": str(self.out / "window.json"),
                      "Pre-maintenance report": str(self.out / "pre" / "report.html"),
                      "Post-maintenance report": str(self.out / "post" / "report.html"),
                      "Baseline": str(self.out / "baseline.json"),
                      "Notifications": str(self.out / "notifications.jsonl")},
        }
        self.save()
        self.say(f"window {w.label()}: {len(p.steps)} step(s); deadline {self.deadline:%H:%M} UTC, "
                 f"{format_duration(self.reserve)} reserved; evidence in {self.out}")
        self.notify("start", f"Maintenance {w.label()} started" + (f" ({', '.join(self.crs)})" if self.crs else "") +
                    f": {len(p.steps)} step(s) planned: {', '.join(s.label for s in p.steps) or 'none'}.")
        ticker = Ticker(self.progress_every.total_seconds(), self.progress)
        ticker.start()
        try:
            if self.gate():
                self.steps()
            self.post()
        finally:
            ticker.stop()
        return self.finish()

    def progress(self) -> None:
        now = self.clock()
        self.notify("progress", f"Maintenance {self.window.id} in progress: {self.status}; "
                                f"{format_duration(now - self.started)} elapsed, "
                                f"{format_duration(max(self.deadline - now, dt.timedelta(0)))} left.")

    def gate(self) -> bool:
        self.status = "pre-maintenance checks"
        self.say(f"pre-maintenance gate: -m '{self.plan.checks.pre}' ...")
        res = self.checks.run("pre", self.plan.checks.pre, self.plan.checks.paths,
                              ["--phase=t-1h", *self.check_args()])
        self.record["pre"] = asdict(res)
        self.say(f"  {res.summary()}")
        if not (self.out / "baseline.json").is_file():
            self.say("  baseline: the gate did not take one; taking it now")
            baseline.take(self.env, window=self.window.id).save(self.out / "baseline.json")
        if res.ok:
            self.save()
            return True
        self.deviation(f"pre-maintenance checks failed ({res.summary()}): no step was started"
                       + "".join(f"; {f}" for f in res.failed[:5]))
        self.skip_from(1, "not started: the pre-maintenance checks failed")
        return False

    def skip_from(self, index: int, why: str) -> None:
        for s in self.record["steps"][index - 1:]:
            if s["status"] == "planned":
                s["status"], s["output"] = "skipped", why
        self.save()

    def steps(self) -> None:
        steps = self.plan.steps
        for i, s in enumerate(steps, 1):
            rec = self.record["steps"][i - 1]
            left = self.left()
            if s.estimate > left:
                rest = steps[i - 1:]
                need = sum((x.estimate for x in rest), start=dt.timedelta(0))
                cut = self.deadline - self.reserve
                self.deviation(f"step {i} ({s.action}) not started: it needs up to {format_duration(s.estimate)}, "
                               f"only {format_duration(max(left, dt.timedelta(0)))} left before {cut:%H:%M} UTC "
                               f"(the deadline {self.deadline:%H:%M} less the {format_duration(self.reserve)} "
                               f"reserve); skipped with every later step ({len(rest)} in all)")
                self.skip_from(i, f"not started: the deadline ({format_duration(s.estimate)} needed, "
                                  f"{format_duration(max(left, dt.timedelta(0)))} left)")
                self.notify("extension", f"Maintenance {self.window.id}: extra time needed. Step(s) {i}–{len(steps)} "
                                         f"({', '.join(x.label for x in rest)}) need up to {format_duration(need)}; "
                                         f"{format_duration(max(left, dt.timedelta(0)))} left before the deadline. "
                                         "Request an extension, or they move to the next window.")
                return
            if not self.step(i, s, rec):
                self.skip_from(i + 1, f"not started: step {i} ({s.action}) did not succeed")
                return

    def step(self, i: int, s: plans.Step, rec: dict) -> bool:
        n = len(self.plan.steps)
        self.status = f"step {i}/{n} ({s.label}) running"
        self.say(f"step {i}/{n}: {s.label} ({s.action}, estimate {format_duration(s.estimate)}) ...")
        t0 = self.clock()
        rec["started_at"] = t0.isoformat()
        self.save()
        error = None
        try:
            report = self.run_step(s.action, action_kwargs(s.action, s.options, f"steps.{i - 1}"))
            rec["output"] = report.as_text()[-3000:]
            if not report.ok:
                error = "; ".join(f"{x.description}: {x.output}" for x in report.steps if x.status == "failed") \
                    or "the action reported a failed step"
        except Exception as e:  # noqa: BLE001 - any failure of a step is a deviation, never a crash of the window
            error = secrets.redact(f"{type(e).__name__}: {e}")
            rec["output"] = error
        took = self.clock() - t0
        rec["duration_s"] = round(took.total_seconds(), 2)
        if error:
            rec["status"] = "failed"
            self.deviation(f"step {i} ({s.action}) failed: {error}")
            self.rollback(i, s, rec)
            return False
        if took > s.estimate:
            self.deviation(f"step {i} ({s.action}) took {format_duration(took)}, over its estimate of "
                           f"{format_duration(s.estimate)}")
        if s.verify or s.verify_markers:
            self.status = f"step {i}/{n} ({s.label}) verification"
            res = self.checks.run(f"step-{i}", s.verify_markers, s.verify, self.check_args(),
                                  timeout_s=min(self.cfg.check_run_timeout.total_seconds(),
                                                max(self.deadline - self.clock(), dt.timedelta(minutes=5))
                                                .total_seconds()))
            rec["verification"] = asdict(res)
            self.say(f"  verification: {res.summary()}")
            if res.report:
                self.record["links"][f"Step {i} verification"] = res.report
            if not res.ok:
                rec["status"] = "failed"
                self.deviation(f"step {i} ({s.action}) verification failed: {res.summary()}"
                               + "".join(f"; {f}" for f in res.failed[:5]))
                self.rollback(i, s, rec)
                return False
        rec["status"] = "done"
        self.say(f"  done in {format_duration(took)}")
        self.save()
        return True

    def rollback(self, i: int, s: plans.Step, rec: dict) -> None:
        rb = self.plan.rollback_of(s)
        if not rb:
            self.deviation(f"step {i} ({s.action}) names no rollback: the system is as the step left it")
            return
        if rb not in all_actions():
            rec["rollback"] = {"procedure": rb, "status": "manual"}
            self.deviation(f"step {i} ({s.action}): roll back by hand following {rb}")
            return
        self.say(f"  rolling back with {rb} ...")
        try:
            report = self.run_step(rb, action_kwargs(rb, s.rollback_options, f"steps.{i - 1}.rollback"))
            ok = report.ok
            detail = report.as_text()[-1500:]
        except Exception as e:  # noqa: BLE001
            ok, detail = False, secrets.redact(f"{type(e).__name__}: {e}")
        rec["rollback"] = {"action": rb, "status": "done" if ok else "failed", "output": detail}
        if ok:
            rec["status"] = "rolled back"
            self.deviation(f"step {i} ({s.action}) rolled back with {rb}")
        else:
            self.deviation(f"step {i} ({s.action}): rollback {rb} FAILED: {detail.splitlines()[-1] if detail else ''}")

    def post(self) -> None:
        self.status = "post-maintenance checks"
        self.say(f"post-maintenance suite: -m '{self.plan.checks.post}' ...")
        self.save()
        res = self.checks.run("post", self.plan.checks.post, self.plan.checks.paths,
                              [*self.check_args(), f"--maintenance-log={self.out / 'maintenance-log.md'}",
                               f"--window-record={self.out / 'window.json'}"])
        self.record["post"] = asdict(res)
        self.say(f"  {res.summary()}")
        if not res.ok:
            self.deviation(f"post-maintenance checks failed ({res.summary()})"
                           + "".join(f"; {f}" for f in res.failed[:5]))

    def finish(self) -> dict:
        r = self.record
        steps = r["steps"]
        done = sum(1 for s in steps if s["status"] == "done")
        post_ok = bool(r["post"]) and r["post"]["ret"] == 0
        clean = done == len(steps) and not r["deviations"] and post_ok
        r["outcome"] = "completed" if clean else "completed with deviations"
        text = (f"Maintenance Complete: {self.window.label()}. {done}/{len(steps)} step(s) done"
                + (f", {len(r['deviations'])} deviation(s)" if r["deviations"] else "")
                + f"; post-maintenance checks {'passed' if post_ok else 'FAILED'}.")
        self.notify("complete", text)
        r["finished_at"] = self.clock().isoformat()
        self.save()
        self.hand_over()
        self.write_log()
        self.say(f"window {r['outcome']}: {done}/{len(steps)} step(s) done, {len(r['deviations'])} deviation(s); "
                 f"maintenance log: {self.out / 'maintenance-log.md'}")
        return r

    def hand_over(self) -> None:
        """The window's end: the change-request report with the whole window, emailed and attached as configured.
        Nothing here stops the window: an undeliverable mail or a refused upload is recorded and said."""
        from .completion_email import subject_and_body

        post = self.out / "post"
        try:
            rec = json.loads((post / "evidence.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            rec = None
        try:
            if rec is not None:
                links = {k: os.path.relpath(v, post) for k, v in self.record["links"].items()}
                links.update({"Full pytest-html report": "report.html", "JUnit XML": "junit.xml",
                              "Raw evidence (evidence.json)": "evidence.json",
                              "Maintenance log": os.path.relpath(self.out / "maintenance-log.md", post)})
                change_report.write(post, rec, self.record, links)
            subject, body = subject_and_body(rec or {"environment": self.env.name, "window": self.window.as_dict()},
                                             [f"Window: {self.record['outcome']}"] +
                                             [f"Deviation: {d}" for d in self.record["deviations"]])
            got = self.hand_over_fn(self.env, post, list(self.crs), subject, body)
        except Exception as e:  # noqa: BLE001 - the evidence is on disk; handing it over is best effort
            self.say(f"  hand-over failed (the evidence is in {self.out}): {secrets.redact(str(e))}")
            return
        if got.get("email"):
            self.record["notifications"].append(got["email"])
            if not got["email"]["ok"]:
                self.say(f"  completion email NOT delivered (recorded): {got['email']['detail']}")
        self.record["attachments"] = got.get("attachments", [])
        for a in self.record["attachments"]:
            if not a["ok"]:
                self.say(f"  NOT attached to {a['record']}: {a['file']}: {a['detail']}")
        self.save()

    def write_log(self) -> Path:
        """The final maintenance log: the post run's results with the window's record (steps, deviations,
        notifications, including the completion notice the post run could not know about)."""
        try:
            post = json.loads((self.out / "post" / "evidence.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            post = {"checks": [], "exitstatus": (self.record.get("post") or {}).get("ret")}
        nxt = schedule.upcoming(self.cfg.schedule, max(self.window.end, self.clock()), 1)
        path = self.out / "maintenance-log.md"
        links = {k: os.path.relpath(v, self.out) for k, v in self.record["links"].items()}
        links["Maintenance log (this file)"] = "maintenance-log.md"
        text = maintenance_log.render(maintenance_log.Inputs(
            record=post, env_name=self.env.name, window=self.window, next_window=nxt[0] if nxt else None,
            tasks=self.cfg.tasks, performed_by=f"{self.record['performed_by']} ({self.record['operator']})",
            started=self.started, finished=self.clock(), run=self.record,
            waivers={"report": (post.get("waivers") or {}).get("report", [])}, links=links))
        path.write_text(secrets.redact(text))
        return path


# ---- the action ------------------------------------------------------------------------------------------------
@action("window", help="run a maintenance window from a plan: pre checks, baseline, each step verified before the "
                       "next, post checks, notifications, maintenance log",
        params=[param("--plan", required=True, help="the window's plan (TOML; see docs/window.md)"),
                param("--out", default=None, help="evidence folder (default: window.reports_dir/<window>_<time>)")])
def window(ctx, plan: str, out: str | None):
    p = plans.load(ctx.env.path(plan))
    runner = Runner(ctx.env, p, Path(out).resolve() if out else None, say=lambda m: print(m, flush=True))
    validate(p)
    if not ctx.apply:
        for desc, details in runner.describe():
            ctx.step(desc)
            if details:  # Report.as_text indents the first line of an output: indent the rest alike
                ctx.report.steps[-1].output = details.replace("\n", "\n      ")
        return None
    record = runner.run()
    ctx.report.steps.append(_phase_step("pre-maintenance gate", record["pre"]))
    for s in record["steps"]:
        status = {"done": "done", "skipped": "skipped", "planned": "skipped"}.get(s["status"], "failed")
        ctx.report.steps.append(Step(f"step {s['index']}: {s['title']} ({s['action']})", status,
                                     s["output"] if status != "done" else "", s["duration_s"]))
    ctx.report.steps.append(_phase_step("post-maintenance suite", record["post"]))
    undelivered = [n for n in record["notifications"] if not n["ok"]]
    ctx.report.steps.append(Step(f"notifications: {len(record['notifications']) - len(undelivered)} delivered, "
                                 f"{len(undelivered)} not (recorded; the window went on)", "done"))
    ctx.report.steps.append(Step(f"window {record['outcome']}: {len(record['deviations'])} deviation(s)",
                                 "done" if record["outcome"] == "completed" else "failed",
                                 "\n".join(record["deviations"])))
    ctx.evidence.text("evidence", f"{runner.out} (maintenance-log.md, window.json, pre/, post/, baseline.json)")
    return record


def _phase_step(name: str, result: dict | None) -> Step:
    if result is None:
        return Step(name, "skipped", "did not run")
    ok = result["ret"] == 0
    res = CheckResult(**result)
    return Step(f"{name}: {res.summary()}", "done" if ok else "failed",
                "" if ok else "\n".join(result["failed"][:10]), result["duration_s"])
