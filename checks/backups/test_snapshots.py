"""RDS automated backups and the pre-window manual snapshot (runbook: "Backup Validation"; "Pre-Maintenance
Checklist, 24 Hours Before: Create database backup"). Describe calls only (opsproof/probes/rds.py)."""


import pytest

from opsproof import findings
from opsproof.probes import rds
from opsproof.rules import backups as rules

pytestmark = [pytest.mark.backups]


def _instances(env):
    return env.backups.instance_ids(env.rds.instance_id)


def _snapshots(env, aws, snapshot_type=None) -> dict[str, list[rds.Snapshot]]:
    return {inst: rds.snapshots(aws("rds", "backups"), inst, snapshot_type) for inst in _instances(env)}


def _rows(snaps: dict[str, list[rds.Snapshot]], newest: int | None = 3) -> list[dict]:
    return [{"instance": inst, **s.row()} for inst, mine in snaps.items() for s in mine[:newest]]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_latest_automated_snapshot_is_recent(env, aws, evidence):
    """The latest automated snapshot of each database instance is available and younger than 24 hours."""
    snaps = _snapshots(env, aws, "automated")
    evidence.table("newest automated snapshots", _rows(snaps))
    findings.expect_no_alarm(rules.latest_automated_snapshots(snaps, env.backups), evidence)


@pytest.mark.nightly
@pytest.mark.quarterly
def test_backup_retention_is_enough(env, aws, evidence):
    """Automated backups are on and kept at least 7 days (BackupRetentionPeriod)."""
    found = {inst: rds.instance(aws("rds", "backups"), inst) for inst in _instances(env)}
    evidence.table("backup retention", [{"instance": k, "backup_retention_days": i and i.backup_retention_days}
                                        for k, i in found.items()])
    findings.expect_no_alarm(rules.retention(found, env.backups, env.aws_target("backups").region), evidence)


@pytest.mark.nightly
@pytest.mark.quarterly
def test_snapshots_are_encrypted(env, aws, evidence):
    """Every snapshot of each database instance, automated and manual, is encrypted at rest."""
    if not env.backups.require_encryption:
        pytest.skip("backups.require_encryption = false")
    snaps = _snapshots(env, aws)
    evidence.value("snapshots", sum(len(x) for x in snaps.values()))
    evidence.table("unencrypted snapshots", [r for r in _rows(snaps, None) if not r["encrypted"]])
    findings.expect_no_alarm(rules.encryption(snaps), evidence)


@pytest.mark.pre_maintenance
def test_pre_window_snapshot_exists(env, aws, evidence):
    """Before a window a manual snapshot of each database instance was taken within the last 24 hours and is
    available (python -m actions snapshot --apply)."""
    manual = _snapshots(env, aws, "manual")
    evidence.table("newest manual snapshots", _rows(manual))
    findings.expect_no_alarm(rules.pre_window_snapshot(manual, env.backups), evidence)
