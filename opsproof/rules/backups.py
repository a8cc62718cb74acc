"""The runbook's "Backup Validation" (and the "24 Hours Before: Create database backup" step) as rules over RDS's
snapshots and instances (opsproof/probes/rds.py), the restore drill's record and the logical dump
(opsproof/probes/backups.py), judged against the [backups] section."""

from ..config.backups import Backups, Drill, Logical
from ..findings import Finding, alarm, ok
from ..probes.backups import DumpRead
from ..probes.rds import Instance, Snapshot, failed_since, newest_available

SNAPSHOT_FIX = "python -m actions snapshot --apply"


def latest_automated_snapshots(snaps: dict[str, list[Snapshot]], b: Backups) -> list[Finding]:
    """Per instance (its snapshots newest first): an available automated snapshot younger than
    latest_snapshot_max_age_h, and none failed since it."""
    found = []
    limit, key = b.latest_snapshot_max_age_h, "backups.latest_snapshot_max_age_h"
    for inst, mine in snaps.items():
        newest = newest_available(mine)
        if newest is None:
            found.append(alarm(inst, "no available automated snapshot"
                               + (f" (latest {mine[0].id} is {mine[0].status!r})" if mine else ""), limit=limit,
                               key=key, fix="check the instance's backup window and events (aws rds describe-events)"))
            continue
        if newest.age_h > limit:
            found.append(alarm(inst, f"latest automated snapshot {newest.id} is {newest.age_h:.1f} h old (taken "
                               f"{newest.created:%Y-%m-%d %H:%M} UTC), more than {limit:g} h", measured=newest.age_h,
                               limit=limit, key=key))
        else:
            found.append(ok(inst, f"latest automated snapshot {newest.id} is {newest.age_h:.1f} h old",
                            measured=newest.age_h, limit=limit, key=key))
        found += [alarm(inst, f"automated snapshot {s.id} is {s.status!r}", measured=s.status, limit="available")
                  for s in failed_since(mine, newest.created)]
    return found


def retention(instances: dict[str, Instance | None], b: Backups, region: str = "") -> list[Finding]:
    """Automated backups on and kept at least min_retention_days (BackupRetentionPeriod) on each instance."""
    want, key, found = b.min_retention_days, "backups.min_retention_days", []
    for name, i in instances.items():
        if i is None:
            found.append(alarm(name, f"RDS instance {name} not found" + (f" in {region}" if region else "")))
        elif i.backup_retention_days < want:
            found.append(alarm(name, f"{name} keeps automated backups {i.backup_retention_days} day(s), fewer than "
                               f"{key} = {want}", measured=i.backup_retention_days, limit=want, key=key,
                               fix=f"aws rds modify-db-instance --db-instance-identifier {name} "
                                   f"--backup-retention-period {want} --apply-immediately"))
        else:
            found.append(ok(name, f"keeps automated backups {i.backup_retention_days} day(s)",
                            measured=i.backup_retention_days, limit=want, key=key))
    return found


def encryption(snaps: dict[str, list[Snapshot]]) -> list[Finding]:
    """Every snapshot, automated and manual, encrypted at rest: an alarm per plain one, an ok per instance."""
    found = []
    for inst, mine in snaps.items():
        plain = [s for s in mine if not s.encrypted]
        found += [alarm(s.id, f"{s.type} snapshot of {inst} is not encrypted at rest", measured=False, limit=True,
                        key="backups.require_encryption",
                        fix="copy it with a KMS key (aws rds copy-db-snapshot --kms-key-id ...) and delete the plain "
                            "one") for s in plain]
        if not plain:
            found.append(ok(inst, f"all {len(mine)} snapshot(s) encrypted", measured=len(mine)))
    return found


def pre_window_snapshot(manual: dict[str, list[Snapshot]], b: Backups) -> list[Finding]:
    """Per instance (its manual snapshots newest first): one available and at most pre_window_snapshot_max_age_h
    old."""
    limit, key, found = b.pre_window_snapshot_max_age_h, "backups.pre_window_snapshot_max_age_h", []
    for inst, mine in manual.items():
        recent = [s for s in mine if s.status == "available" and s.age_h is not None and s.age_h <= limit]
        if recent:
            found.append(ok(inst, f"manual snapshot {recent[0].id} is {recent[0].age_h:.1f} h old",
                            measured=recent[0].age_h, limit=limit, key=key))
            continue
        latest = mine[0] if mine else None
        found.append(alarm(inst, f"no available manual snapshot in the last {limit:g} h"
                           + (f" (newest: {latest.id}, {latest.status}, {latest.age_h:.1f} h old)" if latest
                              else " (none at all)"), measured=latest.age_h if latest else None, limit=limit,
                           key=key, fix=SNAPSHOT_FIX))
    return found


def drill_record(method: str, record: dict | None, age_days: float, d: Drill, where: str = "") -> list[Finding]:
    """The last restore drill of a method: recorded, within max_age_days, and passed (the record's failures)."""
    action = "restore-drill" if method == "rds" else "logical-restore-drill"
    fix = f"python -m actions {action} --apply"
    if record is None:
        return [alarm(f"{method} restore drill", f"none recorded ({where})", key="backups.drill.record", fix=fix)]
    subject = f"{method} restore drill of {record.get('snapshot')}"
    found = []
    if age_days > d.max_age_days:
        found.append(alarm(subject, f"finished {age_days:.0f} days ago, more than backups.drill.max_age_days = "
                           f"{d.max_age_days:g}", measured=round(age_days, 1), limit=d.max_age_days,
                           key="backups.drill.max_age_days", fix=fix))
    if not record.get("passed"):
        found.append(alarm(subject, f"into {record.get('drill_instance')} FAILED: "
                           + "; ".join(record.get("failures", []))
                           + " (thresholds: backups.drill.count_tolerance_pct, rpo_min, rto_min)", fix=fix))
    return found or [ok(subject, f"passed {age_days:.0f} days ago", measured=round(age_days, 1),
                        limit=d.max_age_days, key="backups.drill.max_age_days")]


def drill_instances_left(instances: list[Instance], d: Drill) -> list[Finding]:
    """No restore drill instance left running (runbook: "Clean up test instance")."""
    if not instances:
        return [ok("drill instances", f"none left behind (tag {d.tag_key} or name {d.instance_prefix}*)")]
    return [alarm(i.id, f"restore drill instance left behind ({i.status}, {i.age_h or 0:.0f} h old, "
                  + (f"tag {d.tag_key}" if i.tags.get(d.tag_key) == d.tag_value else f"name {d.instance_prefix}*")
                  + "): it costs money and holds production data", measured=i.status, limit="deleted",
                  key="backups.drill.instance_prefix",
                  fix="python -m actions restore-drill --apply deletes them") for i in instances]


def logical_dump(pattern: str, dump: DumpRead | None, lg: Logical, d: Drill) -> list[Finding]:
    """The newest dump matching the pattern: younger than max_age_h, read to its end by pg_restore, holding the data
    of every validated table."""
    drill = "python -m actions logical-restore-drill --apply"
    if dump is None:
        return [alarm(pattern, "no dump matches it", key="backups.logical.dump")]
    found = []
    if dump.age_h > lg.max_age_h:
        found.append(alarm(dump.path, f"the newest dump is {dump.age_h:.1f} h old, more than "
                           f"backups.logical.max_age_h = {lg.max_age_h:g}", measured=round(dump.age_h, 2),
                           limit=lg.max_age_h, key="backups.logical.max_age_h"))
    if dump.error:
        found.append(alarm(dump.path, f"the dump is not readable: {dump.error} ({drill} would fail too)"))
        return found
    want = {v.table if "." in v.table else f"public.{v.table}" for v in d.validations}
    missing = sorted(want - set(dump.toc.data_tables))
    if missing:
        found.append(alarm(dump.path, f"holds no data for {', '.join(missing)}", measured=len(dump.toc.data_tables),
                           key="backups.drill.validations"))
    return found or [ok(dump.path, f"{dump.age_h:.1f} h old, read through pg_restore in {dump.read_s} s, data for "
                        f"{len(dump.toc.data_tables)} table(s)", measured=round(dump.age_h, 2), limit=lg.max_age_h,
                        key="backups.logical.max_age_h")]
