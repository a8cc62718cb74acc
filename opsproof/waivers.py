"""Waivers: a known failure, accepted for a while, with a justification, an owner and an expiry date.

    [[waiver]]
    check = "test_rds_instance_is_available"   # a check's name, name[param], or node id
    justification = "prod-db is being migrated to a new instance (CR-1240)"
    owner = "dba-team"
    expires = 2026-02-01                        # waived through this date (UTC); it fails again the day after

A waived failure is reported as waived (pytest's xfail: the run stays green) with its justification until the
waiver expires; then the check fails again and the expired waiver is reported. A malformed entry (a key missing or
unknown, a bad date, an expiry further off than window.waiver_max_days) is reported and ignored: the failure it
meant to waive counts. Unlike Prowler's mutelist, every waiver expires; like InSpec's, it is valid through its date.
"""

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

KEYS = {"check", "justification", "owner", "expires"}


@dataclass(frozen=True)
class Waiver:
    check: str
    justification: str
    owner: str
    expires: dt.date
    entry: int
    """1-based position in the file, for messages."""

    def active(self, today: dt.date) -> bool:
        return today <= self.expires

    def describe(self) -> str:
        return f"{self.justification} (owner {self.owner}, until {self.expires.isoformat()})"

    def as_dict(self) -> dict:
        return {"check": self.check, "justification": self.justification, "owner": self.owner,
                "expires": self.expires.isoformat(), "entry": self.entry}


@dataclass(frozen=True)
class Problem:
    entry: int | None
    message: str

    def line(self, path: Path) -> str:
        where = f"{path.name} waiver #{self.entry}" if self.entry else str(path.name)
        return f"{where}: {self.message}"


@dataclass
class Waivers:
    path: Path | None = None
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())
    waivers: list[Waiver] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    @property
    def active(self) -> list[Waiver]:
        return [w for w in self.waivers if w.active(self.today)]

    @property
    def expired(self) -> list[Waiver]:
        return [w for w in self.waivers if not w.active(self.today)]

    def find(self, nodeid: str, name: str, originalname: str) -> Waiver | None:
        """The waiver (active or expired) naming this check: by node id, name with parameters, or bare name; the
        most specific wins."""
        for key in (nodeid, name, originalname):
            for w in self.waivers:
                if w.check == key or (key == nodeid and nodeid.endswith("/" + w.check)):
                    return w
        return None

    def report_lines(self) -> list[str]:
        """What a person must know about the waiver file: malformed and expired waivers, and ones naming no check."""
        if self.path is None:
            return []
        lines = [p.line(self.path) for p in self.problems]
        lines += [f"{self.path.name} waiver #{w.entry}: EXPIRED on {w.expires.isoformat()} ({w.check}, owner "
                  f"{w.owner}): the check counts again" for w in self.expired]
        return lines

    def as_dict(self) -> dict:
        return {"file": str(self.path) if self.path else None, "today": self.today.isoformat(),
                "active": [w.as_dict() for w in self.active], "expired": [w.as_dict() for w in self.expired],
                "problems": [{"entry": p.entry, "message": p.message} for p in self.problems]}


def load(path: Path | None, today: dt.date | None = None, max_days: int = 90) -> Waivers:
    """Read a waiver file. A missing file means no waivers; nothing in it ever raises: problems are collected."""
    out = Waivers(path, today or dt.datetime.now(dt.timezone.utc).date())
    if path is None or not path.is_file():
        return out
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        out.problems.append(Problem(None, f"not valid TOML ({e}): no waiver applies"))
        return out
    unknown_top = sorted(set(data) - {"waiver"})
    if unknown_top:
        out.problems.append(Problem(None, f"unknown key(s) {', '.join(unknown_top)} (entries are [[waiver]] tables)"))
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        out.problems.append(Problem(None, "waiver must be an array of tables ([[waiver]])"))
        return out
    seen: dict[str, int] = {}
    for i, e in enumerate(entries, 1):
        problem = _invalid(e, out.today, max_days)
        if problem:
            out.problems.append(Problem(i, problem))
            continue
        check = e["check"].strip()
        if check in seen:
            out.problems.append(Problem(i, f"{check} is already waived by waiver #{seen[check]}: ignored"))
            continue
        seen[check] = i
        out.waivers.append(Waiver(check, e["justification"].strip(), e["owner"].strip(), e["expires"], i))
    return out


def _invalid(e, today: dt.date, max_days: int) -> str | None:
    if not isinstance(e, dict):
        return "not a table"
    missing = sorted(KEYS - set(e))
    if missing:
        return f"missing {', '.join(missing)} (a waiver needs check, justification, owner and expires)"
    unknown = sorted(set(e) - KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}"
    for key in ("check", "justification", "owner"):
        if not isinstance(e[key], str) or not e[key].strip():
            return f"{key} must be a non-empty string"
    exp = e["expires"]
    if isinstance(exp, dt.datetime) or not isinstance(exp, dt.date):
        return f"expires must be a date like 2026-02-01 (got {exp!r})"
    if exp > today + dt.timedelta(days=max_days):
        return (f"expires {exp.isoformat()} is more than {max_days} days away (window.waiver_max_days): waivers are "
                "temporary")
    return None
