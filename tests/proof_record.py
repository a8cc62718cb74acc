"""What the proofs saw, per check: passing on the healthy sandbox, failing (naming its culprits) under which faults.

`CheckRun.assert_passed` on an unbroken run and `CheckRun.assert_failed` on a `broken(FAULT, ...)` run each append a
line to the session's file (xdist workers inherit its path from the controller). At the end of a run of the whole
project test suite the controller compares what was seen with tests/proofs/red_green.json, the record
tests/unit/test_conventions.py reads ("every check was seen red under a fault and green when healthy"). The record is
rewritten from the run whenever it differs; a record that claims what the run did not show also fails the run, so it
can never vouch for more than a run saw (and a check missing from it fails the convention test).
"""

import json
import os
import tempfile
from pathlib import Path

import pytest

from opsproof import ROOT

RECORD = ROOT / "tests" / "proofs" / "red_green.json"
SEEN_ENV = "OPSPROOF_PROOF_SEEN"
CONFIGURATION = "(its configuration broken)"
"""What a check was red under when a proof broke its configuration (a bad plan, a dead endpoint), not the sandbox."""
_OWNER = pytest.StashKey[Path]()


def start(config: pytest.Config) -> None:
    """The controller (or a run without xdist) opens the session's file; workers find it in their environment."""
    if hasattr(config, "workerinput") or os.environ.get(SEEN_ENV):
        return
    fd, path = tempfile.mkstemp(prefix="opsproof-proofs-seen-", suffix=".jsonl")
    os.close(fd)
    os.environ[SEEN_ENV] = path
    config.stash[_OWNER] = Path(path)


def seen(check: str, outcome: str, fault: str | None = None) -> None:
    path = os.environ.get(SEEN_ENV)
    if path:
        # one short line per write with O_APPEND: two workers' lines never interleave
        with open(path, "a") as f:
            f.write(json.dumps({"check": check, "outcome": outcome, "fault": fault}) + "\n")


def load(path: Path = RECORD) -> dict[str, dict]:
    return json.loads(path.read_text()) if path.exists() else {}


def observed(path: Path) -> dict[str, dict]:
    record: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        s = json.loads(line)
        r = record.setdefault(s["check"], {"green": False, "red": []})
        if s["outcome"] == "green":
            r["green"] = True
        elif s["fault"] not in r["red"]:
            r["red"].append(s["fault"])
    return {k: {"green": v["green"], "red": sorted(v["red"])} for k, v in sorted(record.items())}


def _whole_suite(config: pytest.Config) -> bool:
    """Only a run of every proof may judge the record: a -k, -m, --lf or a single file sees a part of it."""
    opt = config.option
    if opt.keyword or opt.markexpr or getattr(opt, "lf", False) or getattr(opt, "deselect", None):
        return False
    tests = (ROOT / "tests").resolve()
    return any(Path(a.split("::")[0]).resolve() in (tests, tests / "proofs") for a in config.args)


def finish(session: pytest.Session) -> None:
    path = session.config.stash.get(_OWNER, None)
    if path is None:
        return
    try:
        if session.exitstatus != 0 or not _whole_suite(session.config):
            return
        now, before = observed(path), load()
        if now == before:
            return
        RECORD.write_text(json.dumps(now, indent=1) + "\n")
        claimed = sorted(k for k, r in before.items() if (r["green"] and not now.get(k, {}).get("green"))
                         or set(r["red"]) - set(now.get(k, {}).get("red", [])))
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if claimed:
            # the record says a proof showed something this run did not: it would vouch for a check that no
            # longer fails (or passes) as recorded
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if tr:
            what = (f"claims what the proofs did not show for {', '.join(claimed)}" if claimed
                    else "was missing what the proofs showed")
            tr.write_line(f"tests/proofs/red_green.json {what}: rewritten from this run; review and commit it",
                          red=bool(claimed))
    finally:
        path.unlink(missing_ok=True)
        os.environ.pop(SEEN_ENV, None)
