"""Faults of the backups area: snapshots, the restore drill, the logical dump.

Faults that make a drill fail (restore-validation-mismatch, corrupt-dump) keep the drill records as they were
when applied and put them back on heal: a drill run under the fault leaves a failed record, and the healed sandbox
has passed its monthly drill again."""

import datetime as dt
import json
import shutil

from . import fault


def _now():
    return dt.datetime.now(dt.timezone.utc)


def _file(sb, name):
    return sb.dir / f"faults-{name}.json"


def _instance(sb):
    return sb.env.backups.instance_ids(sb.env.rds.instance_id)[0]


def _backdate(sb, name: str, snapshot_type: str, younger_than_h: float, to_h: float) -> None:
    """Move every snapshot of this type younger than younger_than_h to to_h hours old (remembered for heal)."""
    from ..aws import admin

    inst = _instance(sb)
    moved = {}
    for s in (s for p in sb.client("rds").get_paginator("describe_db_snapshots").paginate(  # 100 a page
            DBInstanceIdentifier=inst, SnapshotType=snapshot_type) for s in p["DBSnapshots"]):
        created = s.get("SnapshotCreateTime")
        if created and _now() - created < dt.timedelta(hours=younger_than_h):
            moved[s["DBSnapshotIdentifier"]] = created.isoformat()
            admin.put_snapshot(sb.endpoint_url, inst, snapshot=s["DBSnapshotIdentifier"], type=snapshot_type,
                               age_hours=to_h)
    _file(sb, name).write_text(json.dumps({"type": snapshot_type, "moved": moved}))


def _restore_dates(sb, name: str) -> None:
    from ..aws import admin

    try:
        saved = json.loads(_file(sb, name).read_text())
    except FileNotFoundError:
        return
    inst = _instance(sb)
    for snap, created in saved["moved"].items():
        age = (_now() - dt.datetime.fromisoformat(created)).total_seconds() / 3600
        admin.put_snapshot(sb.endpoint_url, inst, snapshot=snap, type=saved["type"], age_hours=age)
    _file(sb, name).unlink(missing_ok=True)


def _keep_record(sb, method: str, name: str) -> None:
    from opsproof.probes import backups

    path = backups.record_path(sb.env, method)
    keep = sb.dir / f"faults-{name}.record"
    if path.exists():
        shutil.copyfile(path, keep)
    else:
        keep.write_text("")


def _put_back_record(sb, method: str, name: str) -> None:
    from opsproof.probes import backups

    path = backups.record_path(sb.env, method)
    keep = sb.dir / f"faults-{name}.record"
    if not keep.exists():
        return
    if keep.read_text():
        shutil.copyfile(keep, path)
    else:
        path.unlink(missing_ok=True)
    keep.unlink()


@fault("stale-snapshot", area="backups")
class StaleSnapshot:
    """The latest automated snapshot of prod-db is 30 hours old: the nightly automated backup did not run."""

    def apply(self, sb):
        _backdate(sb, "stale-snapshot", "automated", younger_than_h=30, to_h=30)

    def heal(self, sb):
        _restore_dates(sb, "stale-snapshot")


@fault("no-pre-window-snapshot", area="backups")
class NoPreWindowSnapshot:
    """No manual snapshot of prod-db was taken in the last 24 hours (the newest is back-dated to 30 hours)."""

    def apply(self, sb):
        _backdate(sb, "no-pre-window-snapshot", "manual", younger_than_h=30, to_h=30)

    def heal(self, sb):
        _restore_dates(sb, "no-pre-window-snapshot")


@fault("short-backup-retention", area="backups")
class ShortBackupRetention:
    """prod-db keeps automated backups for 1 day only (BackupRetentionPeriod = 1)."""

    def apply(self, sb):
        rds = sb.client("rds")
        inst = _instance(sb)
        was = rds.describe_db_instances(DBInstanceIdentifier=inst)["DBInstances"][0]["BackupRetentionPeriod"]
        _file(sb, "short-backup-retention").write_text(json.dumps({"was": was}))
        rds.modify_db_instance(DBInstanceIdentifier=inst, BackupRetentionPeriod=1, ApplyImmediately=True)

    def heal(self, sb):
        try:
            was = json.loads(_file(sb, "short-backup-retention").read_text())["was"]
        except FileNotFoundError:
            return
        sb.client("rds").modify_db_instance(DBInstanceIdentifier=_instance(sb), BackupRetentionPeriod=was,
                                            ApplyImmediately=True)
        _file(sb, "short-backup-retention").unlink(missing_ok=True)


UNENCRYPTED = "prod-db-export-unencrypted"


@fault("unencrypted-snapshot", area="backups")
class UnencryptedSnapshot:
    """A manual snapshot of prod-db (prod-db-export-unencrypted, made for an export) is not encrypted."""

    def apply(self, sb):
        from ..aws import admin

        admin.put_snapshot(sb.endpoint_url, _instance(sb), snapshot=UNENCRYPTED, type="manual", age_hours=50,
                           encrypted=False)

    def heal(self, sb):
        from ..aws import admin

        try:
            admin.put_snapshot(sb.endpoint_url, _instance(sb), snapshot=UNENCRYPTED, delete=True)
        except admin.AdminError:
            pass


@fault("corrupt-dump", area="backups")
class CorruptDump:
    """The newest logical dump (pg_dump custom format) is truncated to half its size, as by a full disk."""

    def apply(self, sb):
        from opsproof.probes import backups

        path = backups.newest_dump(str(sb.env.path(sb.env.backups.logical.dump)))
        if path is None:
            raise RuntimeError("no logical dump to corrupt ([backups.logical] dump)")
        keep = sb.dir / "faults-corrupt-dump.dump"
        shutil.copy2(path, keep)
        _file(sb, "corrupt-dump").write_text(json.dumps({"path": str(path)}))
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 2)
        _keep_record(sb, "logical", "corrupt-dump")

    def heal(self, sb):
        try:
            path = json.loads(_file(sb, "corrupt-dump").read_text())["path"]
        except FileNotFoundError:
            return
        shutil.copy2(sb.dir / "faults-corrupt-dump.dump", path)
        (sb.dir / "faults-corrupt-dump.dump").unlink()
        _file(sb, "corrupt-dump").unlink()
        _put_back_record(sb, "logical", "corrupt-dump")


TAMPER = [
    # 5% of the projects are gone (their jobs and assets now point nowhere: foreign key orphans) ...
    "DELETE FROM projects WHERE id % 20 = 0",
    # ... and the last six hours of jobs before the snapshot are missing (beyond the RPO).
    "DELETE FROM jobs WHERE created_at > (SELECT max(created_at) FROM jobs) - interval '6 hours'",
]


@fault("restore-validation-mismatch", area="backups")
class RestoreValidationMismatch:
    """Restores disagree with their source: every database restored from a snapshot lacks 5% of its projects (their
    jobs and assets orphaned) and its last six hours of jobs."""

    def apply(self, sb):
        from ..aws import admin

        _keep_record(sb, "rds", "restore-validation-mismatch")
        admin.post(sb.endpoint_url, "rds/restore-tamper", {"sql": TAMPER})

    def heal(self, sb):
        from ..aws import admin

        admin.post(sb.endpoint_url, "rds/restore-tamper", {"sql": []})
        _put_back_record(sb, "rds", "restore-validation-mismatch")


@fault("orphaned-drill-instance", area="backups")
class OrphanedDrillInstance:
    """Last month's restore drill crashed and left its instance running: test-restore-<last month>, tagged as a
    drill, 20 days old (a real database on the sandbox's PostgreSQL)."""

    def name(self, sb):
        last_month = _now().replace(day=1) - dt.timedelta(days=1)
        return f"{sb.env.backups.drill.instance_prefix}{last_month:%Y%m}"

    def apply(self, sb):
        from opsproof.probes import rds as probe

        from ..aws import admin

        d = sb.env.backups.drill
        rds = sb.client("rds")
        snap = probe.newest_available(probe.snapshots(rds, _instance(sb), "automated"))
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=self.name(sb), DBSnapshotIdentifier=snap.id, DeletionProtection=False,
            Tags=[{"Key": d.tag_key, "Value": d.tag_value}, {"Key": "opsproof:source", "Value": _instance(sb)}])
        admin.post(sb.endpoint_url, "rds/instance-created", {"instance": self.name(sb), "age_days": 20})

    def heal(self, sb):
        rds = sb.client("rds")
        try:
            rds.delete_db_instance(DBInstanceIdentifier=self.name(sb), SkipFinalSnapshot=True)
        except rds.exceptions.DBInstanceNotFoundFault:
            pass


@fault("restore-slow-states", area="backups")
class RestoreSlowStates:
    """Restores take RDS's detours before they are available: creating (the data), then modifying for 1.5 s, then
    backing-up for 2.5 s. Healthy: the drill must wait for them (bounded) and pass."""

    def apply(self, sb):
        from ..aws import admin

        admin.post(sb.endpoint_url, "rds/restore-phases", {"phases": [["modifying", 1.5], ["backing-up", 2.5]]})

    def heal(self, sb):
        from ..aws import admin

        admin.post(sb.endpoint_url, "rds/restore-phases", {})


@fault("restore-stuck", area="backups")
class RestoreStuck:
    """Restores never finish: after loading the data the instance stays backing-up (the drill must give up at
    backups.drill.wait_timeout_min, name the instance, and still delete it)."""

    def apply(self, sb):
        from ..aws import admin

        _keep_record(sb, "rds", "restore-stuck")
        admin.post(sb.endpoint_url, "rds/restore-phases", {"phases": [["modifying", 0.3]], "stuck": "backing-up"})

    def heal(self, sb):
        from ..aws import admin

        admin.post(sb.endpoint_url, "rds/restore-phases", {})
        _put_back_record(sb, "rds", "restore-stuck")
