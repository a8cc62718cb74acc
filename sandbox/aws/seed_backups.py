"""Seed the backups area after seed.seed: snapshots that hold data, a pre-window snapshot, a nightly logical dump, a
scratch role for logical drills, and last month's restore drill.

    from sandbox.aws.seed_backups import seed
    seed(sb)        # the AWS server and PostgreSQL running; seed.seed done

* The rds-restore overlay learns where prod-db's data is (the sandbox's PostgreSQL, database aifilmstudio).
* A pg_dump (custom format) of aifilmstudio is taken now. It is the data of a fresh automated snapshot
  (``rds:prod-db-<now>``: the newest, as if the backup window just ran), of every snapshot seed.seed back-dated (so
  any of them restores), of a manual pre-window snapshot ``prod-db-pre-maintenance-<yyyymmdd-hhmm>`` one hour old,
  and the nightly logical dump ``<state>/backups/aifilmstudio-<yyyymmdd>.dump``.
* Role ``opsproof_restore`` (LOGIN CREATEDB, password in <state>/secrets) is the logical drill's scratch role.
* The restore drills of [backups.drill] methods run for real (restore, validate, delete) when their record is
  missing or older than max_age_days: the healthy sandbox has passed its monthly drill.
"""

import datetime as dt
import logging
import shutil
import time

from . import admin
from .seed import DB_INSTANCE

log = logging.getLogger("sandbox.aws.seed")

SCRATCH_ROLE = "opsproof_restore"
SNAPSHOT_DIR = "rds-snapshots"


def seed(sb) -> dict:
    started = time.monotonic()
    env = sb.env
    instance = env.rds.instance_id or DB_INSTANCE
    url = sb.endpoint_url
    ensure_scratch_role(sb)
    admin.post(url, "rds/restore-config", {"socket_dir": str(sb.run_dir), "port": sb.ports.postgres,
                                           "host": "127.0.0.1", "dump_dir": str(sb.dir / SNAPSHOT_DIR),
                                           "sources": {instance: env.database.dbname}})
    now = dt.datetime.now(dt.timezone.utc)
    fresh = admin.put_snapshot(url, instance, age_hours=0)["snapshot"]
    dump = admin.post(url, "rds/snapshot-data", {"snapshot": fresh, "instance": instance}, timeout=120)["dump"]
    manual = f"{instance}-{env.backups.pre_window_snapshot_prefix}-{now:%Y%m%d-%H%M}"
    admin.put_snapshot(url, instance, snapshot=manual, type="manual", age_hours=1)
    rds = sb.client("rds")
    for snap in (s for page in rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=instance)
                 for s in page["DBSnapshots"]):  # RDS answers 100 a page
        if snap["DBSnapshotIdentifier"] != fresh:
            admin.post(url, "rds/snapshot-data", {"snapshot": snap["DBSnapshotIdentifier"], "dump": dump})
    write_logical_dump(sb, dump, now)
    drills = run_drills_if_due(sb)
    took = round(time.monotonic() - started, 2)
    log.info("seeded backups in %.2f s (fresh snapshot %s, drills run: %s)", took, fresh, drills or "none due")
    return {"fresh_snapshot": fresh, "manual_snapshot": manual, "dump": dump, "drills": drills, "seconds": took}


def ensure_scratch_role(sb) -> None:
    pw = sb.password(SCRATCH_ROLE)
    with sb.admin("postgres") as c:
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SCRATCH_ROLE,)).fetchone():
            c.execute(f"CREATE ROLE {SCRATCH_ROLE} LOGIN CREATEDB PASSWORD '{pw}'")
        else:
            c.execute(f"ALTER ROLE {SCRATCH_ROLE} LOGIN CREATEDB PASSWORD '{pw}'")


def logical_dir(sb):
    return sb.dir / "backups"


def write_logical_dump(sb, dump: str, now: dt.datetime) -> str | None:
    """The nightly pg_dump: the snapshot's dump file under the name [backups.logical] dump looks for."""
    if not sb.env.backups.logical.dump:
        return None
    folder = logical_dir(sb)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{sb.env.database.dbname}-*.dump"):
        old.unlink()
    target = folder / f"{sb.env.database.dbname}-{now:%Y%m%d}.dump"
    shutil.copyfile(dump, target)
    return str(target)


def run_drills_if_due(sb) -> list[str]:
    """Run each configured restore drill whose record is missing or too old (the sandbox's last monthly test)."""
    import actions
    from opsproof.probes import backups as probe

    env = sb.env
    ran = []
    for method in env.backups.drill.methods:
        name = "restore-drill" if method == "rds" else "logical-restore-drill"
        record = probe.read_record(probe.record_path(env, method))
        if record is not None and probe.record_age_days(record) < env.backups.drill.max_age_days / 2:
            continue
        try:
            report = actions.run(name, env, apply=True)
            ran.append(f"{name}: {'passed' if report.result and report.result.get('passed') else 'FAILED'}")
        except Exception as e:  # the monthly check will say the drill is missing or failed
            log.warning("seeding %s failed: %s", name, e)
            ran.append(f"{name}: error {e}")
    return ran

