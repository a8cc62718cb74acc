"""Smoke tests of 50 endpoints: the two smoke checks of checks/services/test_smoke.py (status and body, then 20
samples each for the p95) against the loop a person would write instead, on the same local API.

    python bench/smoke.py [--endpoints 50] [--samples 20] [--delay-ms 5]   # writes bench/results/smoke.json

Only the sandbox's web part runs (sandbox/web.py, on its own port): its control file gives it 50 extra routes, each
answering after --delay-ms (a backend's own work). Baseline: `curl -s -o /dev/null -w '%{http_code} %{time_total}'`
once per request, endpoint after endpoint, sample after sample, as a runbook's shell loop does it; it measures the
same requests and judges nothing.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))
PORT_BASE = 57300


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoints", type=int, default=50)
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--delay-ms", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()

    from sandbox import procs, tls
    from sandbox.private import private_env

    tmp = Path(tempfile.mkdtemp(prefix="opsproof-bench-smoke-"))
    env_file, state = private_env("bench-smoke", PORT_BASE, tmp)
    http, tls_port = PORT_BASE + 80, PORT_BASE + 443
    for port, what in ((http, "http"), (tls_port, "tls")):
        procs.ensure_port_free(port, what)
    tls.ensure(state / "tls")
    names = [f"e{i:02d}" for i in range(a.endpoints)]
    routes = {f"/api/bench/{n}": {"status": 200, "delay_s": a.delay_ms / 1000, "body": {"endpoint": n, "ok": True}}
              for n in names}
    (state / "run").mkdir(parents=True, exist_ok=True)
    (state / "run" / "web.json").write_text(json.dumps({"routes": routes}))
    requests = "\n".join(f'  {{ name = "{n}", path = "/api/bench/{n}", contains = \'"ok": true\', budget_s = 0.5 }},'
                         for n in names)
    text = env_file.read_text()
    start = text.index("[services.smoke]")
    end = text.index("\n[", start + 1)
    env_file.write_text(text[:start] + f"[services.smoke]\nsamples = {a.samples}\neventually_s = 0\n"
                        f"requests = [\n{requests}\n]\n" + text[end:])
    results = {"endpoints": a.endpoints, "samples_each": a.samples, "requests": a.endpoints * a.samples,
               "server_delay_ms": a.delay_ms, "cpu_cores": os.cpu_count()}
    procs.start("bench-web", [PY, "-m", "sandbox.web", "--state-dir", str(state), "--http-port", str(http),
                              "--tls-port", str(tls_port)], state / "run", state / "log", tls_port)
    try:
        env = {**os.environ, "OPSPROOF_ENV": str(env_file)}
        cmd = [PY, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart", "-q",
               f"--html={tmp}/r.html", f"--junitxml={tmp}/j.xml", "checks/services/test_smoke.py",
               "-k", "smoke_requests or smoke_p95"]
        walls = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            record = json.loads((tmp / "evidence.json").read_text())
            if out.returncode != 0 or {c["outcome"] for c in record["checks"]} != {"passed"}:
                print(out.stdout[-3000:])
                raise SystemExit("the smoke checks did not pass on the bench API")
            p95s = [v for e in record["checks"][1]["evidence"] if e["title"] == "metrics" for v in
                    e["payload"].values()]
        results["pytest_wall_s"] = round(statistics.median(walls), 2)  # startup, 1,000 requests, reports
        results["p95_ms_median_over_endpoints"] = round(statistics.median(p95s), 1)
        curl = shutil.which("curl")
        if curl:
            loop = " ".join(f"http://127.0.0.1:{http}/api/bench/{n}" for n in names)
            script = (f"for i in $(seq {a.samples}); do for u in {loop}; do curl -s -o /dev/null "
                      f"-w '%{{http_code}} %{{time_total}}\\n' $u; done; done")
            times = []
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
                times.append(time.perf_counter() - t0)
            results["curl_loop_s"] = round(statistics.median(times), 2)
            results["pytest_wall_vs_curl_loop"] = round(results["pytest_wall_s"] / results["curl_loop_s"], 2)
    finally:
        procs.stop("bench-web", state / "run")
        shutil.rmtree(tmp, ignore_errors=True)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "smoke.json").write_text(json.dumps(results, indent=1))
    for k, v in results.items():
        print(f"{k:32} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
