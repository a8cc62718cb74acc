"""Integrity's cost per run and the history's size per 1,000 runs (issue 15's closing note).

    python bench/integrity.py [RUNS]      # default 1000; prints a table; writes bench/results/integrity.json

No sandbox: a SQLite history in a temporary folder, and an evidence folder shaped like the nightly run's (a ~1.5 MB
self-contained report.html, junit.xml, evidence.json, a change-request report, a maintenance log) with 90 checks,
each with two findings (one numeric, charted as a trend) and an evidence table. Each run is timed through what the
plugin does at the end of a run: the history section (read 90 days, summarize, draw max_charts charts), the metrics
file, and the seal (hash every file, sign with Ed25519, one history transaction). Against the baseline a user
would write instead: `sha256sum * > SHA256SUMS` (no signature, no chain, no history).
"""

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKS = 90
AREAS = ("database", "backups", "storage", "certificates", "secrets", "infrastructure", "services", "capacity")


def make_record(i: int, when: dt.datetime) -> dict:
    checks = []
    for n in range(CHECKS):
        area = AREAS[n % len(AREAS)]
        red = (n == 7 and i % 3 == 0)  # one check flips every third night
        checks.append({
            "nodeid": f"checks/{area}/test_topic.py::test_check_{n:02d}", "when": "call",
            "outcome": "failed" if red else "passed", "duration_s": 0.2, "markers": [area, "nightly"],
            "doc": "The runbook's sentence.", "message": "bad" if red else None,
            "evidence": [{"kind": "table", "title": "rows", "payload": [{"name": f"t{k}", "value": k} for k in range(5)]}],
            "findings": [
                {"status": "alarm" if red else "ok", "subject": f"subject-{n}", "reason": "as required",
                 "measured": 1000 + (i * 7 + n) % 300, "limit": 5000, "key": f"{area}.dead_tuples" if n < 3 else
                 f"{area}.limit_{n}", "fix": None},
                {"status": "ok", "subject": f"other-{n}", "reason": "as required", "measured": "text", "limit": None,
                 "key": None, "fix": None}]})
    return {"environment": "bench", "change_request": None, "markexpr": "nightly", "exitstatus": 0,
            "finished_at": when.isoformat(timespec="seconds"), "checks": checks, "target": {"account": "123456789012"}}


def make_folder(path: Path, record: dict, report: bytes) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "report.html").write_bytes(report)
    (path / "junit.xml").write_text("<testsuites>" + "<testcase/>" * CHECKS + "</testsuites>")
    (path / "evidence.json").write_text(json.dumps(record, indent=1))
    (path / "change-request.html").write_text("<html>" + "x" * 20_000 + "</html>")
    (path / "maintenance-log.md").write_text("# log\n" * 200)


def main(runs: int = 1000) -> dict:
    from opsproof import config, history, integrity, manifest, metrics
    from opsproof.config import Integrity

    tmp = Path(tempfile.mkdtemp(prefix="opsproof-bench-integrity-"))
    private, _ = manifest.generate_pem()
    (tmp / "key.pem").write_bytes(private)
    env = config.load("sandbox")
    env = env.model_copy(update={"integrity": Integrity(history=str(tmp / "history.sqlite"),
                                                        signing_key=str(tmp / "key.pem"))})
    cfg = env.integrity
    report = os.urandom(1_500_000)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=runs * 6)
    seal_ms, seal_cpu_ms, summary_ms, chart_runs, base_ms = [], [], [], [], []
    folder = tmp / "run"
    for i in range(runs):
        when = start + dt.timedelta(hours=i * 6)
        rec = make_record(i, when)
        make_folder(folder, rec, report)
        timed_summary = i % 50 == 0 or i == runs - 1  # reading 90 days and charting: timed on a sample of runs
        t0, c0 = time.perf_counter(), time.process_time()
        if timed_summary:
            with history.open_store(cfg.history) as store:
                rows = store.rows("bench", when.timestamp() - 90 * 86400)
            s = history.summarize(rows, when.timestamp(), cfg.pass_rate_days, cfg.never_red_days, cfg.trends)
            history.fragment(s, cfg.max_charts)
            summary_ms.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))
            chart_runs.append(len(s.trends))
        t1, c1 = time.perf_counter(), time.process_time()
        metrics.write_textfile(folder / "metrics.prom", metrics.prometheus_text(rec, 60.0, when.timestamp()))
        integrity.seal(env, folder, rec, when.timestamp() - 60)
        seal_ms.append((time.perf_counter() - t1) * 1000)
        seal_cpu_ms.append((time.process_time() - c1) * 1000)
        if timed_summary:
            t2 = time.perf_counter()
            subprocess.run("sha256sum * > /tmp/opsproof-bench-SHA256SUMS", shell=True, cwd=folder, check=True)
            base_ms.append((time.perf_counter() - t2) * 1000)
    size = (tmp / "history.sqlite").stat().st_size
    with history.open_store(cfg.history) as store:
        assert store.count_runs() == runs and store.chain_forks("bench") == []
    v = integrity.verify(folder, env)
    assert v.ok, v.problems
    result = {
        "runs": runs, "checks_per_run": CHECKS,
        "seal_ms_median": round(statistics.median(seal_ms), 1),
        "seal_cpu_ms_median": round(statistics.median(seal_cpu_ms), 1),
        "seal_ms_p95": round(sorted(seal_ms)[int(len(seal_ms) * 0.95) - 1], 1),
        "seal_ms_first_100": round(statistics.median(seal_ms[:100]), 1),
        "seal_ms_last_100": round(statistics.median(seal_ms[-100:]), 1),
        "history_section_ms_first": round(summary_ms[0][0], 1),
        "history_section_ms_median": round(statistics.median(w for w, _ in summary_ms[1:] or summary_ms), 1),
        "history_section_cpu_ms_median": round(statistics.median(c for _, c in summary_ms[1:] or summary_ms), 1),
        "history_section_ms_last": round(summary_ms[-1][0], 1),
        "overhead_ms_per_run": round(statistics.median(seal_ms) + summary_ms[-1][0], 1),
        "baseline_sha256sum_ms_median": round(statistics.median(base_ms), 1),
        "history_bytes": size, "history_mb_per_1000_runs": round(size / runs * 1000 / 1e6, 2),
        "verify_chain_links": next((n for n in v.notes if n.startswith("chain")), ""),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "integrity.json").write_text(json.dumps(result, indent=1))
    for k, val in result.items():
        print(f"{k:32} {val}")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
