"""Foundation speed: collection, sandbox cold start, and the post_maintenance run on the sandbox.

    python bench/foundation.py            # prints a table; writes bench/results/foundation.json

Goals (issue 2): `pytest --collect-only -q` < 2 s; sandbox cold `up` < 20 s. Baseline for collection: pytest
started with the same plugins and configuration on a folder without tests, measured in the same run, so the ratio
shows what collecting the checks themselves costs.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def timed(cmd, env=None, repeat=1):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode not in (0, 5):
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return statistics.median(times)


def main():
    # A private sandbox on its own ports, so a developer's running sandbox is neither reused nor disturbed.
    sys.path.insert(0, str(ROOT))
    from sandbox.private import private_env

    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o755)  # PostgreSQL runs as another user and must reach its data folder
    env_file, state = private_env("bench-foundation", 57000, Path(folder))
    env = {**os.environ, "OPSPROOF_SANDBOX_DIR": str(state), "OPSPROOF_ENV": str(env_file)}
    results = {}
    results["collect_only_s"] = timed([PY, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                                      env, repeat=5)
    # The floor: Python, pytest, every plugin and the environment's configuration loaded, collecting nothing
    # (docs/ holds no tests).
    results["pytest_startup_s"] = timed([PY, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                         "docs"], env, repeat=5)
    try:
        results["sandbox_cold_up_s"] = timed([PY, "-m", "sandbox", "--env", str(env_file), "up"], env)
        results["sandbox_warm_up_s"] = timed([PY, "-m", "sandbox", "--env", str(env_file), "up"], env)
        out = state / "reports"
        results["post_maintenance_s"] = timed([PY, "-m", "pytest", "-m", "post_maintenance", "-p",
                                               "no:cacheprovider", f"--html={out}/r.html",
                                               f"--junitxml={out}/j.xml"], env)
        results["post_maintenance_n2_s"] = timed([PY, "-m", "pytest", "-m", "post_maintenance", "-n", "2", "-p",
                                                  "no:cacheprovider", f"--html={out}/r2.html",
                                                  f"--junitxml={out}/j2.xml"], env)
        results["post_maintenance_checks"] = len(json.loads((out / "evidence.json").read_text())["checks"])
    finally:
        subprocess.run([PY, "-m", "sandbox", "--env", str(env_file), "down", "--purge"], cwd=ROOT, env=env, capture_output=True)
    results["collect_ratio_vs_startup"] = round(results["collect_only_s"] / results["pytest_startup_s"], 2)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "foundation.json").write_text(json.dumps(results, indent=1))
    for k, v in results.items():
        print(f"{k:28} {v:.2f}" if isinstance(v, float) else f"{k:28} {v}")
    ok = results["collect_only_s"] < 2 and results["sandbox_cold_up_s"] < 20
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
