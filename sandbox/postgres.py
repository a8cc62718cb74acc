"""A real PostgreSQL server for the sandbox: the system's binaries, run as an unprivileged user, seeded like prod.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user (created if missing);
as anyone else it runs as that user. It listens on 127.0.0.1 and on a unix socket in the sandbox's run dir.
"""

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from .state import Sandbox

SEARCH = ["/usr/lib/postgresql/*/bin"]


def bindir() -> Path:
    """The newest installed server's bin dir (Debian layout), else whatever pg_ctl is on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    for c in candidates:
        if (c / "initdb").exists():
            return c
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("no PostgreSQL server binaries found: install them with scripts/install-system-deps "
                       "(apt-get install postgresql)")


def _server_user() -> str | None:
    """The OS user that runs the server: None means 'whoever we are' (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


def _as_server_user(argv: list[str]) -> list[str]:
    user = _server_user()
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _chown(path: Path) -> None:
    user = _server_user()
    if user:
        pw = pwd.getpwnam(user)
        for p in [path, *path.rglob("*")]:
            os.chown(p, pw.pw_uid, pw.pw_gid)


def initialised(sb: Sandbox) -> bool:
    return (sb.pg_data / "PG_VERSION").exists()


def init(sb: Sandbox) -> None:
    sb.pg_data.parent.mkdir(parents=True, exist_ok=True)
    sb.dir.chmod(sb.dir.stat().st_mode | 0o711)  # the server's user must reach its data dir inside
    sb.run_dir.mkdir(parents=True, exist_ok=True)
    sb.log_dir.mkdir(parents=True, exist_ok=True)
    _chown(sb.pg_data.parent)
    _chown(sb.run_dir)
    _chown(sb.log_dir)
    r = subprocess.run(
        _as_server_user([str(bindir() / "initdb"), "-D", str(sb.pg_data), "-U", "postgres", "--auth-local=trust",
                         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
        capture_output=True, text=True,
    )
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["?"])[-1]
        if "Permission denied" in r.stderr:
            why += f" (the {_server_user()} user must be able to reach {sb.dir}: every parent folder needs o+x)"
        raise RuntimeError(f"initdb failed: {why}")
    conf = sb.pg_data / "postgresql.conf"
    with conf.open("a") as f:
        f.write(
            "\n# opsproof sandbox: a small, fast stand-in for RDS\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sb.run_dir}'\n"
            "shared_buffers = 64MB\n"
            "max_connections = 60\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            # logical, as RDS with rds.logical_replication = 1 (DMS, Debezium): logical slots and their catalog_xmin
            "wal_level = logical\nmax_wal_senders = 4\nmax_replication_slots = 4\n"
            "track_counts = on\ntrack_activities = on\n"
            "autovacuum_naptime = 10s\n"
            "shared_preload_libraries = 'pg_stat_statements'\n"
            "max_prepared_transactions = 4\n"
            # The lowest value PostgreSQL allows: autovacuum keeps every database's age(datfrozenxid) near 100k, so
            # the xid-wraparound-risk fault can cross the sandbox's threshold by burning ~150k XIDs in a second.
            "autovacuum_freeze_max_age = 100000\n"
        )


def running(sb: Sandbox) -> bool:
    r = subprocess.run(_as_server_user([str(bindir() / "pg_ctl"), "status", "-D", str(sb.pg_data)]),
                       capture_output=True, text=True)
    return r.returncode == 0


def start(sb: Sandbox, timeout: float = 15) -> None:
    log = sb.log_dir / "postgres.log"
    log.touch()
    _chown(log)
    r = subprocess.run(
        _as_server_user([str(bindir() / "pg_ctl"), "start", "-D", str(sb.pg_data), "-l", str(log),
                         "-o", f"-p {sb.ports.postgres}", "-w", "-t", str(int(timeout))]),
        capture_output=True, text=True,
    )
    if r.returncode != 0:
        tail = log.read_text().strip().splitlines()[-3:]
        raise RuntimeError(f"PostgreSQL did not start on port {sb.ports.postgres}: {' | '.join(tail)}")
    if (sb.pg_data.parent / "seeded").exists():
        create_replicas(sb)  # a sandbox seeded before replicas existed gets them now
    for name, data, port in replicas(sb):
        if (data / "PG_VERSION").exists() and not _pg_ctl_ok("status", data):
            _start_replica(sb, name, data, port, timeout)


def stop(sb: Sandbox) -> None:
    for _, data, _ in replicas(sb):
        if (data / "PG_VERSION").exists():
            _pg_ctl_ok("stop", data, "-m", "fast", "-w", "-t", "20")
    if initialised(sb):
        subprocess.run(_as_server_user([str(bindir() / "pg_ctl"), "stop", "-D", str(sb.pg_data), "-m", "fast",
                                        "-w", "-t", "20"]), capture_output=True, text=True)


# ---- read replicas -------------------------------------------------------------------------------------------------
# Each name in [database.replication] replicas is a real streaming replica of the sandbox's server: a pg_basebackup
# in <state>/pg/replica-N, listening on the server's port + N, connected as application_name NAME through a physical
# replication slot (as RDS read replicas are). The replica-lag fault pauses its replay.
def replicas(sb: Sandbox) -> list[tuple[str, Path, int]]:
    """(application_name, data dir, port) of every configured replica."""
    names = sb.env.database.replication.replicas if sb.env.database else []
    return [(n, sb.dir / "pg" / f"replica-{i}", sb.ports.postgres + i) for i, n in enumerate(names, start=1)]


def replica_dsn(sb: Sandbox, port: int) -> str:
    """Superuser on a replica over the unix socket (read-only: it is in recovery)."""
    return f"host={sb.run_dir} port={port} dbname={sb.env.database.dbname} user=postgres connect_timeout=3"


def _pg_ctl_ok(cmd: str, data: Path, *args: str) -> bool:
    r = subprocess.run(_as_server_user([str(bindir() / "pg_ctl"), cmd, "-D", str(data), *args]),
                       capture_output=True, text=True)
    return r.returncode == 0


def create_replicas(sb: Sandbox) -> None:
    """pg_basebackup each missing replica from the running server (about a second each)."""
    for name, data, port in replicas(sb):
        if (data / "PG_VERSION").exists():
            continue
        shutil.rmtree(data, ignore_errors=True)
        data.parent.mkdir(parents=True, exist_ok=True)
        slot = re.sub(r"[^a-z0-9_]", "_", name.lower())
        with sb.admin("postgres") as c:
            if not c.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone():
                c.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))
        _chown(data.parent)
        subprocess.run(_as_server_user([
            str(bindir() / "pg_basebackup"), "-D", str(data), "-h", str(sb.run_dir), "-p", str(sb.ports.postgres),
            "-U", "postgres", "-X", "stream", "-S", slot, "-R", "--no-sync", "-c", "fast"]),
            check=True, capture_output=True, text=True, timeout=120)
        with (data / "postgresql.auto.conf").open("a") as f:
            f.write(f"\n# opsproof sandbox replica\nprimary_conninfo = 'host={sb.run_dir} port={sb.ports.postgres} "
                    f"user=postgres application_name={name}'\nprimary_slot_name = '{slot}'\n"
                    # report replay progress every second, so a healed replica-lag shows within a second
                    "wal_receiver_status_interval = 1\n")
        _chown(data)
        _start_replica(sb, name, data, port)


def _start_replica(sb: Sandbox, name: str, data: Path, port: int, timeout: float = 15) -> None:
    log = sb.log_dir / f"{name}.log"
    log.touch()
    _chown(log)
    r = subprocess.run(_as_server_user([str(bindir() / "pg_ctl"), "start", "-D", str(data), "-l", str(log),
                                        "-o", f"-p {port}", "-w", "-t", str(int(timeout))]),
                       capture_output=True, text=True)
    if r.returncode != 0:
        tail = log.read_text().strip().splitlines()[-3:]
        raise RuntimeError(f"replica {name} did not start on port {port}: {' | '.join(tail)}")


def wait_ready(sb: Sandbox, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with sb.admin("postgres"):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


SCHEMA = """
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  plan text NOT NULL DEFAULT 'free',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE projects (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id),
  title text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects(id),
  kind text NOT NULL,
  status text NOT NULL,
  gpu_seconds integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE TABLE assets (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects(id),
  s3_key text NOT NULL,
  size_bytes bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_users_email ON users (email);
CREATE INDEX idx_projects_user_id ON projects (user_id);
CREATE INDEX idx_jobs_project_id ON jobs (project_id);
CREATE INDEX idx_jobs_status_created_at ON jobs (status, created_at);
CREATE INDEX idx_assets_project_id ON assets (project_id);
-- Two tables from the days before PostgreSQL 10, as pg_upgrade kept them: webhooks' `serial` key is an int4 fed by
-- an int4 sequence; job_events' int4 key is fed by a bigint sequence (every sequence was bigint then), so the column
-- overflows at 2^31 - 1 long before its sequence looks used.
CREATE TABLE webhooks (
  id serial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects(id),
  url text NOT NULL
);
CREATE SEQUENCE job_events_id_seq AS bigint;
CREATE TABLE job_events (
  id integer PRIMARY KEY DEFAULT nextval('job_events_id_seq'),
  job_id bigint NOT NULL,
  event text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE job_events_id_seq OWNED BY job_events.id;
"""

# Volumes: order of 10^5 jobs, one every 30 s over the last 42 days. The healthy sandbox has no completed job older
# than the runbook's 90 days (as if archive-jobs ran last week); the `unarchived-jobs` fault adds some for archive-jobs
# to move. The data ages with the sandbox: after 48 days the oldest seeded jobs pass 90 days (purge and re-seed).
VOLUME = {"users": 5_000, "projects": 20_000, "jobs": 120_000, "assets": 40_000, "webhooks": 500, "job_events": 2_000}

DATA = """
INSERT INTO users (email, name, plan, created_at)
SELECT 'user' || g || '@example.test', 'User ' || g, (ARRAY['free','pro','studio'])[1 + g % 3],
       now() - make_interval(days => 400 - (g * 400 / {users}))
FROM generate_series(1, {users}) g;
INSERT INTO projects (user_id, title, created_at)
SELECT 1 + (g::bigint * 7919) % {users}, 'Project ' || g, now() - make_interval(days => 360 - (g * 360 / {projects}))
FROM generate_series(1, {projects}) g;
INSERT INTO jobs (project_id, kind, status, gpu_seconds, created_at, finished_at)
SELECT 1 + (g::bigint * 104729) % {projects},
       (ARRAY['render','upscale','voice','edit'])[1 + g % 4],
       CASE WHEN g % 50 = 0 THEN 'failed' WHEN g > {jobs} - 200 THEN 'running' ELSE 'completed' END,
       30 + g % 600,
       now() - make_interval(secs => ({jobs} - g) * 30),
       CASE WHEN g > {jobs} - 200 THEN NULL ELSE now() - make_interval(secs => ({jobs} - g) * 30 - 300) END
FROM generate_series(1, {jobs}) g;
INSERT INTO assets (project_id, s3_key, size_bytes, created_at)
SELECT 1 + (g * 31) % {projects}, 'media/' || g || '/render.mp4', 1048576 + (g::bigint * 7777) % 50000000,
       now() - make_interval(mins => ({assets} - g) * 6)
FROM generate_series(1, {assets}) g;
INSERT INTO webhooks (project_id, url)
SELECT 1 + (g * 37) % {projects}, 'https://hooks.example.test/' || g FROM generate_series(1, {webhooks}) g;
INSERT INTO job_events (job_id, event, at)
SELECT {jobs} - g / 2, (ARRAY['queued','finished'])[1 + g % 2], now() - make_interval(secs => g * 15)
FROM generate_series(1, {job_events}) g;
"""


def seed(sb: Sandbox) -> None:
    """Roles, database, schema and data; finishes with VACUUM ANALYZE so a fresh sandbox is healthy."""
    db = sb.env.database
    check_pw, action_pw, app_pw = sb.password(db.user), sb.password(db.action_user), sb.password("app")
    with sb.admin("postgres") as c:
        c.execute(f"CREATE ROLE app LOGIN PASSWORD '{app_pw}'")
        # Checks: read everything, change nothing, and every session read-only by default.
        c.execute(f"CREATE ROLE {db.user} LOGIN PASSWORD '{check_pw}' IN ROLE pg_monitor, pg_read_all_data")
        c.execute(f"ALTER ROLE {db.user} SET default_transaction_read_only = on")
        # Actions: member of the owner role, so VACUUM/REINDEX/DELETE work; not a superuser.
        c.execute(f"CREATE ROLE {db.action_user} LOGIN PASSWORD '{action_pw}' IN ROLE app, pg_monitor, "
                  "pg_signal_backend")
        c.execute(f"CREATE DATABASE {db.dbname} OWNER app")
    with sb.admin() as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple; CREATE EXTENSION IF NOT EXISTS amcheck; "
                  "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        c.execute("GRANT EXECUTE ON FUNCTION bt_index_check(regclass, boolean) TO pg_monitor")
        c.execute("SET ROLE app")
        c.execute(SCHEMA)
        c.execute(DATA.format(**VOLUME))
        # Production tuning of the one big, busy table: autovacuum at 5% dead rather than 20% (the checks honour
        # per-table settings: its own trigger is 50 + 0.05 x reltuples).
        c.execute("ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.05, "
                  "autovacuum_analyze_scale_factor = 0.02)")
        c.execute("RESET ROLE")
        started = c.execute("SELECT now()").fetchone()[0]
        c.execute("VACUUM ANALYZE")
        # That VACUUM ANALYZE is the sandbox's first maintenance window: record it as vacuum-analyze would.
        tables = [r[0] for r in c.execute("SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables "
                                          "ORDER BY 1")]
        from opsproof.postgres import window

        window.write_record(sb.env.path(sb.env.database.window.record), window.Record(
            action="sandbox seed (VACUUM ANALYZE)", started_at=started, vacuumed=tables, analyzed=tables))
    create_replicas(sb)


# ---- sessions held open by a helper process (the connection faults) ------------------------------------------------
HOLD_STATES = {"idle": "idle", "idle-in-transaction": "idle in transaction", "active": "active"}


def hold(sb: Sandbox, name: str, count: int, mode: str, timeout: float = 20) -> int:
    """Start a detached process that holds `count` sessions as the application's role `app`, with application_name
    opsproof-fault-NAME: 'idle' (connected), 'idle-in-transaction' (BEGIN, a read, then nothing) or 'active' (a
    query sleeping for a day). Returns its pid once every session shows in that state in pg_stat_activity."""
    import signal
    import sys

    release(sb, name)
    app_name = f"opsproof-fault-{name}"
    db = sb.env.database
    sb.run_dir.mkdir(parents=True, exist_ok=True)
    log = open(sb.log_dir / f"fault-{name}.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.postgres", "hold", "--port", str(sb.ports.postgres), "--dbname", db.dbname,
         "--count", str(count), "--mode", mode, "--application-name", app_name],
        env={**os.environ, "PGPASSWORD": sb.password("app")}, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
    (sb.run_dir / f"fault-{name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    with sb.admin() as c:
        while True:
            n = c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state = %s",
                          (app_name, HOLD_STATES[mode])).fetchone()[0]
            if n >= count:
                return proc.pid
            if proc.poll() is not None or time.monotonic() > deadline:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError(f"the {name} helper held {n} of {count} sessions (see {log.name})")
            time.sleep(0.05)


def release(sb: Sandbox, name: str, timeout: float = 10) -> None:
    """Stop the helper of hold() and make sure none of its sessions is left."""
    import signal

    pidfile = sb.run_dir / f"fault-{name}.pid"
    if pidfile.exists():
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
        pidfile.unlink(missing_ok=True)
    app_name = f"opsproof-fault-{name}"
    deadline = time.monotonic() + timeout
    with sb.admin() as c:
        while c.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                        (app_name,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"sessions {app_name} did not end within {timeout:.0f}s")
            time.sleep(0.05)


def _hold_main(argv: list[str]) -> None:
    """The helper process of hold(): open the sessions, put them in their state, wait to be killed."""
    import argparse
    import threading

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dbname", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--mode", choices=list(HOLD_STATES), required=True)
    p.add_argument("--application-name", required=True)
    a = p.parse_args(argv)
    conns = [psycopg.connect(host="127.0.0.1", port=a.port, dbname=a.dbname, user="app", connect_timeout=3,
                             application_name=a.application_name, autocommit=a.mode != "idle-in-transaction")
             for _ in range(a.count)]
    for c in conns:
        if a.mode == "idle-in-transaction":
            c.execute("SELECT count(*) FROM users")  # the transaction stays open: a snapshot, a lock on users
        elif a.mode == "active":
            threading.Thread(target=c.execute, args=("SELECT pg_sleep(86400)",), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["hold"]:
        _hold_main(sys.argv[2:])
