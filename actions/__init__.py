"""Actions: the runbook's procedures as plain functions. They change the target only with --apply.

An action is a function registered with ``@action``; it describes its work as steps on ``ctx``. Without
``apply`` a step is only recorded as planned, so a dry run prints exactly what --apply would do:

    @action("analyze", help="ANALYZE the named tables (all when none)",
            params=[param("--tables", nargs="*", default=None)])
    def analyze(ctx, tables):
        for t in tables or all_tables(ctx):
            ctx.step(f"ANALYZE {t}", lambda: ctx.db.execute(f"ANALYZE {t}"))

    python -m actions analyze --env sandbox             # prints the plan
    python -m actions analyze --env sandbox --apply     # does it

Modules in this package register themselves; ``python -m actions --help`` lists every action.
"""

import importlib
import pkgutil
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from opsproof import config, connect, secrets
from opsproof.errors import ActionFailed
from opsproof.evidence import Evidence


@dataclass
class Step:
    description: str
    status: str = "planned"  # planned | done | failed | skipped
    output: str = ""
    duration_s: float = 0.0


@dataclass
class Report:
    action: str
    applied: bool
    steps: list[Step] = field(default_factory=list)
    result: Any = None
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def ok(self) -> bool:
        return all(s.status in ("planned", "done", "skipped") for s in self.steps)

    def as_text(self) -> str:
        head = f"{self.action}: {'applied' if self.applied else 'plan only (add --apply to do it)'}"
        lines = [head] + [f"  [{s.status}] {s.description}" + (f" ({s.duration_s:.2f}s)" if s.duration_s else "")
                          + (f"\n      {s.output}" if s.output else "") for s in self.steps]
        return secrets.redact("\n".join(lines))


class StepFailed(ActionFailed):
    pass


class Context:
    """What an action works with: the environment, whether to apply, connections, and its report."""

    def __init__(self, env: config.Environment, report: Report):
        self.env = env
        self.report = report

    @property
    def apply(self) -> bool:
        return self.report.applied

    @property
    def evidence(self) -> Evidence:
        return self.report.evidence

    @cached_property
    def db(self):
        """A session as the action role (statement and lock timeouts set), autocommit."""
        return connect.database(self.env, role="action")

    def aws(self, service: str, section: str = "aws", region: str | None = None):
        """The section's client (its region and credentials, else [aws]'s)."""
        return connect.aws_client(self.env, service, section, region)

    def step(self, description: str, fn: Callable[[], Any] | None = None, *, always: bool = False) -> Any:
        """Record a step; run fn only with --apply (or always=True for read-only look-ups the plan needs).
        A step that raises is recorded as failed and stops the action."""
        s = Step(description)
        self.report.steps.append(s)
        if fn is None or not (self.apply or always):
            return None
        t0 = time.monotonic()
        try:
            out = fn()
        except Exception as e:
            s.status, s.output, s.duration_s = "failed", secrets.redact(f"{type(e).__name__}: {e}"), \
                time.monotonic() - t0
            raise StepFailed(f"{description}: {s.output}") from e
        s.status, s.duration_s = "done", round(time.monotonic() - t0, 3)
        if isinstance(out, str) and out:
            s.output = secrets.redact(out[-2000:])
        return out

    def skip(self, description: str, why: str) -> None:
        self.report.steps.append(Step(description, "skipped", why))

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()


@dataclass(frozen=True)
class Param:
    flags: tuple[str, ...]
    kwargs: dict


def param(*flags: str, **kwargs) -> Param:
    return Param(flags, kwargs)


@dataclass(frozen=True)
class Action:
    name: str
    help: str
    fn: Callable
    params: tuple[Param, ...] = ()


REGISTRY: dict[str, Action] = {}


def action(name: str, help: str, params: list[Param] = ()):
    def register(fn):
        REGISTRY[name] = Action(name, help, fn, tuple(params))
        return fn

    return register


def all_actions() -> dict[str, Action]:
    for m in pkgutil.iter_modules(__path__):
        if not m.name.startswith("_"):
            importlib.import_module(f"{__name__}.{m.name}")
    return REGISTRY


def run(name: str, env: config.Environment, apply: bool = False, **kwargs) -> Report:
    """Run an action (a plan without apply). Failures are in the report; StepFailed is re-raised."""
    act = all_actions()[name]
    report = Report(name, applied=apply)
    ctx = Context(env, report)
    try:
        report.result = act.fn(ctx, **kwargs)
    finally:
        ctx.close()
    return report
