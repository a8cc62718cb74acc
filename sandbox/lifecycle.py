"""up / down / status of the whole sandbox. `up` is idempotent: parts already running are left alone."""

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from . import faults, postgres, procs, tls
from .state import SANDBOX_CREDENTIALS, Sandbox


@dataclass
class Part:
    name: str
    port_key: str


PARTS = [Part("postgres", "postgres"), Part("aws", "aws"), Part("web", "http")]


def lock(sb: Sandbox) -> FileLock:
    """One sandbox start/stop at a time, across xdist workers and parallel pytest runs."""
    sb.dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(sb.dir / "lifecycle.lock"), timeout=120)


def part_running(sb: Sandbox, part: str) -> bool:
    if part == "postgres":
        return postgres.initialised(sb) and procs.port_open(sb.ports.postgres) and postgres.running(sb)
    return procs.read_pid(sb.run_dir / f"{part}.pid") is not None and procs.port_open(getattr(sb.ports, {
        "aws": "aws", "web": "http"}[part]))


def is_up(sb: Sandbox) -> bool:
    return all(part_running(sb, p.name) for p in PARTS)


def up(sb: Sandbox, log=print) -> bool:
    """Start what is not running; returns True when anything was started."""
    with lock(sb):
        if is_up(sb):
            return False
        t0 = time.monotonic()
        started: list[str] = []
        try:
            for p in PARTS:
                if not part_running(sb, p.name):
                    procs.ensure_port_free(getattr(sb.ports, p.port_key), p.port_key)
            if not part_running(sb, "web"):
                procs.ensure_port_free(sb.ports.tls, "tls")
                procs.ensure_port_free(sb.ports.smtp, "smtp")
            tls.ensure(sb.tls_dir)
            sb.run_dir.mkdir(parents=True, exist_ok=True)
            if not part_running(sb, "postgres"):
                started.append("postgres")
                _start_postgres(sb, log)
            if not part_running(sb, "aws"):
                started.append("aws")  # before seeding: a seed that fails must not leave the server behind
                _start_aws(sb, log)
            if not part_running(sb, "web"):
                started.append("web")
                procs.start("web", [procs.python(), "-m", "sandbox.web", "--state-dir", str(sb.dir),
                                    "--http-port", str(sb.ports.http), "--tls-port", str(sb.ports.tls),
                                    "--smtp-port", str(sb.ports.smtp)],
                            sb.run_dir, sb.log_dir, sb.ports.tls)
        except BaseException:
            _stop(sb, started)
            raise
        log(f"sandbox up in {time.monotonic() - t0:.1f}s (started: {', '.join(started)})")
        return True


def _start_postgres(sb: Sandbox, log) -> None:
    marker = sb.pg_data.parent / "seeded"
    wanted = _seed_fingerprint(sb)
    if postgres.initialised(sb) and (not marker.exists() or marker.read_text() != wanted):
        # Died before seeding finished, or seeded by an older sandbox or on other ports: the data is disposable.
        for child in sb.pg_data.parent.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
        log("postgres: re-creating the database (its seed or ports changed)")
    fresh = not postgres.initialised(sb)
    if fresh:
        postgres.init(sb)
    postgres.start(sb)
    postgres.wait_ready(sb)
    if fresh:
        postgres.seed(sb)
        marker.write_text(wanted)
        log("postgres: initialised and seeded")


def _seed_fingerprint(sb: Sandbox) -> str:
    """What the seeded data depends on: the seeding code, the database section and the port."""
    h = hashlib.sha256(Path(postgres.__file__).read_bytes())
    h.update(repr((sb.ports.postgres, sb.env.database)).encode())
    return h.hexdigest()[:16]


def _start_aws(sb: Sandbox, log) -> None:
    procs.start("aws", [procs.python(), "-m", "sandbox.aws.server", "--host", "127.0.0.1",
                        "--port", str(sb.ports.aws), "--state-dir", str(sb.dir)],
                sb.run_dir, sb.log_dir, sb.ports.aws)
    from . import aws  # moto is in memory: every start is a fresh seed

    for seeder in aws.seeders():
        seeder(sb)
    # Faults that lived in the AWS server died with it.
    sb.record_faults([f for f in sb.applied_faults() if faults.get(f).part != "aws"])


def _stop(sb: Sandbox, parts: list[str]) -> None:
    for name in reversed(parts):
        if name == "postgres":
            postgres.stop(sb)
        else:
            procs.stop(name, sb.run_dir)


def down(sb: Sandbox, purge: bool = False, log=print) -> None:
    with lock(sb):
        if is_up(sb):
            try:
                healed = faults.heal(sb)
                if healed:
                    log(f"healed: {', '.join(healed)}")
            except Exception as e:  # noqa: BLE001 - stopping matters more than a clean heal
                log(f"could not heal every fault before stopping ({e}); purge to start clean")
        _stop(sb, [p.name for p in PARTS])
        sb.web_control.unlink(missing_ok=True)
        if purge:
            shutil.rmtree(sb.dir, ignore_errors=True)
        log("sandbox down" + (" and purged" if purge else ""))


def exports(sb: Sandbox) -> list[str]:
    """How to reach each part, as shell lines (only the sandbox's own throwaway secrets)."""
    db = sb.env.database
    ep = sb.env.certificates.endpoints[0] if sb.env.certificates.endpoints else None
    lines = [
        f"export OPSPROOF_ENV={sb.env_name}",
        f"export PGHOST=127.0.0.1 PGPORT={sb.ports.postgres} PGDATABASE={db.dbname} PGUSER={db.user}",
        f"export PGPASSWORD={sb.password(db.user)}  # sandbox throwaway (read-only role)",
        f"export AWS_ENDPOINT_URL={sb.endpoint_url} AWS_DEFAULT_REGION={sb.env.aws.region}",
        f"export AWS_ACCESS_KEY_ID={SANDBOX_CREDENTIALS['aws_access_key_id']} "
        f"AWS_SECRET_ACCESS_KEY={SANDBOX_CREDENTIALS['aws_secret_access_key']}",
        f"export OPSPROOF_SANDBOX_CA={sb.tls_dir / 'ca.pem'}",
        f"export OPSPROOF_API_URL=http://127.0.0.1:{sb.ports.http}",
    ]
    if ep:
        lines.append(f"export OPSPROOF_TLS_ENDPOINT={ep.host}:{ep.port}  # SNI {ep.server_name or ep.host}")
    return lines
