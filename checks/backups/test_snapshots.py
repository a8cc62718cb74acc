"""RDS automated backups and the pre-window manual snapshot (runbook: "Backup Validation"; "Pre-Maintenance
Checklist, 24 Hours Before: Create database backup"). Describe calls only (opsproof/probes/backups.py)."""


import pytest

from opsproof.probes import backups, rds

pytestmark = [pytest.mark.backups]


def _instances(env):
    return env.backups.instance_ids(env.rds.instance_id)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_latest_automated_snapshot_is_recent(env, aws, evidence):
    """The latest automated snapshot of each database instance is available and younger than 24 hours."""
    b = env.backups
    client = aws("rds", "backups")
    problems, rows = [], []
    for inst in _instances(env):
        snaps = backups.snapshots(client, inst, "automated")
        newest = backups.newest_available(snaps)
        failed = backups.failed_since(snaps, newest.created if newest else None)
        rows += [{"instance": inst, **s.row()} for s in snaps[:3]]
        if newest is None:
            problems.append(f"{inst}: no available automated snapshot"
                            + (f" (latest {snaps[0].id} is {snaps[0].status!r})" if snaps else ""))
            continue
        if newest.age_h > b.latest_snapshot_max_age_h:
            problems.append(f"{inst}: latest automated snapshot {newest.id} is {newest.age_h:.1f} h old (taken "
                            f"{newest.created:%Y-%m-%d %H:%M} UTC)")
        for s in failed:
            problems.append(f"{inst}: automated snapshot {s.id} is {s.status!r}")
    evidence.table("newest automated snapshots", rows)
    evidence.value("threshold", b.latest_snapshot_max_age_h, "h (backups.latest_snapshot_max_age_h)")
    assert not problems, "; ".join(problems) + f" — threshold backups.latest_snapshot_max_age_h = " \
                                               f"{b.latest_snapshot_max_age_h:g} h"


@pytest.mark.nightly
@pytest.mark.quarterly
def test_backup_retention_is_enough(env, aws, evidence):
    """Automated backups are on and kept at least 7 days (BackupRetentionPeriod)."""
    want = env.backups.min_retention_days
    rows, short = [], []
    for inst in _instances(env):
        i = rds.instance(aws("rds", "backups"), inst)
        assert i is not None, f"RDS instance {inst} not found in {env.aws_target('backups').region}"
        rows.append({"instance": inst, "backup_retention_days": i.backup_retention_days})
        if i.backup_retention_days < want:
            short.append(f"{inst} keeps automated backups {i.backup_retention_days} day(s)")
    evidence.table("backup retention", rows)
    assert not short, f"{'; '.join(short)}, fewer than backups.min_retention_days = {want}"


@pytest.mark.nightly
@pytest.mark.quarterly
def test_snapshots_are_encrypted(env, aws, evidence):
    """Every snapshot of each database instance, automated and manual, is encrypted at rest."""
    if not env.backups.require_encryption:
        pytest.skip("backups.require_encryption = false")
    client = aws("rds", "backups")
    plain, total = [], 0
    for inst in _instances(env):
        snaps = backups.snapshots(client, inst)
        total += len(snaps)
        plain += [{"instance": inst, **s.row()} for s in snaps if not s.encrypted]
    evidence.value("snapshots", total)
    evidence.table("unencrypted snapshots", plain)
    assert not plain, (f"{len(plain)} unencrypted snapshot(s): {', '.join(p['snapshot'] for p in plain)} "
                       "(backups.require_encryption)")


@pytest.mark.pre_maintenance
def test_pre_window_snapshot_exists(env, aws, evidence):
    """Before a window a manual snapshot of each database instance was taken within the last 24 hours and is
    available (python -m actions snapshot --apply)."""
    b = env.backups
    client = aws("rds", "backups")
    missing, rows = [], []
    for inst in _instances(env):
        manual = [s for s in backups.snapshots(client, inst, "manual")]
        rows += [{"instance": inst, **s.row()} for s in manual[:3]]
        recent = [s for s in manual if s.status == "available" and s.age_h is not None
                  and s.age_h <= b.pre_window_snapshot_max_age_h]
        if not recent:
            latest = manual[0] if manual else None
            missing.append(f"{inst}: no available manual snapshot in the last {b.pre_window_snapshot_max_age_h:g} h"
                           + (f" (newest: {latest.id}, {latest.status}, {latest.age_h:.1f} h old)" if latest else
                              " (none at all)"))
    evidence.table("newest manual snapshots", rows)
    assert not missing, "; ".join(missing) + " (backups.pre_window_snapshot_max_age_h). Run: python -m actions " \
                                             "snapshot --apply"
