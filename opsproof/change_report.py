"""The change-request report: one self-contained HTML file a change advisory board reads, made from a run's record
(reports/evidence.json) and, when a window runner ran, its record (window.json). Plain data in, an HTML string out.

    >>> html = render(Inputs(record=json.loads(Path("reports/evidence.json").read_text()),
    ...                      coverage=runbook.coverage().as_rows()))

First the verdict (environment, account, window, change requests, operator, start and end, counts) and what failed,
with its culprits and fix; then the runbook's sections in its order, each check as its sentence with its status,
key measured value and, for a failure, the culprits and the fix; the before/after table; waivers; the window's
steps and deviations; the runbook coverage; links to the full report and the raw evidence. No script, no request:
a Content-Security-Policy forbids every fetch, and the styles print cleanly to PDF.
"""

from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import runbook, secrets
from .baseline import COMPARISON_TITLE
from .completion_email import tally

TEMPLATE = Path(__file__).with_name("templates") / "change_report.html.j2"
BAD = ("alarm", "error")
STATUS_LABEL = {"passed": "PASS", "failed": "FAIL", "waived": "WAIVED", "skipped": "SKIPPED"}


@dataclass
class Inputs:
    record: dict
    coverage: list[dict] = field(default_factory=list)
    """runbook.Coverage.as_rows(); empty: the section is left out."""
    run: dict | None = None
    """The window runner's record (steps, deviations), when one ran."""
    links: dict[str, str] = field(default_factory=dict)
    """Label -> relative href (full pytest-html report, evidence.json, JUnit, maintenance log)."""
    totals: dict[str, int] = field(default_factory=dict)
    checks: dict[str, dict] = field(default_factory=dict)
    """check_index.checks(): each check's whole sentence (the record keeps only its docstring's first line)."""


def when(value) -> str:
    """'2026-01-11 02:00 UTC' from an ISO time (anything else as it is)."""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if t.tzinfo else t.strftime("%Y-%m-%d %H:%M")


def took(seconds) -> str:
    """'1 h 12 min', '6 min 52 s', '4.2 s' from seconds."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return str(seconds or "")
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    return f"{m // 60} h {m % 60} min" if m >= 60 else f"{m} min {sec} s"


def check_view(c: dict, known: dict | None = None, cov: "runbook.Coverage | None" = None) -> dict:
    """A check as the report shows it: its sentence, status, key measured value, culprits and fix."""
    found = c.get("findings") or []
    bad = [f for f in found if f.get("status") in BAD]
    if c["outcome"] == "waived":
        bad = [f for f in found if f.get("status") == "waived"]
    key = next((f for f in bad if f.get("measured")), None) or next((f for f in found if f.get("measured")), None)
    measured = ""
    if key is not None:
        measured = f"{key['measured']}" + (f" (limit {key['limit']})" if key.get("limit") else "")
    else:
        value = next((e for e in c.get("evidence", []) if e.get("kind") == "value"), None)
        if value is not None:
            v, unit = value["payload"]
            measured = f"{value['title']}: {v}{(' ' + unit) if unit else ''}"
    name = c["nodeid"].split("::")[-1].split("[")[0]
    culprits = [{"subject": f.get("subject") if f.get("subject") != name else None, "reason": f.get("reason"), "measured": f.get("measured"),
                 "limit": f.get("limit"), "key": f.get("key")} for f in bad]
    fixes = list(dict.fromkeys(f["fix"] for f in bad if f.get("fix")))
    doc = ((known or {}).get(name) or {}).get("doc") or c.get("doc") or name  # the whole sentence, not its first line
    return {"name": name, "nodeid": c["nodeid"], "doc": doc, "steps": cov.steps_of(name) if cov else [], "outcome": c["outcome"],
            "label": STATUS_LABEL.get(c["outcome"], c["outcome"].upper()), "measured": measured,
            "culprits": culprits[:12], "more": max(0, len(culprits) - 12), "fixes": fixes,
            "message": c.get("message") or "", "markers": c.get("markers", []),
            "skip_reason": next((f.get("reason") for f in found if f.get("status") == "skip"), "")}


def view(inp: Inputs) -> dict:
    r, run = inp.record, inp.run or {}
    cov = runbook.Coverage(runbook.SECTIONS)
    checks = [check_view(c, inp.checks, cov) for c in r.get("checks", [])]
    counts = tally(r.get("checks", []))
    by_section: dict[str, list[dict]] = {s.key: [] for s in runbook.SECTIONS}
    for c in checks:
        folder = c["nodeid"].split("/")[1:2] if c["nodeid"].startswith("checks/") else []  # checks/security/...
        by_section[cov.section_of(c["name"], [*folder, *c["markers"]])].append(c)
    order = {"failed": 0, "waived": 1, "passed": 2, "skipped": 3}
    sections = []
    for s in runbook.SECTIONS:
        items = sorted(by_section[s.key], key=lambda c: order.get(c["outcome"], 0))
        sections.append({"key": s.key, "title": s.title, "checks": items, "counts": tally(
            [{"outcome": c["outcome"]} for c in items])})
    window = r.get("window") or run.get("window") or {}
    crs = [r["change_request"]] if r.get("change_request") else []
    crs += [c.get("id") for c in run.get("change_requests", []) if c.get("id") not in crs]
    target = r.get("target") or {}
    failed = [c for c in checks if c["outcome"] == "failed"]
    broken = r.get("exitstatus") not in (0, None) and not checks  # the run itself broke: nothing to show
    verdict = "FAILED" if failed or broken else ("PASSED WITH WAIVERS" if counts["waived"] else "PASSED")
    if run.get("deviations") and verdict == "PASSED":
        verdict = "PASSED WITH DEVIATIONS"
    comparison = None
    for c in r.get("checks", []):
        for e in c.get("evidence", []):
            if e.get("kind") == "table" and e.get("title") == COMPARISON_TITLE:
                comparison = e.get("payload")
    waivers = r.get("waivers") or {}
    return {
        "title": f"Change request {', '.join(crs)}" if crs else f"Verification of {r.get('environment')}",
        "verdict": verdict, "verdict_class": "fail" if verdict == "FAILED" else
        ("warn" if verdict != "PASSED" else "pass"),
        "facts": [("Environment", r.get("environment") or "—"),
                  ("AWS account", target.get("account") or "—"),
                  ("Identity", target.get("caller_arn") or "—"),
                  ("Window", window.get("label") or window.get("id") or "not a window run"),
                  ("Change requests", ", ".join(crs) or "none"),
                  ("Operator", run.get("operator") or r.get("operator") or "—"),
                  ("Started", when(run.get("started_at") or r.get("started_at") or "—")),
                  ("Finished", when(run.get("finished_at") or r.get("finished_at") or "—")),
                  ("Checks run", r.get("markexpr") or "all selected")],
        "counts": counts, "failed": failed, "sections": sections, "comparison": comparison,
        "waivers": (waivers.get("active") or []) + [{**w, "expired": True} for w in waivers.get("expired") or []],
        "waiver_report": waivers.get("report") or [],
        "waived": [c for c in checks if c["outcome"] == "waived"],
        "run": run or None, "coverage": _coverage_groups(inp.coverage), "totals": inp.totals,
        "history": (r.get("history") or {}).get("html"), "links": inp.links,
        "runbook": runbook.NAME,
    }


def _coverage_groups(rows: list[dict]) -> list[dict]:
    out: list[dict] = []
    for row in rows:
        if not out or out[-1]["section"] != row["section"]:
            out.append({"section": row["section"], "rows": []})
        out[-1]["rows"].append(row)
    return out


def write(out: Path, record: dict, run: dict | None = None, links: dict[str, str] | None = None,
          name: str = "change-request.html") -> Path:
    """Render the report of a run's record (and its window run) with the runbook coverage into out/name."""
    from . import check_index

    cov = runbook.Coverage(runbook.SECTIONS, check_index.checks())  # the steps name the actions: no registry needed
    path = Path(out) / name
    path.write_text(render(Inputs(record=record, coverage=cov.as_rows(), run=run, links=links or {},
                                  totals=cov.totals(), checks=cov.checks)))
    return path


def render(inp: Inputs) -> str:
    # lenient about missing keys: records come from runs of many versions; what is absent is left out
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["took"] = took
    text = env.get_template(TEMPLATE.name).render(v=view(inp))
    return secrets.redact(text)
