"""Judgement as data: a rule turns a probe's facts and the configured limits into Findings, and every output of a
check (its assertion message, its evidence table, evidence.json) is made from them.

    >>> found = rules.storage.replication(cfg, env.storage)          # facts + limits -> [Finding, ...]
    >>> findings.expect_no_alarm(found, evidence)                    # evidence table, then one assertion

A Finding names what a person must look at (``subject``: a bucket, table, ARN, host, service), why in one line
(``reason``), the measured value and the limit, the configuration key that sets the limit, and the fix (an action
command or a runbook step) where there is one. Powerpipe's controls return the same status/reason/resource rows.
"""

from dataclasses import dataclass
from typing import Any, Iterable

OK, ALARM, ERROR, SKIP, WAIVED = "ok", "alarm", "error", "skip", "waived"
STATUSES = (OK, ALARM, ERROR, SKIP, WAIVED)


@dataclass(frozen=True)
class Finding:
    status: str
    subject: str
    reason: str
    measured: Any = None
    limit: Any = None
    key: str | None = None
    """The configuration key that sets the limit (section.key), so a person knows where the threshold lives."""
    fix: str | None = None
    """What to do: an action (``python -m actions NAME``) or the runbook's step."""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @property
    def failing(self) -> bool:
        return self.status in (ALARM, ERROR)

    def line(self) -> str:
        """One line a tired person can act on: subject, reason, where the limit is set, the fix."""
        text = f"{self.subject}: {self.reason}"
        if self.key:
            text += f" ({self.key})"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text

    def row(self) -> dict:
        return {"status": self.status, "subject": self.subject, "reason": self.reason, "measured": self.measured,
                "limit": self.limit, "key": self.key, "fix": self.fix}


def from_row(row: dict) -> Finding:
    return Finding(**{k: row.get(k) for k in ("status", "subject", "reason", "measured", "limit", "key", "fix")})


def ok(subject: str, reason: str = "as required", **kw) -> Finding:
    return Finding(OK, subject, reason, **kw)


def alarm(subject: str, reason: str, **kw) -> Finding:
    return Finding(ALARM, subject, reason, **kw)


def failing(found: Iterable[Finding]) -> list[Finding]:
    return [f for f in found if f.failing]


def message(found: Iterable[Finding]) -> str:
    """Every alarm and error, one line each, joined: the assertion message."""
    return "; ".join(f.line() for f in failing(found))


def expect_no_alarm(found: Iterable[Finding], evidence=None, title: str = "findings") -> None:
    """Record the findings as the check's evidence, then fail listing every alarm's subject, reason and fix."""
    found = list(found)
    if evidence is not None:
        evidence.findings(title, found)
    bad = failing(found)
    if bad:
        raise AssertionError(message(bad))
