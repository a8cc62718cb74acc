"""Hand-built runs for the integrity tests: an environment whose history is in a temporary folder, records in the
Recorder's shape, and evidence folders with the files a real run leaves (report.html, junit.xml, evidence.json, a
change-request report)."""

import datetime as dt
import json
from pathlib import Path

from opsproof import config, integrity
from opsproof.config import Integrity

UTC = dt.timezone.utc


def environment(history: str | Path, **integrity_keys) -> config.Environment:
    env = config.load()  # $OPSPROOF_ENV: a private sandbox when the tests have one
    return env.model_copy(update={"integrity": Integrity(history=str(history), **integrity_keys)})


def check(name: str, outcome: str = "passed", area: str = "database", measured=None, key=None,
          evidence=None) -> dict:
    status = {"passed": "ok", "failed": "alarm", "waived": "waived", "skipped": "skip"}[outcome]
    return {"nodeid": f"checks/{area}/test_x.py::{name}", "when": "call", "outcome": outcome, "duration_s": 0.1,
            "markers": [area, "nightly"], "doc": "A check.", "message": None if outcome == "passed" else "bad",
            "evidence": evidence if evidence is not None else [{"kind": "value", "title": "n", "payload": [1, ""]}],
            "findings": [{"status": status, "subject": "t", "reason": "r", "measured": measured, "limit": 10,
                          "key": key, "fix": None}]}


def record(checks: list[dict], finished: dt.datetime | None = None, env: str = "sandbox", cr: str | None = None,
           markexpr: str = "nightly") -> dict:
    failed = any(c["outcome"] == "failed" for c in checks)
    return {"environment": env, "change_request": cr, "markexpr": markexpr, "exitstatus": 1 if failed else 0,
            "finished_at": (finished or dt.datetime.now(UTC)).isoformat(timespec="seconds"), "checks": checks,
            "target": {"account": "123456789012"}}


def folder(path: Path, rec: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "report.html").write_text(f"<html><body>{len(rec['checks'])} checks at {rec['finished_at']}</body></html>")
    (path / "junit.xml").write_text(f"<testsuites><testsuite tests='{len(rec['checks'])}'/></testsuites>")
    (path / "evidence.json").write_text(json.dumps(rec))
    (path / "change-request.html").write_text(f"<p>CR {rec.get('change_request')}</p>")
    return path


def seal_run(env, path: Path, rec: dict) -> integrity.Sealed:
    folder(path, rec)
    return integrity.seal(env, path, rec, dt.datetime.fromisoformat(rec["finished_at"]).timestamp() - 60)
