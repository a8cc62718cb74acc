"""The maintenance schedule, the window runner, notifications, the baseline's tolerances, waivers and the
maintenance log's task list (runbook: "Scheduled Maintenance Windows" and "Maintenance Log Template").

Durations are written the way people say them: "30m", "4h", "1h30m", "7d", "90s".
"""

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, HttpUrl, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator, \
    model_validator

from .base import Section
from .change_record import Attach, Email
from .target import AwsTarget

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[dhms])+$")


def parse_duration(value) -> dt.timedelta:
    """'1h30m' → 1:30:00. Accepts a timedelta as is; a bare number is refused (minutes or seconds?).

    >>> parse_duration("1h30m"), parse_duration("7d"), parse_duration("0.5s")
    (datetime.timedelta(seconds=5400), datetime.timedelta(days=7), datetime.timedelta(microseconds=500000))
    """
    if isinstance(value, dt.timedelta):
        return value
    text = str(value).strip().replace(" ", "").lower()
    if isinstance(value, (int, float)) or not _DURATION.match(text):
        raise ValueError(f"not a duration: {value!r} (write e.g. '30m', '4h', '1h30m', '7d', '90s')")
    seconds = sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([dhms])", text))
    return dt.timedelta(seconds=seconds)


def format_duration(d: dt.timedelta) -> str:
    """The inverse of parse_duration, rounded to seconds: 5400 s → '1h30m'; negative durations get a '-'."""
    total = int(round(d.total_seconds()))
    sign, total = ("-", -total) if total < 0 else ("", total)
    if total == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        n, total = divmod(total, size)
        if n:
            parts.append(f"{n}{unit}")
    return sign + "".join(parts)


def _positive(d: dt.timedelta) -> dt.timedelta:
    if d <= dt.timedelta(0):
        raise ValueError("must be longer than zero")
    return d


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[dt.timedelta, BeforeValidator(lambda v: _positive(parse_duration(v)))]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Schedule(Section):
    """When windows happen. Runbook: bi-weekly, 2nd and 4th Sunday of each month, 02:00–06:00 UTC, at most 4 hours,
    7 days' advance notice."""

    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "sunday"
    weeks: list[Annotated[int, Field(ge=-1, le=5)]] = [2, 4]
    """Which occurrences of the weekday in a month: 1..5, or -1 for the last."""
    start: dt.time = dt.time(2, 0)
    end: dt.time = dt.time(6, 0)
    """An end at or before the start means the next day (a window across midnight)."""
    timezone: str = "UTC"
    max_duration: PositiveDuration = dt.timedelta(hours=4)
    """A window never runs longer than this, whatever start and end say (runbook: 'Maximum 4 hours')."""
    notice: PositiveDuration = dt.timedelta(days=7)
    """Users are told this long before a window (runbook: '7 days advance notice'); also the T-7 days phase."""
    skip: list[dt.date] = []
    """Dates that have no window (holidays, change freezes)."""

    @field_validator("weeks")
    @classmethod
    def _weeks(cls, v):
        if not v or 0 in v:
            raise ValueError("list the weeks of the month: 1..5, or -1 for the last (0 is not a week)")
        return sorted(set(v), key=lambda n: 6 if n == -1 else n)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as 'UTC' or 'Europe/Berlin')") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def length(self) -> dt.timedelta:
        """The window's length: start to end, capped at max_duration."""
        day = dt.date(2000, 1, 1)
        s, e = dt.datetime.combine(day, self.start), dt.datetime.combine(day, self.end)
        if e <= s:
            e += dt.timedelta(days=1)
        return min(e - s, self.max_duration)


class Slack(Section):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat). The URL of a real webhook is a secret:
    give the name of the environment variable holding it (webhook_url_env); webhook_url is for receivers whose URL is
    not secret (the sandbox's)."""

    webhook_url: HttpUrl | None = None
    webhook_url_env: str | None = "OPSPROOF_SLACK_WEBHOOK_URL"
    channel: str | None = "#ops-alerts"
    """Where progress goes (runbook: 'Post progress in Slack #ops-alerts'); honoured by webhooks that allow it."""
    announce_channel: str | None = "#engineering"
    """Where the T-7 days announcement goes (runbook: 'Post notification in Slack #engineering')."""


class StatusPage(Section):
    """A Statuspage-compatible API (api.statuspage.io/v1): scheduled maintenances are incidents with scheduled_for /
    scheduled_until. The token comes from the environment (token_env) or, for the sandbox, a file."""

    api_url: HttpUrl = HttpUrl("https://api.statuspage.io/v1")
    page_id: str
    token_env: str | None = "OPSPROOF_STATUSPAGE_TOKEN"
    token_file: Path | None = None
    component_ids: list[str] = []
    """Components the maintenance affects (shown on the page)."""


class Notify(Section):
    """Where start, progress and completion go. An undeliverable notification is recorded, never stops a window."""

    slack: Slack | None = None
    status_page: StatusPage | None = None
    email: Email | None = None
    """The completion email (runbook: "Send completion email to stakeholders")."""
    timeout_s: PositiveFloat = 5.0
    """Per attempt."""
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_wait_s: PositiveFloat = 1.0
    """Wait before the first retry; doubles after each (tenacity's exponential wait, capped at 10 s)."""


class Baseline(Section):
    """The system's state before a window and how far after may differ before it is a regression."""

    tables: list[str] = ["users", "projects", "jobs", "assets"]
    """Main tables whose row counts are recorded (runbook's validation queries)."""
    latency_paths: list[str] = ["/health"]
    """API paths (under services.api.base_url) whose p95 response time is sampled."""
    latency_samples: Annotated[int, Field(ge=5, le=1000)] = 20
    metrics_lookback: PositiveDuration = dt.timedelta(minutes=30)
    """CloudWatch metrics (database CPU, free storage) are read over this long before the snapshot."""
    ecs_cluster: str | None = None
    ecs_services: list[str] = []
    """ECS services whose deployed task definitions are recorded."""
    api_p95_tolerance_pct: NonNegativeFloat = 25.0
    api_p95_floor_ms: NonNegativeFloat = 50.0
    """A p95 change smaller than this is noise, whatever its percentage."""
    db_cpu_tolerance_points: NonNegativeFloat = 20.0
    """Percentage points of CPU the database may gain."""
    storage_tolerance_pct: NonNegativeFloat = 10.0
    rows_drop_tolerance_pct: NonNegativeFloat = 1.0
    """Main tables may lose at most this share of rows (archiving is declared in a plan's expect_changes)."""
    max_age: PositiveDuration = dt.timedelta(hours=12)
    """An older baseline is stale: the post-maintenance comparison refuses it."""


class LogTask(Section):
    """A line of the maintenance log's 'Tasks Completed': ticked when every check of its area that ran passed (and at
    least one ran), and every window step of its actions succeeded."""

    label: str
    area: str
    actions: list[str] = []


RUNBOOK_TASKS = [
    LogTask(label="Database maintenance (vacuum, analyze)", area="database",
            actions=["vacuum-analyze", "analyze", "reindex", "archive-jobs", "db-parameters"]),
    LogTask(label="Security patches applied", area="infrastructure", actions=["patch-hosts", "force-deploy"]),
    LogTask(label="Certificate verification", area="certificates", actions=["renew-certificate"]),
    LogTask(label="Backup validation", area="backups", actions=["snapshot", "restore-drill", "logical-restore-drill"]),
    LogTask(label="Capacity review", area="capacity"),
]


class Window(AwsTarget):
    """The maintenance schedule and window runner."""

    schedule: Schedule = Schedule()
    prepare_lead: PositiveDuration = dt.timedelta(hours=24)
    """T-24 h: backup, rollback procedures, access and credentials."""
    final_lead: PositiveDuration = dt.timedelta(hours=1)
    """T-1 h: status page, snapshot of the system's state."""
    plans_dir: Path = Path("plans")
    """Plans by window: plans/2026-01-11.toml, else plans/routine.toml (relative to the project folder)."""
    reports_dir: Path = Path("reports/windows")
    """Each window run leaves its evidence in a folder here."""
    performed_by: str = "DevOps Team"
    reserve: Duration = dt.timedelta(minutes=30)
    """Time kept at a window's end for the post-maintenance suite and watching the dashboards (runbook: '30
    minutes'); no step starts that would eat into it."""
    progress_every: PositiveDuration = dt.timedelta(minutes=30)
    """Runbook: 'Update status page every 30 minutes'."""
    post_grace: PositiveDuration = dt.timedelta(hours=12)
    """A run this soon after a window's end belongs to that window (its report and maintenance log say so)."""
    aws_account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    """T-24 h: the AWS identity must be in this account (unset: any identity that answers)."""
    waivers_file: Path = Path("waivers.toml")
    waiver_max_days: PositiveInt = 90
    """A waiver may not expire later than this many days from today (no permanent waivers)."""
    check_run_timeout: PositiveDuration = dt.timedelta(hours=1)
    """Bound of each pytest run the window runner starts (pre, verification, post)."""
    notify: Notify = Notify()
    attach: Attach = Attach()
    """The change record the window's evidence is attached to at its end."""
    baseline: Baseline = Baseline()
    tasks: list[LogTask] = RUNBOOK_TASKS
    """The maintenance log's 'Tasks Completed' (runbook template)."""

    @model_validator(mode="after")
    def _leads(self):
        if not self.final_lead < self.prepare_lead < self.schedule.notice:
            raise ValueError("phases must come in order: final_lead < prepare_lead < schedule.notice "
                             f"(got {format_duration(self.final_lead)}, {format_duration(self.prepare_lead)}, "
                             f"{format_duration(self.schedule.notice)})")
        if self.reserve >= self.schedule.length:
            raise ValueError(f"reserve ({format_duration(self.reserve)}) leaves no time in a "
                             f"{format_duration(self.schedule.length)} window")
        return self
