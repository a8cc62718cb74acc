"""The runbook's "S3 Data Integrity Check: Verify Cross-Region Replication", as rules over the replication facts
(opsproof/probes/storage.py's ReplicationConfig) and the [storage] section."""

from ..config.storage import Storage
from ..findings import Finding, alarm, ok
from ..probes.storage import ReplicationConfig


def replication(cfg: ReplicationConfig, s: Storage) -> list[Finding]:
    """Versioning on both buckets, an Enabled rule to the DR bucket (the configured one when rule_id is set) that
    replicates delete markers as configured and covers the parity prefix, and a replica in another region (the
    configured one): eight ways to fail, each its own Finding."""
    want = s.replication
    source, replica = cfg.source_bucket, cfg.replica_bucket
    found = [_versioning(source, cfg.source_versioning), _versioning(replica, cfg.replica_versioning)]
    to_replica = [r for r in cfg.rules if r.destination_bucket == replica
                  and (want.rule_id is None or r.id == want.rule_id)]
    enabled = [r for r in to_replica if r.status == "Enabled"]
    rule_subject = f"{source} → {replica}"
    if not to_replica:
        found.append(alarm(rule_subject, "no replication rule to the DR bucket"
                           + (f" with ID {want.rule_id!r}" if want.rule_id else ""),
                           key="storage.replication.rule_id" if want.rule_id else None,
                           fix="put a replication rule on the source bucket (runbook: S3 Data Integrity Check)"))
    elif not enabled:
        found.append(alarm(rule_subject, f"replication rule(s) {', '.join(repr(r.id) for r in to_replica)} are "
                           f"{', '.join(r.status for r in to_replica)}, not Enabled",
                           measured=[r.status for r in to_replica], limit="Enabled"))
    for r in enabled:
        subject, wrong = f"rule {r.id!r} of {source}", []
        if want.delete_marker_replication and r.delete_marker_replication != want.delete_marker_replication:
            wrong.append(alarm(subject, f"DeleteMarkerReplication is {r.delete_marker_replication!r}, expected "
                               f"{want.delete_marker_replication!r}", measured=r.delete_marker_replication,
                               limit=want.delete_marker_replication,
                               key="storage.replication.delete_marker_replication"))
        if r.prefix and not s.parity.prefix.startswith(r.prefix):
            wrong.append(alarm(subject, f"replicates only keys under {r.prefix!r}", measured=r.prefix,
                               limit=s.parity.prefix or "(every key)", key="storage.parity.prefix"))
        found += wrong or [ok(subject, "Enabled, to the DR bucket")]
    if want.require_other_region:
        found.append(_regions(cfg, s.replica_region))
    return found


def _versioning(bucket: str, status: str) -> Finding:
    if status == "Enabled":
        return ok(bucket, "versioning Enabled", measured=status, limit="Enabled")
    return alarm(bucket, f"versioning is {status!r} (replication needs it Enabled on both buckets)",
                 measured=status, limit="Enabled", fix=f"aws s3api put-bucket-versioning --bucket {bucket} "
                 "--versioning-configuration Status=Enabled")


def _regions(cfg: ReplicationConfig, expected: str | None) -> Finding:
    replica = cfg.replica_bucket
    if cfg.replica_region == cfg.source_region:
        return alarm(replica, f"is in {cfg.replica_region}, the same region as {cfg.source_bucket}: not a "
                     "cross-region copy", measured=cfg.replica_region, limit=f"not {cfg.source_region}",
                     key="storage.replication.require_other_region")
    if expected and cfg.replica_region != expected:
        return alarm(replica, f"is in {cfg.replica_region}, not {expected}", measured=cfg.replica_region,
                     limit=expected, key="storage.replica_region")
    return ok(replica, f"in {cfg.replica_region}, another region than the source", measured=cfg.replica_region)
