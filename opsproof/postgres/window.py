"""What the last database maintenance window did: a small JSON record written by `vacuum-analyze --apply` and
`analyze --apply` (and by the sandbox's seed), read by the after-window check.

    >>> write_record(path, Record("vacuum-analyze", started_at=now, vacuumed=["public.jobs"], analyzed=["public.jobs"]))
    >>> read_record(path).vacuumed
    ['public.jobs']

The database itself cannot say which run a VACUUM belonged to, so the run says what it meant to do; the check then
asks the database whether each of those tables really shows a vacuum/analyze after the run began.
"""

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config.database import last_weekly


@dataclass
class Record:
    action: str
    started_at: dt.datetime
    vacuumed: list[str] = field(default_factory=list)
    """Tables (schema.name) the run vacuumed (or meant to: a table whose VACUUM failed is listed too)."""
    analyzed: list[str] = field(default_factory=list)
    finished_at: dt.datetime | None = None


def write_record(path: Path, record: Record) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(record)
    for k in ("started_at", "finished_at"):
        data[k] = data[k].isoformat() if data[k] else None
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def read_record(path: Path) -> Record | None:
    """The last recorded window, or None when no run was recorded."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    for k in ("started_at", "finished_at"):
        data[k] = dt.datetime.fromisoformat(data[k]) if data.get(k) else None
    return Record(**data)


WINDOW_HOURS = 4
"""Runbook: 'Duration: Maximum 4 hours'. Runs that begin within this of the recorded start are one window."""


def merge(previous: Record | None, new: Record) -> Record:
    """The record after `new` ran: a run within the same window (vacuum-analyze, then analyze for good measure)
    adds its tables to the window; a later run starts a new window."""
    if previous is None or not (dt.timedelta(0) <= new.started_at - previous.started_at
                                < dt.timedelta(hours=WINDOW_HOURS)):
        return new
    actions = list(dict.fromkeys(previous.action.split(" + ") + [new.action]))
    return Record(" + ".join(actions), previous.started_at, sorted(set(previous.vacuumed) | set(new.vacuumed)),
                  sorted(set(previous.analyzed) | set(new.analyzed)))


@dataclass(frozen=True)
class Scope:
    """What the after-window check asks of the database: since when, and which tables (None: every table)."""
    since: dt.datetime
    vacuumed: set[str] | None
    analyzed: set[str] | None
    source: str


def scope(record: Record | None, weekly: str | None, now: dt.datetime, where: str) -> Scope | None:
    """The recorded run when it is newer than the weekly job's last run before now ('sun 03:00' UTC), else the
    weekly job (which vacuums every table); None when there is neither. `where` names the record in the source."""
    scheduled = last_weekly(weekly, now) if weekly else None
    if record and (scheduled is None or record.started_at >= scheduled):
        return Scope(record.started_at, set(record.vacuumed), set(record.analyzed),
                     f"recorded run '{record.action}' ({where})")
    if scheduled:
        return Scope(scheduled, None, None, f"weekly job database.window.weekly_vacuum='{weekly}' UTC: every table")
    return None
