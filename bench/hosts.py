"""Host checks over a fleet: the four checks of checks/infrastructure/test_host_health.py on 50 of the sandbox's own
hosts (sandbox/hosts.py), with pytest-xdist -n 1 and -n 2, against the loop a person would write instead.

    python bench/hosts.py [--hosts 50] [--repeat 3]   # prints a table; writes bench/results/hosts.json

Run twice: on the local hosts as they are (fork/exec bound), and with a round trip added to every command
(--latency-ms, default 20: what ssh to hosts in the same region costs), where parallel workers pay off.

Baseline: a shell loop over the hosts running the same commands one host after another (uname -r; rpm -q kernel;
systemctl is-active/is-enabled per service; df -P -k; chronyc -c tracking), as `for h in ...; do ssh $h ...; done`
would, each through the same chroot transport. No AWS, database or web part is started: hosts only.
"""

import argparse
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
sys.path.insert(0, str(ROOT))


def timed(cmd, env, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--latency-ms", type=int, default=20,
                   help="second run: this round trip added to every command, like ssh to hosts in the same region")
    a = p.parse_args()

    from opsproof import config
    from sandbox import hosts
    from sandbox.private import private_env

    tmp = Path(tempfile.mkdtemp(prefix="opsproof-bench-hosts-"))
    env_file, state = private_env("bench-hosts", 57200, tmp)
    names = [f"bench-{i:03d}" for i in range(1, a.hosts + 1)]
    t0 = time.perf_counter()
    for n in names:
        hosts.build(state / "hosts" / n, hosts.HostState(n))
    build_s = time.perf_counter() - t0
    env = {**os.environ, "OPSPROOF_ENV": str(env_file)}
    specs = ",".join(f"sandbox://{n}" for n in names)
    services = config.load(str(env_file)).hosts.services
    base = [PY, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart", "-q",
            f"--hosts={specs}", f"--html={tmp}/r.html", f"--junitxml={tmp}/j.xml",
            "checks/infrastructure/test_host_health.py"]
    results = {"hosts": a.hosts, "checks": 4 * a.hosts, "build_fleet_s": round(build_s, 2)}
    script = "uname -r; rpm -q --qf '%{VERSION}-%{RELEASE}.%{ARCH}\\n' kernel; " + "; ".join(
        f"systemctl is-active {s}; systemctl is-enabled {s}" for s in services) + "; df -P -k /; chronyc -c tracking"
    for latency in (0, a.latency_ms):
        tag = "local" if latency == 0 else f"rtt{latency}ms"
        run_env = {**env, hosts.LATENCY_ENV: str(latency)}
        for n in (1, 2):
            wall, out = timed(base + ["-n", str(n)], run_env, a.repeat)
            record = json.loads((tmp / "evidence.json").read_text())
            outcomes = {c["outcome"] for c in record["checks"]}
            if len(record["checks"]) != 4 * a.hosts or outcomes != {"passed"}:
                print(out.stdout[-3000:], out.stderr[-2000:])
                raise SystemExit(f"-n {n}: {len(record['checks'])} checks, outcomes {outcomes}")
            results[f"{tag}_pytest_n{n}_s"] = round(wall, 2)
            results[f"{tag}_pytest_n{n}_checks_sum_s"] = round(sum(c["duration_s"] for c in record["checks"]), 2)
        results[f"{tag}_speedup_n2_vs_n1"] = round(results[f"{tag}_pytest_n1_s"] / results[f"{tag}_pytest_n2_s"], 2)
        # the loop a person would write: the same commands, one connection per host, one host after another
        pause = f"sleep {latency / 1000:g}; " if latency else ""
        loop = ("for h in " + " ".join(names) + f"; do {pause}chroot {state}/hosts/$h /bin/sh -c \"{script}\" "
                ">/dev/null; done")
        results[f"{tag}_shell_loop_s"] = round(timed(["bash", "-c", loop], env, a.repeat)[0], 2)
    results["cpu_cores"] = os.cpu_count()
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "hosts.json").write_text(json.dumps(results, indent=1))
    for k, v in results.items():
        print(f"{k:28} {v}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
