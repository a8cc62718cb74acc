"""Database checks at scale, against check_postgres on the same database.

    python bench/database.py           # prints the tables; writes bench/results/database.json

On a private sandbox (its own ports and state, purged afterwards) a second database, opsproof_bench, gets 2,000
tables plus a few the faults need. Measured, healthy and then broken:

* every check in checks/database/ but the two that ask RDS's API (one pytest run: its wall time and the checks'
  own durations) — goal: < 2 s;
* that no user table is read in full outside the bloat confirmation (pg_stat_user_tables.seq_scan before/after a
  run with database.bloat.confirm_with = "none"), and which tables the confirmation did read;
* check_postgres 2.25 (Debian `check-postgres`) actions bloat, last_vacuum, last_analyze, txn_wraparound and
  backends at their defaults (and txn_wraparound at our thresholds): which faults each tool catches, naming the
  culprit, and the time ratio.
"""

import json
import os
import re
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

TABLES = 2000
DB = "opsproof_bench"
NOT_AWS = "not rds_instance and not parameters"
"""The two database checks that ask RDS's API: the bench runs no AWS stand-in (the rest is PostgreSQL only)."""
CP_ACTIONS = ("bloat", "last_vacuum", "last_analyze", "txn_wraparound", "backends")

SCHEMA = f"""
DO $$ BEGIN
  FOR i IN 1..{TABLES} LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text NOT NULL, n int)', lpad(i::text, 4, '0'));
    EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text), g FROM generate_series(1, 40) g', lpad(i::text, 4, '0'));
  END LOOP;
END $$;
CREATE TABLE jobs (id bigserial PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX idx_jobs_status_created_at ON jobs (status, created_at);
INSERT INTO jobs (status, created_at)
  SELECT 'completed', now() - make_interval(hours => g) FROM generate_series(1, 1000) g;
CREATE TABLE bench_bloated (id int PRIMARY KEY, payload text NOT NULL, n int NOT NULL) WITH (autovacuum_enabled = off);
INSERT INTO bench_bloated SELECT g, repeat(md5(g::text), 2), g FROM generate_series(1, 350000) g;
CREATE TABLE bench_stale (id int PRIMARY KEY, v text NOT NULL) WITH (autovacuum_enabled = off);
INSERT INTO bench_stale SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
CREATE TABLE bench_users (id int PRIMARY KEY, email text NOT NULL);
INSERT INTO bench_users SELECT g, 'u' || g || '@example.test' FROM generate_series(1, 5000) g;
CREATE UNIQUE INDEX bench_users_email ON bench_users (email);
"""

# fault: (description, which of our checks must catch it, culprit in its message, check_postgres actions that could,
#         culprit in their output or None when a status is all they give)
FAULTS = [
    ("bloated table: 40 MB, 2x (UPDATE of every row, autovacuum off)", "test_tables_are_not_bloated",
     "public.bench_bloated", ["bloat"], "bench_bloated"),
    ("dead tuples far past autovacuum's trigger (same table)", "test_vacuum_keeps_up", "public.bench_bloated",
     ["last_vacuum"], "bench_bloated"),
    ("5 tables never vacuumed (statistics reset, as after a restore/failover)", "test_vacuum_keeps_up",
     "public.t0001 (never vacuumed)", ["last_vacuum"], "t0001"),
    ("the same 5 tables never analyzed", "test_statistics_are_current", "public.t0001 (never analyzed)",
     ["last_analyze"], "t0001"),
    ("stale statistics: 5,000 of 20,000 rows changed since ANALYZE (analyzed today)", "test_statistics_are_current",
     "public.bench_stale", ["last_analyze"], "bench_stale"),
    ("invalid index left by a REINDEX CONCURRENTLY that timed out", "test_no_invalid_indexes",
     "bench_users_email_ccnew", [], None),
    ("duplicate index", "test_no_duplicate_indexes", "bench_users_email_dup", [], None),
    ("connections at 85% of max_connections", "test_connections_below_max_connections",
     "opsproof-fault-connection-saturation", ["backends"], None),
    ("XID age past the threshold, held by a forgotten prepared transaction",
     "test_transaction_ids_are_far_from_wraparound", "opsproof-fault-forgotten",
     ["txn_wraparound", "txn_wraparound@ours"], None),
]


def free_base() -> int:
    """A port base whose PostgreSQL ports (+432 and its replica's +433) are free: other engineers' sandboxes may
    be running on this machine."""
    import socket

    for base in range(62000, 65000, 1000):
        try:
            for off in (432, 433):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + off))
        except OSError:
            continue
        return base
    raise SystemExit("no free port base for the bench's private sandbox")


def sh(cmd, env, check=True, timeout=600):
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p


def bench_env_file(env_file: Path, folder: Path, confirm: str) -> Path:
    """The private sandbox's environment pointed at the bench database (and its own window record)."""
    text = env_file.read_text()
    text = re.sub(r'(?m)^dbname = "aifilmstudio"', f'dbname = "{DB}"', text)
    text = re.sub(r'(?m)^record = ".*"', f'record = "{folder}/bench-window.json"', text)
    text = text.replace('[database.bloat]\n', f'[database.bloat]\nconfirm_with = "{confirm}"\n', 1)
    out = folder / f"bench-{confirm}.toml"
    out.write_text(text)
    return out


def run_ours(env_file: Path, env: dict, out: Path, repeat: int = 3) -> dict:
    """checks/database/ in one pytest run: median wall time, the checks' own time, each check's outcome."""
    walls, record = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        sh([PY, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart", f"--env={env_file}",
            f"--html={out}/r{i}.html", f"--junitxml={out}/j{i}.xml", "checks/database", "-k", NOT_AWS],
           env, check=False)
        walls.append(time.perf_counter() - t0)
        record = json.loads((out / "evidence.json").read_text())
    checks = {c["nodeid"].split("::")[-1]: c for c in record["checks"]}
    return {"wall_s": round(statistics.median(walls), 3),
            "checks_s": round(sum(c["duration_s"] for c in checks.values()), 3),
            "checks": {k: {"outcome": c["outcome"], "message": c["message"], "duration_s": c["duration_s"],
                           "evidence": c["evidence"]} for k, c in checks.items()}}


def run_cp(port: int, env: dict, repeat: int = 3) -> dict:
    cp = shutil.which("check_postgres") or shutil.which("check_postgres.pl")
    if not cp:
        return {}
    out = {}
    for act in CP_ACTIONS + ("txn_wraparound@ours",):
        name, extra = (act.split("@")[0], ["--warning=120000", "--critical=150000"]) if "@" in act else (act, [])
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            p = sh([cp, f"--action={name}", "--host=127.0.0.1", f"--port={port}", f"--dbname={DB}",
                    "--dbuser=opsproof_check", *extra], env, check=False)
            times.append(time.perf_counter() - t0)
        out[act] = {"s": round(statistics.median(times), 3), "exit": p.returncode,
                    "output": (p.stdout + p.stderr).strip()[:3000]}
    return out


def seq_scans(sb) -> dict[str, int]:
    with sb.admin(DB) as c:
        return dict(c.execute("SELECT relname, seq_scan FROM pg_stat_user_tables").fetchall())


def main() -> int:
    from opsproof import config
    from opsproof.postgres import window
    from sandbox import faults, lifecycle, postgres
    from sandbox.private import private_env
    from sandbox.state import Sandbox

    folder = Path(tempfile.mkdtemp())
    os.chmod(folder, 0o755)
    env_file, state = private_env("bench-database", free_base(), folder)
    os.environ.update(OPSPROOF_SANDBOX_DIR=str(state), OPSPROOF_ENV=str(env_file))
    env = dict(os.environ)
    results: dict = {"tables": TABLES}
    # Only the sandbox's PostgreSQL (and its replica): the AWS part is not needed by what is measured here.
    sb = Sandbox(config.load(str(env_file)))
    try:
        postgres.init(sb)
        postgres.start(sb)
        postgres.wait_ready(sb)
        postgres.seed(sb)
        (sb.pg_data.parent / "seeded").write_text("ok")
        env["PGPASSWORD"] = sb.password("opsproof_check")
        # ---- the database: 2,000 tables, vacuumed and analyzed, its window recorded ---------------------------
        t0 = time.perf_counter()
        with sb.admin("postgres") as c:
            c.execute(f"DROP DATABASE IF EXISTS {DB}")
            c.execute(f"CREATE DATABASE {DB} OWNER app")
        with sb.admin(DB) as c:
            c.execute("CREATE EXTENSION pgstattuple")
            c.execute("SET ROLE app")
            c.execute(SCHEMA)
            c.execute("RESET ROLE")
            started = c.execute("SELECT now()").fetchone()[0]
            c.execute("VACUUM ANALYZE")
            names = [r[0] for r in c.execute("SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables")]
        results["create_s"] = round(time.perf_counter() - t0, 1)
        window.write_record(folder / "bench-window.json", window.Record("bench VACUUM ANALYZE", started,
                                                                              names, names))
        confirmed_env = bench_env_file(env_file, folder, "pgstattuple_approx")
        none_env = bench_env_file(env_file, folder, "none")
        out = folder / "reports"
        out.mkdir()

        # ---- healthy: every check passes; check_postgres's verdicts -------------------------------------------
        results["ours_healthy"] = run_ours(confirmed_env, env, out)
        results["cp_healthy"] = run_cp(sb.ports.postgres, env, repeat=1)

        # ---- no table read in full outside the bloat confirmation ------------------------------------------
        before = seq_scans(sb)
        run_ours(none_env, env, out, repeat=1)
        time.sleep(1.5)  # a backend publishes its table statistics when its session ends
        after = seq_scans(sb)
        results["seq_scanned_tables_without_confirmation"] = sorted(t for t in after if after[t] > before.get(t, 0))

        # ---- the faults ---------------------------------------------------------------------------------
        with sb.admin(DB) as c:
            c.execute("UPDATE bench_bloated SET n = n")
            c.execute("SELECT pg_stat_force_next_flush()")
            c.execute("SELECT 1")
            c.execute("ANALYZE bench_bloated")
            for i in range(1, 6):
                c.execute(f"SELECT pg_stat_reset_single_table_counters('t{i:04d}'::regclass)")
            c.execute("UPDATE bench_stale SET v = v WHERE id <= 5000")
            c.execute("CREATE INDEX bench_users_email_dup ON bench_users (email)")
        with sb.admin(DB, autocommit=False) as writer, sb.admin(DB) as c:
            writer.execute("LOCK TABLE bench_users IN ROW EXCLUSIVE MODE")
            c.execute("SET lock_timeout = '300ms'")
            try:
                c.execute("REINDEX INDEX CONCURRENTLY bench_users_email")
            except Exception:  # noqa: BLE001 - the lock timeout we want
                pass
            writer.rollback()
        with lifecycle.lock(sb):
            faults.apply(sb, "xid-wraparound-risk")
            faults.apply(sb, "connection-saturation")
        try:
            results["ours_broken"] = run_ours(confirmed_env, env, out)
            results["cp_broken"] = run_cp(sb.ports.postgres, env)
        finally:
            with lifecycle.lock(sb):
                faults.heal(sb)
        reads = [r["name"] for e in results["ours_broken"]["checks"]["test_tables_are_not_bloated"]["evidence"]
                 if e["kind"] == "table" and e["title"] == "bloat per table" for r in e["payload"]
                 if r["basis"].startswith("pgstattuple")]
        results["tables_read_by_bloat_confirmation"] = reads
    finally:
        postgres.stop(sb)
        shutil.rmtree(folder, ignore_errors=True)
    report(results)
    return 0


def report(r: dict) -> None:
    ours, cp = r["ours_broken"], r["cp_broken"]
    rows = []
    for desc, check, culprit, actions, cp_culprit in FAULTS:
        c = ours["checks"].get(check, {})
        caught = c.get("outcome") == "failed" and culprit in (c.get("message") or "")
        theirs = []
        for a in actions:
            res = cp.get(a)
            if res is None:
                continue
            hit = res["exit"] != 0 and (cp_culprit is None or cp_culprit in res["output"])
            said = ("yes, status only" if cp_culprit is None else "yes") if hit else "no"
            theirs.append(f"{a}: {said} (exit {res['exit']})")
        rows.append({"fault": desc, "opsproof": f"{'yes' if caught else 'NO'} ({check})",
                     "check_postgres": "; ".join(theirs) or "no action for it"})
    healthy_failed = [k for k, v in r["ours_healthy"]["checks"].items() if v["outcome"] != "passed"]
    cp_time = sum(v["s"] for k, v in cp.items() if "@" not in k)
    r["summary"] = {
        "ours_healthy_failed": healthy_failed,
        "cp_healthy_not_ok": [k for k, v in r["cp_healthy"].items() if v["exit"] != 0],
        "ours_checks_s": ours["checks_s"], "ours_pytest_wall_s": ours["wall_s"],
        "cp_five_actions_s": round(cp_time, 3),
        "ratio_cp_over_ours_checks": round(cp_time / ours["checks_s"], 1) if ours["checks_s"] else None,
        "ratio_cp_over_ours_wall": round(cp_time / ours["wall_s"], 2) if ours["wall_s"] else None,
        "per_check_s": {k: v["duration_s"] for k, v in ours["checks"].items()},
        "cp_per_action_s": {k: v["s"] for k, v in cp.items()},
        "catches": rows,
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "database.json").write_text(json.dumps(r, indent=1, default=str))
    s = r["summary"]
    print(f"database with {r['tables']} tables (+ faults' tables), created in {r['create_s']} s")
    print(f"healthy: opsproof failures {s['ours_healthy_failed'] or 'none'}; check_postgres not OK: "
          f"{s['cp_healthy_not_ok'] or 'none'}")
    print(f"opsproof: all database checks {s['ours_checks_s']} s in the checks, {s['ours_pytest_wall_s']} s "
          "pytest wall (interpreter and collection included)")
    print(f"check_postgres: {', '.join(f'{k} {v} s' for k, v in s['cp_per_action_s'].items())}; "
          f"five actions {s['cp_five_actions_s']} s")
    print(f"ratio check_postgres / opsproof: {s['ratio_cp_over_ours_checks']}x (checks' time), "
          f"{s['ratio_cp_over_ours_wall']}x (pytest wall)")
    print("user tables read in full without the bloat confirmation: "
          f"{r['seq_scanned_tables_without_confirmation'] or 'none'}")
    print(f"tables read by the bloat confirmation: {r['tables_read_by_bloat_confirmation']}")
    w = max(len(x["fault"]) for x in rows)
    print(f"\n{'fault':{w}}  {'opsproof':48}  check_postgres")
    for x in rows:
        print(f"{x['fault']:{w}}  {x['opsproof']:48}  {x['check_postgres']}")
    print("\nper check (s):", json.dumps(s["per_check_s"]))
    goal = s["ours_checks_s"] < 2 and not r["seq_scanned_tables_without_confirmation"] and not s["ours_healthy_failed"]
    print("goals met" if goal else "GOALS MISSED")


if __name__ == "__main__":
    sys.exit(main())
