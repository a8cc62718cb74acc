"""Maintenance windows from the schedule, and where a moment stands relative to one (its phase).

    >>> s = Schedule()                                  # runbook: 2nd and 4th Sunday, 02:00–06:00 UTC
    >>> [w.id for w in upcoming(s, utc(2026, 1, 1), 3)]
    ['2026-01-11', '2026-01-25', '2026-02-08']
    >>> w = upcoming(s, utc(2026, 1, 1))[0]
    >>> phase(w, utc(2026, 1, 10, 3), Window())         # 23 h before the start
    'prepare'

Phases, in order: ``early`` (before the notice period), ``announce`` (T-7 days: announced, change requests
listed), ``prepare`` (T-24 h: backup, rollback, access), ``final`` (T-1 h: status page, snapshot), ``open`` (the
window is running), ``closed`` (it has ended). A phase's checks are due from the phase on.
"""

import datetime as dt
from dataclasses import dataclass

from .config.window import Schedule, Window, format_duration

PHASES = ("early", "announce", "prepare", "final", "open", "closed")
CHECK_PHASES = ("announce", "prepare", "final")
ALIASES = {"t-7d": "announce", "t-24h": "prepare", "t-1h": "final"}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class MaintenanceWindow:
    start: dt.datetime
    end: dt.datetime
    kind: str = "scheduled"  # scheduled | emergency
    tz: str = "UTC"

    @property
    def id(self) -> str:
        """'2026-01-11' for a scheduled window (its date where the schedule lives); emergency-20260105T1412Z."""
        if self.kind == "scheduled":
            return self.local_start.date().isoformat()
        return f"emergency-{self.start.astimezone(dt.timezone.utc):%Y%m%dT%H%MZ}"

    @property
    def local_start(self) -> dt.datetime:
        from zoneinfo import ZoneInfo

        return self.start.astimezone(ZoneInfo(self.tz))

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    def label(self) -> str:
        """'2026-01-11 (Sun) 02:00–06:00 UTC'."""
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(self.tz)
        s, e = self.start.astimezone(tz), self.end.astimezone(tz)
        end = f"{e:%H:%M}" if e.date() == s.date() else f"{e:%Y-%m-%d %H:%M}"
        return f"{s:%Y-%m-%d (%a) %H:%M}–{end} {s.tzname()}" + (" (emergency)" if self.kind == "emergency" else "")

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "tz": self.tz, "label": self.label()}

    @classmethod
    def from_dict(cls, d: dict) -> "MaintenanceWindow":
        return cls(dt.datetime.fromisoformat(d["start"]), dt.datetime.fromisoformat(d["end"]), d.get("kind",
                   "scheduled"), d.get("tz", "UTC"))

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


def emergency(start: dt.datetime, length: dt.timedelta, tz: str = "UTC") -> MaintenanceWindow:
    """An unscheduled window (runbook's log: 'Type: Emergency')."""
    return MaintenanceWindow(start, start + length, "emergency", tz)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date | None:
    first = dt.date(year, month, 1)
    if n == -1:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    return day if day.month == month else None


def on(schedule: Schedule, date: dt.date) -> MaintenanceWindow | None:
    """The scheduled window on that date (in the schedule's time zone), or None."""
    wd = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday").index(schedule.weekday)
    if date in schedule.skip:
        return None
    for n in schedule.weeks:
        if _nth_weekday(date.year, date.month, wd, n) == date:
            start = dt.datetime.combine(date, schedule.start, tzinfo=schedule.tz)
            return MaintenanceWindow(start.astimezone(dt.timezone.utc),
                                     (start.astimezone(dt.timezone.utc) + schedule.length), "scheduled",
                                     schedule.timezone)
    return None


def upcoming(schedule: Schedule, after: dt.datetime, count: int = 6) -> list[MaintenanceWindow]:
    """The next `count` windows that have not ended at `after` (a window in progress comes first)."""
    wd = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday").index(schedule.weekday)
    local = after.astimezone(schedule.tz)
    year, month = local.year, local.month
    found: list[MaintenanceWindow] = []
    for _ in range(count * 3 + 24):  # every month has a window unless all its dates are skipped
        days = sorted({d for n in schedule.weeks if (d := _nth_weekday(year, month, wd, n))})
        for day in days:
            w = on(schedule, day)
            if w and w.end > after:
                found.append(w)
                if len(found) == count:
                    return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def previous(schedule: Schedule, before: dt.datetime) -> MaintenanceWindow | None:
    """The last window that ended at or before `before`."""
    probe = before - dt.timedelta(days=40)
    last = None
    for w in upcoming(schedule, probe, 12):
        if w.end <= before:
            last = w
    return last


def current_or_next(schedule: Schedule, at: dt.datetime) -> MaintenanceWindow:
    return upcoming(schedule, at, 1)[0]


def belongs_to(window_cfg: Window, at: dt.datetime) -> MaintenanceWindow:
    """The window a run at `at` is about: the one in progress; else one that ended less than post_grace ago (a
    post-maintenance run); else the next one (a pre-maintenance run)."""
    nxt = current_or_next(window_cfg.schedule, at)
    if at in nxt:
        return nxt
    prev = previous(window_cfg.schedule, at)
    if prev and at - prev.end < window_cfg.post_grace:
        return prev
    return nxt


def phase_starts(w: MaintenanceWindow, cfg: Window) -> dict[str, dt.datetime]:
    """When each phase of a window begins."""
    if w.kind == "emergency":  # no notice: every preparation phase is due at once
        return {"announce": w.start, "prepare": w.start, "final": w.start, "open": w.start, "closed": w.end}
    return {"announce": w.start - cfg.schedule.notice, "prepare": w.start - cfg.prepare_lead,
            "final": w.start - cfg.final_lead, "open": w.start, "closed": w.end}


def phase(w: MaintenanceWindow, at: dt.datetime, cfg: Window) -> str:
    current = "early"
    for name, begins in phase_starts(w, cfg).items():
        if at >= begins:
            current = name
    return current


def is_due(check_phase: str, current: str) -> bool:
    """Are the checks of check_phase due when the window is in phase `current`?"""
    return PHASES.index(current) >= PHASES.index(check_phase)


def normalise_phase(name: str) -> str:
    """'t-24h' → 'prepare'; 'auto' stays; an unknown name raises ValueError listing the known ones."""
    n = ALIASES.get(name.lower(), name.lower())
    if n not in (*CHECK_PHASES, "auto"):
        raise ValueError(f"unknown phase {name!r}: use auto, announce (t-7d), prepare (t-24h) or final (t-1h)")
    return n


def describe(w: MaintenanceWindow, at: dt.datetime, cfg: Window) -> str:
    """'2026-01-11 (Sun) 02:00–06:00 UTC — in 3d4h, phase prepare (T-24h)'."""
    p = phase(w, at, cfg)
    if p == "open":
        when = f"in progress, {format_duration(w.end - at)} left"
    elif p == "closed":
        when = f"ended {format_duration(at - w.end)} ago"
    else:
        when = f"starts in {format_duration(_minutes(w.start - at))}"
    return f"{w.label()} — {when}, phase {p}"


def _minutes(d: dt.timedelta) -> dt.timedelta:
    return dt.timedelta(minutes=int(d.total_seconds() // 60))


def ics(windows: list[MaintenanceWindow], summary: str = "Scheduled maintenance", stamp: dt.datetime | None = None,
        description: str = "") -> str:
    """An iCalendar file of the windows (runbook T-7 days: 'Schedule maintenance window in calendar')."""
    stamp = stamp or now()

    def fmt(t: dt.datetime) -> str:
        return t.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//opsproof//maintenance windows//EN", "CALSCALE:GREGORIAN"]
    for w in windows:
        lines += ["BEGIN:VEVENT", f"UID:opsproof-window-{w.id}@opsproof", f"DTSTAMP:{fmt(stamp)}",
                  f"DTSTART:{fmt(w.start)}", f"DTEND:{fmt(w.end)}", f"SUMMARY:{summary} {w.id}",
                  *([f"DESCRIPTION:{description}"] if description else []), "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
