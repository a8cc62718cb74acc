"""A window's plan: which window, its change requests, the steps (actions) in order with their estimates,
verification checks and rollbacks. One TOML file per window, under change control.

    [window]
    date = 2026-01-11                 # a date of the schedule; "next" = the next window (a standing routine plan)
    performed_by = "DevOps Team"
    rollback = "docs/rollback.md"     # the window's rollback procedure (a step may name its own)

    [[change_requests]]
    id = "CR-1234"
    title = "Monthly reindex"
    approved_by = "jane.doe"

    [[steps]]
    action = "reindex"
    options = { tables = ["users", "projects"] }
    estimate = "40m"
    verify = ["checks/database/test_indexes.py"]
    rollback = "docs/rollback.md#reindex"

``load`` validates it and fails with ONE line naming the file and the key (opsproof.errors.ConfigError).
"""

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from . import schedule as sched
from .config.base import Section
from .config.window import Duration, PositiveDuration, Window, format_duration
from .errors import ConfigError

ROUTINE = "routine.toml"
"""The standing plan of every window that has no dated plan of its own."""


class ChangeRequest(Section):
    id: str = Field(min_length=1)
    title: str = ""
    approved_by: str | None = None
    """Who approved it (runbook T-7 days: 'Review and approve change requests'); unapproved blocks the window."""
    link: str | None = None


class Step(Section):
    action: str = Field(min_length=1)
    """An action's name (python -m actions --help)."""
    options: dict[str, Any] = {}
    """The action's options, by parameter name (as in its python -m actions NAME --help, without dashes)."""
    estimate: PositiveDuration
    """How long the step may take: a step that cannot finish before the deadline is not started."""
    verify: list[str] = []
    """Checks (paths or node ids under checks/) that must pass before the next step."""
    verify_markers: str | None = None
    """A pytest -m expression selecting more verification checks."""
    rollback: str | None = None
    """An action to run if the step or its verification fails, or a procedure (a file or URL) to follow."""
    rollback_options: dict[str, Any] = {}
    change_request: str | None = None
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.action


class PlanWindow(Section):
    type: Literal["scheduled", "emergency"] = "scheduled"
    date: dt.date | Literal["next"] | None = None
    """Scheduled windows: the date of the window, or "next"."""
    start: dt.datetime | Literal["now"] | None = None
    """Emergency windows: when it starts ("now" when the runner starts)."""
    duration: PositiveDuration | None = None
    """Shorter than the schedule's window (or an emergency window's length; at most schedule.max_duration)."""
    performed_by: str | None = None
    rollback: str | None = None
    reserve: Duration | None = None
    progress_every: PositiveDuration | None = None

    @model_validator(mode="after")
    def _kind(self):
        if self.type == "scheduled" and self.date is None:
            raise ValueError('a scheduled window needs date = YYYY-MM-DD (or "next")')
        if self.type == "emergency" and (self.start is None or self.duration is None):
            raise ValueError('an emergency window needs start (a time or "now") and duration')
        return self


class PlanChecks(Section):
    pre: str = "pre_maintenance"
    """The -m expression of the gate before the first step."""
    post: str = "post_maintenance"
    paths: list[str] = ["checks"]
    expect_changes: list[str] = []
    """Baseline metrics this plan is meant to change (glob patterns: 'rows.jobs', 'cert.*'): not regressions."""


class NextMaintenance(Section):
    special_tasks: list[str] = []
    """For the log's 'Next Maintenance: Special tasks'."""


class Plan(Section):
    window: PlanWindow
    change_requests: list[ChangeRequest] = []
    steps: list[Step] = []
    checks: PlanChecks = PlanChecks()
    next: NextMaintenance = NextMaintenance()
    path: Path | None = None

    @field_validator("change_requests")
    @classmethod
    def _unique(cls, v):
        ids = [c.id for c in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"change request(s) listed twice: {', '.join(dup)}")
        return v

    @model_validator(mode="after")
    def _links(self):
        known = {c.id for c in self.change_requests}
        for i, s in enumerate(self.steps):
            if s.change_request and s.change_request not in known:
                raise ValueError(f"steps.{i}.change_request: {s.change_request} is not among change_requests")
        return self

    @property
    def name(self) -> str:
        return self.path.name if self.path else "(plan)"

    def rollback_of(self, step: Step) -> str | None:
        return step.rollback or self.window.rollback

    def resolve(self, cfg: Window, at: dt.datetime) -> sched.MaintenanceWindow:
        """The window this plan is for. Raises ConfigError when its date is not a window of the schedule or its
        duration is longer than the schedule allows."""
        w = self.window
        if w.type == "emergency":
            start = at if w.start == "now" else w.start
            if start.tzinfo is None:
                raise ConfigError(f"{self.name}: window.start: give a time zone (e.g. 2026-01-05T14:00:00Z)")
            if w.duration > cfg.schedule.max_duration:
                raise ConfigError(f"{self.name}: window.duration: {format_duration(w.duration)} is longer than "
                                  f"schedule.max_duration ({format_duration(cfg.schedule.max_duration)})")
            return sched.emergency(start.astimezone(dt.timezone.utc), w.duration, cfg.schedule.timezone)
        if w.date == "next":
            found = sched.current_or_next(cfg.schedule, at)
        else:
            found = sched.on(cfg.schedule, w.date)
            if found is None:
                nxt = ", ".join(x.id for x in sched.upcoming(cfg.schedule, at, 3))
                raise ConfigError(f"{self.name}: window.date: {w.date} is not a maintenance window of the schedule "
                                  f"(next: {nxt}); an unscheduled window is type = \"emergency\"")
        if w.duration:
            if w.duration > found.length:
                raise ConfigError(f"{self.name}: window.duration: {format_duration(w.duration)} is longer than "
                                  f"the window ({format_duration(found.length)})")
            found = sched.MaintenanceWindow(found.start, found.start + w.duration, found.kind, found.tz)
        return found


def load(path: Path | str) -> Plan:
    """Load and validate a plan; one line naming the file and the key when it is wrong."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise ConfigError(f"{shown}: no such plan file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{shown}: not valid TOML: {e}") from None
    try:
        return Plan.model_validate({**data, "path": path})
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-")) or "(top level)"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise ConfigError(f"{shown}: {key}: {msg}{more}") from None


def find(cfg: Window, root_path, w: sched.MaintenanceWindow) -> Path | None:
    """The plan for a window: plans_dir/<window id>.toml, else plans_dir/routine.toml, else None.
    root_path resolves plans_dir (Environment.path)."""
    folder = root_path(cfg.plans_dir)
    for name in (f"{w.id}.toml", ROUTINE):
        if (folder / name).is_file():
            return folder / name
    return None
