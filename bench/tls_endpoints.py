"""100 TLS endpoints: opsproof's concurrent probe against a sequential `openssl s_client` loop (what an operator
would script from the runbook), and sslscan / testssl.sh (Debian) for what each detects.

    python bench/tls_endpoints.py [--count 100] [--base-port 61600] [--sample 5]
    # prints a table; writes bench/results/tls_endpoints.json

The endpoints are sandbox/tls_listeners.py on loopback: of every ten, one each is expired, for the wrong name,
from an untrusted CA, TLS 1.1 only, or accepting TLS 1.0/1.1 beside 1.3. Goal (issue 5): all 100 in under 3 s.
sslscan and testssl.sh test every protocol and cipher, so they run on `--sample` endpoints of each kind and their
time is extrapolated (said so in the output). Kept out of the test suite.
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
sys.path.insert(0, str(ROOT))

from opsproof.config import Endpoint  # noqa: E402
from opsproof.probes import tls  # noqa: E402

KINDS = ("healthy", "expired", "wrong-name", "untrusted", "old-tls-only", "accepts-old-tls")


def wait_listening(ports: list[int], timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"listener on {port} did not start")
                time.sleep(0.05)


# ---- what each tool says about one endpoint ----------------------------------------------------------------------
def opsproof_verdict(s: tls.Served) -> set[str]:
    found = set()
    if s.error:
        return {"error"}
    if s.days_left < 0:
        found.add("expired")
    if not s.hostname_ok:
        found.add("wrong-name")
    if not s.chain_trusted:
        found.add("untrusted")
    if not tls.at_least(s.protocol, "TLSv1.2"):
        found.add("old-tls-only")
    if s.old_protocol:
        found.add("accepts-old-tls")
    return found


def openssl_one(entry: dict, ca: str) -> set[str]:
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{entry['port']}", "-servername",
                        entry["server_name"], "-CAfile", ca, "-verify_hostname", entry["server_name"]],
                       input="", capture_output=True, text=True, timeout=10)
    out = p.stdout + p.stderr
    found = set()
    if "certificate has expired" in out:
        found.add("expired")
    if "hostname mismatch" in out:
        found.add("wrong-name")
    if "unable to get local issuer certificate" in out or "self-signed certificate" in out:
        found.add("untrusted")
    protocol = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.strip().startswith("Protocol  :")), "")
    if protocol in ("SSLv3", "TLSv1", "TLSv1.1") or "no protocols available" in out or \
            "unsupported protocol" in out or "legacy sigalg disallowed" in out:
        found.add("old-tls-only")  # negotiated an old protocol, or the handshake failed on it
    return found


def sslscan_one(entry: dict) -> set[str]:
    p = subprocess.run(["sslscan", "--no-colour", "--xml=-",
                        f"--sni-name={entry['server_name']}", f"127.0.0.1:{entry['port']}"],
                       capture_output=True, text=True, timeout=60)
    xml = p.stdout
    found = set()
    if "<expired>true</expired>" in xml:
        found.add("expired")
    old = any(f'version="{v}" enabled="1"' in xml for v in ("1.0", "1.1"))
    new = any(f'version="{v}" enabled="1"' in xml for v in ("1.2", "1.3"))
    if old and not new:
        found.add("old-tls-only")
    elif old:
        found.add("accepts-old-tls")
    if "<self-signed>true</self-signed>" in xml:
        found.add("untrusted")
    return found


def testssl_one(entry: dict, ca: str, folder: Path) -> set[str]:
    out = folder / f"testssl-{entry['port']}.json"
    out.unlink(missing_ok=True)
    subprocess.run(["testssl", "--quiet", "--warnings", "off", "--fast", "-p", "-S", "--add-ca", ca,
                    "--jsonfile", str(out), "--ip", "127.0.0.1", f"{entry['server_name']}:{entry['port']}"],
                   capture_output=True, text=True,
                   timeout=300, env={**os.environ, "TERM": "dumb"})
    try:
        items = json.loads(out.read_text())
    except (OSError, ValueError):
        return {"error"}
    by_id = {i.get("id"): i for i in items}
    found = set()
    if any(i.get("id", "").startswith("cert_expirationStatus") and "expired" in i.get("finding", "").lower()
           for i in items):
        found.add("expired")
    if any(i.get("id", "").startswith("cert_trust") and ("match" in i.get("finding", "").lower()
                                                          and "ok via" not in i.get("finding", "").lower())
           for i in items):
        found.add("wrong-name")
    if any(i.get("id", "").startswith("cert_chain_of_trust") and i.get("severity") in ("CRITICAL", "HIGH")
           for i in items):
        found.add("untrusted")
    offered = {k: (by_id.get(k) or {}).get("finding", "") for k in ("TLS1", "TLS1_1", "TLS1_2", "TLS1_3")}
    old = any(offered[k].startswith("offered") for k in ("TLS1", "TLS1_1"))
    new = any(offered[k].startswith("offered") for k in ("TLS1_2", "TLS1_3"))
    if old and not new:
        found.add("old-tls-only")
    elif old:
        found.add("accepts-old-tls")
    return found


def detection(entries: list[dict], verdicts: list[set[str]]) -> dict[str, str]:
    """{kind: 'caught/total'}; a healthy endpoint counts when nothing was flagged (no false alarm)."""
    table = {}
    for kind in KINDS:
        mine = [v for e, v in zip(entries, verdicts) if e["kind"] == kind]
        if not mine:
            continue
        ok = sum(1 for v in mine if not v) if kind == "healthy" else sum(1 for v in mine if kind in v)
        table[kind] = f"{ok}/{len(mine)}"
    return table


def main() -> int:
    a = argparse.ArgumentParser()
    a.add_argument("--count", type=int, default=100)
    a.add_argument("--base-port", type=int, default=61600)
    a.add_argument("--sample", type=int, default=2, help="endpoints of each kind for sslscan")
    a.add_argument("--testssl-sample", type=int, default=1, help="endpoints of each kind for testssl.sh (slow)")
    a.add_argument("--repeat", type=int, default=3)
    args = a.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="opsproof-tlsbench-"))
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.tls_listeners", "--dir", str(folder), "--base-port",
                             str(args.base_port), "--count", str(args.count)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (folder / "listeners.json").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the listeners did not start")
            time.sleep(0.1)
        entries = json.loads((folder / "listeners.json").read_text())
        wait_listening([e["port"] for e in entries])
        ca = str(folder / "ca.pem")
        endpoints = [Endpoint(host="127.0.0.1", port=e["port"], server_name=e["server_name"]) for e in entries]
        results: dict = {"endpoints": len(entries), "kinds": {k: sum(e["kind"] == k for e in entries) for k in KINDS}}

        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            served = tls.probe_many(endpoints, Path(ca), 3.0, concurrency=32)
            times.append(time.perf_counter() - t0)
        ours = statistics.median(times)
        results["opsproof_s"] = round(ours, 3)
        results["opsproof_detects"] = detection(entries, [opsproof_verdict(s) for s in served])

        t0 = time.perf_counter()
        openssl = [openssl_one(e, ca) for e in entries]
        results["openssl_loop_s"] = round(time.perf_counter() - t0, 3)
        results["openssl_detects"] = detection(entries, openssl)

        for tool, fn, n in (("sslscan", lambda e: sslscan_one(e), args.sample),
                            ("testssl", lambda e: testssl_one(e, ca, folder), args.testssl_sample)):
            sample = [e for kind in KINDS for e in [x for x in entries if x["kind"] == kind][:n]]
            if not sample:
                continue
            if not shutil.which(tool):
                results[f"{tool}_s"] = "not installed (apt-get install sslscan testssl.sh)"
                continue
            t0 = time.perf_counter()
            verdicts = [fn(e) for e in sample]
            took = time.perf_counter() - t0
            results[f"{tool}_sample"] = len(sample)
            results[f"{tool}_s_per_endpoint"] = round(took / len(sample), 3)
            results[f"{tool}_s_for_all_extrapolated"] = round(took / len(sample) * len(entries), 1)
            results[f"{tool}_detects_in_sample"] = detection(sample, verdicts)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    results["ratio_openssl_over_opsproof"] = round(results["openssl_loop_s"] / results["opsproof_s"], 1)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "tls_endpoints.json").write_text(json.dumps(results, indent=1))
    print(f"{results['endpoints']} endpoints ({', '.join(f'{k} {v}' for k, v in results['kinds'].items())})")
    print(f"opsproof probe_many (32 threads, median of {args.repeat}): {results['opsproof_s']:.2f} s "
          f"(goal < 3 s: {'met' if results['opsproof_s'] < 3 else 'MISSED'})")
    print(f"sequential openssl s_client loop: {results['openssl_loop_s']:.2f} s "
          f"({results['ratio_openssl_over_opsproof']}x slower)")
    for tool in ("sslscan", "testssl"):
        if f"{tool}_s_per_endpoint" in results:
            print(f"{tool}: {results[f'{tool}_s_per_endpoint']:.2f} s per endpoint on a sample of "
                  f"{results[f'{tool}_sample']}, ~{results[f'{tool}_s_for_all_extrapolated']:.0f} s for all "
                  "(extrapolated)")
        else:
            print(f"{tool}: {results[f'{tool}_s']}")
    print("\ndetected (healthy: no false alarm)")
    tools = [("opsproof", "opsproof_detects"), ("openssl loop", "openssl_detects"),
             ("sslscan*", "sslscan_detects_in_sample"), ("testssl.sh*", "testssl_detects_in_sample")]
    print(f"{'kind':18}" + "".join(f"{t:>14}" for t, k in tools if k in results))
    for kind in KINDS:
        print(f"{kind:18}" + "".join(f"{results[k].get(kind, '-'):>14}" for t, k in tools if k in results))
    print("* on the sample only")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
