"""What the history says about each check, from plain rows (opsproof/history/store.py's Row), the same for
`python -m opsproof history` and the report's section:

- pass rate per check over each window (30 and 90 days): passed / (passed + failed + waived); skips do not count
- flaky: flipped between green and red from one run to the next while its evidence stayed the same
- never red in 90 days: can that check fail?
- time from first red to green: each red spell's length, the latest and the longest
- trends of key measured values (findings' numeric `measured`, by their configuration key)
"""

import base64
import datetime as dt
import fnmatch
import html
from dataclasses import dataclass, field

from .store import Row

DAY_S = 86400.0
RED = ("failed", "waived")


@dataclass
class CheckHistory:
    nodeid: str
    runs: int = 0
    ran: int = 0
    """Runs in which it was not skipped: a check only ever skipped was never red, and never green either."""
    pass_rate: dict[int, float | None] = field(default_factory=dict)
    flips_same_evidence: int = 0
    red_in_window: int = 0
    red_spells_s: list[float] = field(default_factory=list)
    red_since: float | None = None
    """Red since this time (epoch s) and not yet green again."""


@dataclass
class Summary:
    now: float
    runs: int
    checks: list[CheckHistory]
    never_red_days: int
    windows: list[int]
    trends: dict[tuple[str, str], list[tuple[float, float]]]

    @property
    def flaky(self) -> list[CheckHistory]:
        return [c for c in self.checks if c.flips_same_evidence]

    @property
    def never_red(self) -> list[CheckHistory]:
        return [c for c in self.checks if c.ran and not c.red_in_window]

    def as_dict(self) -> dict:
        return {
            "runs": self.runs,
            "pass_rate": {c.nodeid: {f"{d}d": r for d, r in c.pass_rate.items()} for c in self.checks},
            "flaky": {c.nodeid: c.flips_same_evidence for c in self.flaky},
            f"never_red_{self.never_red_days}d": [c.nodeid for c in self.never_red],
            "red_to_green_s": {c.nodeid: {"latest": c.red_spells_s[-1], "longest": max(c.red_spells_s),
                                          "spells": len(c.red_spells_s)} for c in self.checks if c.red_spells_s},
            "red_since": {c.nodeid: _iso(c.red_since) for c in self.checks if c.red_since is not None},
            "trends": {f"{k} {s}": len(points) for (k, s), points in self.trends.items()},
        }


def summarize(rows: list[Row], now: float, windows: list[int], never_red_days: int,
              trend_keys: list[str]) -> Summary:
    by_check: dict[str, list[Row]] = {}
    for r in sorted(rows, key=lambda r: (r.finished_at, r.run_id)):
        by_check.setdefault(r.nodeid, []).append(r)
    checks = []
    for nodeid, rs in sorted(by_check.items()):
        c = CheckHistory(nodeid, runs=len(rs))
        for days in windows:
            counted = [r for r in rs if r.finished_at >= now - days * DAY_S and r.outcome != "skipped"]
            c.pass_rate[days] = (sum(r.outcome == "passed" for r in counted) / len(counted)) if counted else None
        c.red_in_window = sum(r.outcome in RED for r in rs if r.finished_at >= now - never_red_days * DAY_S)
        ran = [r for r in rs if r.outcome != "skipped"]
        c.ran = len(ran)
        for a, b in zip(ran, ran[1:]):
            if (a.outcome in RED) != (b.outcome in RED) and a.evidence_digest and a.evidence_digest == b.evidence_digest:
                c.flips_same_evidence += 1
        red_from = None
        for r in ran:
            if r.outcome in RED and red_from is None:
                red_from = r.finished_at
            elif r.outcome == "passed" and red_from is not None:
                c.red_spells_s.append(r.finished_at - red_from)
                red_from = None
        c.red_since = red_from
        checks.append(c)
    trends: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in rows:
        for key, subject, value in r.measurements:
            if any(fnmatch.fnmatch(key, p) for p in trend_keys):
                trends.setdefault((key, subject), []).append((r.finished_at, value))
    for points in trends.values():
        points.sort()
    return Summary(now, len({r.run_id for r in rows}), checks, never_red_days, list(windows), trends)


# ---- as text (the command line) and as HTML (the reports) -------------------------------------------------------
def _iso(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def _pct(r: float | None) -> str:
    return "—" if r is None else f"{r * 100:.0f} %"


def _duration(s: float) -> str:
    return f"{s / 86400:.1f} d" if s >= 86400 else f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min"


def _name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


def lines(s: Summary) -> list[str]:
    import statistics  # the command line's; the plugin never needs it (collection stays fast)

    out = [f"{s.runs} run(s) in the last {max(s.windows + [s.never_red_days])} days"]
    w = " ".join(f"{d:>4}d" for d in s.windows)
    out.append(f"pass rate {w}  check")
    for c in s.checks:
        out.append("          " + " ".join(f"{_pct(c.pass_rate[d]):>5}" for d in s.windows) + f"  {c.nodeid}")
    out += [f"flaky (flipped {c.flips_same_evidence}x with the same evidence): {c.nodeid}" for c in s.flaky]
    out += [f"never red in {s.never_red_days} days ({c.ran} runs): {c.nodeid}" for c in s.never_red]
    for c in s.checks:
        if c.red_spells_s:
            out.append(f"red to green: {c.nodeid}: latest {_duration(c.red_spells_s[-1])}, longest "
                       f"{_duration(max(c.red_spells_s))} ({len(c.red_spells_s)} spell(s))")
        if c.red_since is not None:
            out.append(f"red since {_iso(c.red_since)}: {c.nodeid}")
    for (key, subject), points in s.trends.items():
        values = [v for _, v in points]
        out.append(f"trend {key} {subject}: {len(values)} point(s), last {values[-1]:g}, "
                   f"min {min(values):g}, max {max(values):g}, median {statistics.median(values):g}")
    return out


def fragment(s: Summary, max_charts: int) -> str:
    """The history section for the HTML reports: tables, and a chart per trend (matplotlib, drawn on demand)."""
    e, never = html.escape, s.never_red
    head = "".join(f"<th>{d} days</th>" for d in s.windows)
    rows = "".join(
        f"<tr><td>{e(_name(c.nodeid))}</td>" + "".join(f"<td>{_pct(c.pass_rate[d])}</td>" for d in s.windows) +
        f"<td>{c.runs}</td><td>{c.flips_same_evidence or ''}</td>"
        f"<td>{_duration(c.red_spells_s[-1]) if c.red_spells_s else ''}</td>"
        f"<td>{'never red' if c in never else ''}</td></tr>" for c in s.checks)
    parts = [f"<h3>History</h3><p>{s.runs} run(s) of this environment in the last "
             f"{max(s.windows + [s.never_red_days])} days.</p>",
             f"<table border='1'><tr><th>check</th>{head}<th>runs</th><th>flips with the same evidence</th>"
             f"<th>last red to green</th><th>never red in {s.never_red_days} days</th></tr>{rows}</table>"]
    if s.flaky:
        parts.append("<p><b>Flaky</b> (flipped with no change in their evidence): " +
                     ", ".join(e(_name(c.nodeid)) for c in s.flaky) + "</p>")
    if s.never_red:
        parts.append(f"<p><b>Never red in {s.never_red_days} days</b> (can they fail?): " +
                     ", ".join(e(_name(c.nodeid)) for c in s.never_red) + "</p>")
    drawn = 0
    for (key, subject), points in s.trends.items():
        if drawn < max_charts and len(points) >= 2:
            from .. import charts

            png = charts.series_chart(f"{key} — {subject}", [t for t, _ in points], [v for _, v in points])
            parts.append(f"<img alt='{e(key)} {e(subject)}' src='data:image/png;base64,"
                         f"{base64.b64encode(png).decode()}'/>")
            drawn += 1
        else:
            values = [v for _, v in points]
            parts.append(f"<p>trend {e(key)} {e(subject)}: last {values[-1]:g} ({len(values)} point(s))</p>")
    return "".join(parts)
