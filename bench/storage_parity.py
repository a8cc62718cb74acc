"""Benchmark: our replication parity check against what a person would run instead.

    python bench/storage_parity.py                    # 10,000 and 50,000 objects (a few minutes)
    python bench/storage_parity.py --sizes 2000       # a quick look
    python bench/storage_parity.py --json out.json    # the figures as JSON too

On a sandbox AWS server of its own (moto behind the sandbox's overlays, on a free port; nothing else of the sandbox),
for each size N: two buckets of N objects, the replica broken in 8 ways at EQUAL object counts (3 keys missing, 3 keys
that only the replica has, 2 objects with the same size but other bytes). Seeded through the admin API in bulk (not
N PUTs over HTTP). Then, each on the same two buckets:

* runbook   — the runbook's method: `aws s3 ls --recursive s3://B | wc -l` on both buckets, one after the other
              (awscli); it can only compare the two counts;
* rclone    — `rclone check --fast-list --s3-list-version 2` (an S3 remote on the sandbox endpoint; AWS_CA_BUNDLE
              unset for it: rclone 1.60 refuses to start with it set);
* list-once — one boto3 ListObjectsV2 pass over the larger bucket: the floor "listing the larger bucket once"
              (list-once-fast: the same with our timestamp parser, opsproof.probes.storage.fast_timestamps);
* opsproof  — opsproof.probes.storage.parity: both listings fetched concurrently, streamed through a merge.

Reported per tool: wall time, peak RSS of its process (os.wait4), the faults it names (of 8), and the ratios of our
wall time to each. Goal: ours no slower than list-once (the two listings overlap), peak memory flat from 10k to 50k.
Kept out of the test suite's runtime: run it by hand; it needs awscli and rclone on PATH (skipped when missing).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.aws import admin  # noqa: E402

KEY = "opsproof-bench"
SECRET = "opsproof-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(state: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.aws.server", "--port", str(port), "--state-dir",
                             str(state)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    admin.wait_ready(url, timeout=20)
    return proc, url


def client(url: str, region: str = "us-east-1"):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=region, endpoint_url=url, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 2},
                                                                    read_timeout=120))


# ---- the two buckets -------------------------------------------------------------------------------------------------
def key_of(i: int) -> str:
    return f"media/user-{1000 + i // 40}/project-{i // 10 % 4 + 1:02d}/asset-{i:07d}.bin"


def body_of(i: int, salt: str = "") -> str:
    return base64.b64encode(f"{key_of(i)}{salt}".ljust(96, "#").encode()).decode()


def seed(url: str, n: int) -> dict:
    """src-N and dst-N; dst = src with 3 keys missing, 3 extra keys, 2 same-size changes (equal counts)."""
    s3 = client(url)
    src, dst = f"bench-src-{n}", f"bench-dst-{n}"
    for b in (src, dst):
        s3.create_bucket(Bucket=b)
    when = "2026-01-01T00:00:00+00:00"
    missing = [key_of(n // 4), key_of(n // 2), key_of(n - 7)]
    changed = [key_of(n // 3), key_of(2 * n // 3)]
    extra = [key_of(n // 4) + ".orphan", "media/user-0000/zz-extra.bin", key_of(n - 3) + "~stray"]
    t0 = time.monotonic()
    chunk = 5000
    for start in range(0, n, chunk):
        objs = [{"key": key_of(i), "body_b64": body_of(i), "last_modified": when}
                for i in range(start, min(n, start + chunk))]
        admin.put_objects(url, src, objs)
        dst_objs = [dict(o, body_b64=body_of(i, "!") if o["key"] in changed else o["body_b64"])
                    for i, o in zip(range(start, start + chunk), objs) if o["key"] not in missing]
        admin.put_objects(url, dst, dst_objs)
    admin.put_objects(url, dst, [{"key": k, "body_b64": body_of(0), "last_modified": when} for k in extra])
    return {"src": src, "dst": dst, "missing": missing, "extra": extra, "changed": changed,
            "seed_s": round(time.monotonic() - t0, 1)}


# ---- running one tool, measured --------------------------------------------------------------------------------------
def measured(argv: list[str], env: dict | None = None, stdin=None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS MiB, exit code, stdout) of one process."""
    t0 = time.monotonic()
    out = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env or os.environ.copy(), cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    out.seek(0)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out.read().decode(errors="replace")


def run_runbook(url: str, seeded: dict) -> dict:
    if not shutil.which("aws"):
        return {"tool": "runbook", "skipped": "aws (awscli) not on PATH"}
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
    wall, rss, counts = 0.0, 0.0, []
    for b in (seeded["src"], seeded["dst"]):
        w, r, code, out = measured(["aws", "--endpoint-url", url, "s3", "ls", f"s3://{b}/", "--recursive"], env)
        wall, rss = wall + w, max(rss, r)
        counts.append(len(out.splitlines()))
    caught = 0 if counts[0] == counts[1] else "some (counts differ)"
    return {"tool": "runbook", "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1), "caught": caught,
            "detail": f"counts {counts[0]} vs {counts[1]}: {'equal, so no difference seen' if not caught else ''}"}


def run_rclone(url: str, seeded: dict) -> dict:
    if not shutil.which("rclone"):
        return {"tool": "rclone", "skipped": "rclone not on PATH (apt-get install rclone)"}
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update({"RCLONE_CONFIG_SB_TYPE": "s3", "RCLONE_CONFIG_SB_PROVIDER": "Other",
                "RCLONE_CONFIG_SB_ENDPOINT": url, "RCLONE_CONFIG_SB_ACCESS_KEY_ID": KEY,
                "RCLONE_CONFIG_SB_SECRET_ACCESS_KEY": SECRET, "RCLONE_CONFIG_SB_REGION": "us-east-1",
                "RCLONE_CONFIG_SB_FORCE_PATH_STYLE": "true"})
    wall, rss, code, out = measured(["rclone", "check", f"sb:{seeded['src']}", f"sb:{seeded['dst']}", "--fast-list",
                                     "--s3-list-version", "2", "--combined", "-", "--checkers", "8"], env)
    differ = {line[2:] for line in out.splitlines() if line[:1] in "-+*!"}
    return {"tool": "rclone", "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
            "caught": _caught(seeded, differ), "detail": f"exit {code}, {len(differ)} keys reported"}


def run_list_once(url: str, seeded: dict, fast: bool = False) -> dict:
    """One boto3 listing of the larger bucket: as anyone would write it, or (fast) with our timestamp parser."""
    code = ("import sys; sys.path.insert(0, %r); from bench.storage_parity import client; s3 = client(%r); n = 0\n"
            "if %r:\n    from opsproof.probes.storage import fast_timestamps; fast_timestamps(s3)\n"
            "for p in s3.get_paginator('list_objects_v2').paginate(Bucket=%r, PaginationConfig={'PageSize': 1000}):"
            "\n    n += len(p.get('Contents', []))\nprint(n)") % (str(ROOT), url, fast, seeded["dst"])
    wall, rss, _, out = measured([sys.executable, "-c", code])
    return {"tool": "list-once-fast" if fast else "list-once", "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
            "caught": 0, "detail": f"{out.strip()} objects listed"}


def run_ours(url: str, seeded: dict) -> dict:
    wall, rss, code, out = measured([sys.executable, __file__, "_ours", url, seeded["src"], seeded["dst"]])
    result = json.loads(out)
    named = {k for kind in ("missing", "extra", "size_differs", "content_differs") for k in result["culprits"][kind]}
    return {"tool": "opsproof", "wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1),
            "caught": _caught(seeded, named), "detail": result["summary"]}


def _caught(seeded: dict, named: set) -> int:
    return sum(1 for k in seeded["missing"] + seeded["extra"] + seeded["changed"] if k in named)


def _ours_main(url: str, src: str, dst: str) -> None:
    import datetime as dt

    from opsproof.probes import storage

    a, b = storage.fast_timestamps(client(url)), storage.fast_timestamps(client(url))
    r = storage.parity(a, src, b, dst, sla=dt.timedelta(minutes=15), max_culprits=20, sample_size=100,
                       sample_newest=20, seed=1)
    print(json.dumps({"summary": r.summary(), "culprits": r.culprits}))


# ---- the run ---------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["_ours"]:
        _ours_main(*argv[1:4])
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    p.add_argument("--skip", nargs="*", default=[],
                   choices=["runbook", "rclone", "list-once", "list-once-fast", "opsproof"])
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="opsproof-bench-"))
    proc, url = start_server(state)
    results = []
    try:
        for n in a.sizes:
            seeded = seed(url, n)
            print(f"\n== {n:,} objects per bucket (seeded in {seeded['seed_s']} s; 8 faults at equal counts) ==")
            rows = []
            for name, fn in (("runbook", run_runbook), ("rclone", run_rclone), ("list-once", run_list_once),
                             ("list-once-fast", lambda u, s: run_list_once(u, s, fast=True)), ("opsproof", run_ours)):
                if name in a.skip:
                    continue
                row = fn(url, seeded)
                rows.append(row)
                if "skipped" in row:
                    print(f"  {name:10} skipped: {row['skipped']}")
                else:
                    print(f"  {name:10} {row['wall_s']:8.2f} s  {row['peak_rss_mib']:7.1f} MiB  caught "
                          f"{row['caught']}/8   {row['detail'] if name != 'opsproof' else ''}")
            ours = next((r for r in rows if r["tool"] == "opsproof" and "wall_s" in r), None)
            if ours:
                for r in rows:
                    if r is not ours and "wall_s" in r:
                        print(f"  opsproof / {r['tool']:10} wall-time ratio {ours['wall_s'] / r['wall_s']:.2f}")
            results.append({"objects": n, "seed_s": seeded["seed_s"], "rows": rows})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(state, ignore_errors=True)
    mem = [next((r["peak_rss_mib"] for r in res["rows"] if r["tool"] == "opsproof" and "peak_rss_mib" in r), None)
           for res in results]
    if len(mem) > 1 and all(mem):
        print(f"\nopsproof peak RSS: {' → '.join(f'{m:.0f} MiB' for m in mem)} "
              f"({'flat' if max(mem) < min(mem) * 1.15 else 'GROWS'})")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
