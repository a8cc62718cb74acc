"""A real PostgreSQL server for the sandbox: the system's binaries, run as an unprivileged user, seeded like prod.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user (created if missing);
as anyone else it runs as that user. It listens on 127.0.0.1 and on a unix socket in the sandbox's run dir.
"""

import os
import pwd
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
    subprocess.run(
        _as_server_user([str(bindir() / "initdb"), "-D", str(sb.pg_data), "-U", "postgres", "--auth-local=trust",
                         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
        check=True, capture_output=True, text=True,
    )
    conf = sb.pg_data / "postgresql.conf"
    with conf.open("a") as f:
        f.write(
            "\n# opsproof sandbox: a small, fast stand-in for RDS\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sb.run_dir}'\n"
            "shared_buffers = 64MB\n"
            "max_connections = 60\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "wal_level = replica\nmax_wal_senders = 4\nmax_replication_slots = 4\n"
            "track_counts = on\ntrack_activities = on\n"
            "autovacuum_naptime = 10s\n"
            "shared_preload_libraries = 'pg_stat_statements'\n"
            "max_prepared_transactions = 4\n"
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


def stop(sb: Sandbox) -> None:
    if initialised(sb):
        subprocess.run(_as_server_user([str(bindir() / "pg_ctl"), "stop", "-D", str(sb.pg_data), "-m", "fast",
                                        "-w", "-t", "20"]), capture_output=True, text=True)


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
"""

# Volumes: order of 10^5 jobs; a fifth of them completed more than 90 days ago (what archive-jobs moves to S3).
VOLUME = {"users": 5_000, "projects": 20_000, "jobs": 120_000, "assets": 40_000}

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
       now() - make_interval(mins => ({jobs} - g) * 2),
       CASE WHEN g > {jobs} - 200 THEN NULL ELSE now() - make_interval(mins => ({jobs} - g) * 2 - 5) END
FROM generate_series(1, {jobs}) g;
INSERT INTO assets (project_id, s3_key, size_bytes, created_at)
SELECT 1 + (g * 31) % {projects}, 'media/' || g || '/render.mp4', 1048576 + (g::bigint * 7777) % 50000000,
       now() - make_interval(mins => ({assets} - g) * 6)
FROM generate_series(1, {assets}) g;
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
        c.execute("RESET ROLE")
        c.execute("VACUUM ANALYZE")
