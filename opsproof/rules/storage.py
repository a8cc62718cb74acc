"""The runbook's "S3 Data Integrity Check: Verify Cross-Region Replication", as rules over the storage facts
(opsproof/probes/storage.py's ReplicationConfig, Parity, Status, MetaDiff; storage_inventory.py's Report) and the
[storage] section."""

from ..config.storage import Inventory, Storage
from ..findings import Finding, alarm, ok
from ..probes.storage import MetaDiff, Parity, ReplicationConfig, Rule, Status
from ..probes.storage_inventory import Report

RUNBOOK = "runbook: S3 Data Integrity Check"


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


# ---- object parity (listings or inventories) -------------------------------------------------------------------------
def _first(keys: list[str], n: int) -> str:
    return ", ".join(keys) + (" ..." if n > len(keys) else "")


def parity(p: Parity, s: Storage) -> list[Finding]:
    """Every source object is in the replica with the same size and content, and the replica holds nothing else
    (unless storage.parity.allow_extra): one alarm per kind of difference, naming its first culprits. Pending and
    unverified objects are reported, not failed."""
    subject = f"{p.source} → {p.replica}"
    counts = f"(source {p.source_count} objects, replica {p.replica_count})"
    labels = {"missing": f"missing in {p.replica}", "extra": f"extra in {p.replica} (not in {p.source})",
              "size_differs": "size differs", "content_differs": "content differs"}
    found = []
    for kind, n in p.failures.items():
        if kind == "extra" and s.parity.allow_extra:
            found.append(ok(subject, f"{n} {labels[kind]}, allowed", measured=n, key="storage.parity.allow_extra"))
            continue
        found.append(alarm(subject, f"{n} {labels[kind]}: {_first(p.culprits[kind], n)} {counts}", measured=n,
                           limit=0, fix=f"S3 Batch Replication of the culprits ({RUNBOOK})"))
    if not found:
        found.append(ok(subject, f"{p.matched} objects match {counts}", measured=p.matched))
    if p.counts["pending"]:
        found.append(ok(subject, f"{p.counts['pending']} pending within {s.parity.sla_min:g} min",
                        measured=p.counts["pending"], limit=s.parity.sla_min, key="storage.parity.sla_min"))
    if p.counts["unverified"]:
        found.append(ok(subject, f"{p.counts['unverified']} with opaque ETags not verified",
                        measured=p.counts["unverified"], limit=s.parity.verify_max_objects,
                        key="storage.parity.verify_max_objects"))
    return found


def inventory_ages(reports: list[Report], inv: Inventory) -> list[Finding]:
    """The newest inventory report of each bucket is younger than storage.inventory.max_age_h."""
    return [alarm(r.bucket, f"the newest inventory ({r.manifest_key}) is {r.age_h:.0f} h old, more than "
                  f"{inv.max_age_h:g}", measured=r.age_h, limit=inv.max_age_h, key="storage.inventory.max_age_h",
                  fix="is the bucket's S3 Inventory configuration enabled? (aws s3api "
                      "list-bucket-inventory-configurations)")
            if r.age_h > inv.max_age_h else
            ok(r.bucket, f"inventory {r.manifest_key} is {r.age_h:.0f} h old", measured=r.age_h, limit=inv.max_age_h)
            for r in reports]


# ---- replication status and metadata of the sample -------------------------------------------------------------------
def no_status_reason(st: Status, rules: list[Rule], tags: dict[str, str] | None = None) -> str:
    """Why S3 reports no replication status for an object, as far as the configuration tells (S3 itself never
    says). ``rules``: the source's Enabled rules; ``tags``: the object's tags (only needed for tag filters).

    >>> r = Rule("replicate-all", "Enabled", 1, "", "dr", "Enabled", "STANDARD")
    >>> no_status_reason(Status("a.mp4", None, None, 0, "aws:kms"), [r])
    "SSE-KMS encrypted, and rule 'replicate-all' has no SourceSelectionCriteria.SseKmsEncryptedObjects (S3 does not replicate SSE-KMS objects without it)"
    """
    covering = [r for r in rules if r.covers(st.key, tags)]
    if not covering:
        return "outside every replication rule's filter (" + (", ".join(
            f"{r.id!r}: prefix {r.prefix!r}" + (f", tags {dict(r.tags)}" if r.tags else "") for r in rules)
            or "no Enabled rule") + ")"
    if str(st.encryption or "").startswith("aws:kms") and not any(r.sse_kms for r in covering):
        return (f"SSE-KMS encrypted, and rule {covering[0].id!r} has no SourceSelectionCriteria."
                "SseKmsEncryptedObjects (S3 does not replicate SSE-KMS objects without it)")
    return (f"under rule {covering[0].id!r} but never replicated: uploaded before the rule existed or while it was "
            "disabled? (S3 Batch Replication copies existing objects)")


def replication_status(source: str, statuses: list[Status], rules: list[Rule], tags: dict[str, dict | None],
                       s: Storage) -> list[Finding]:
    """No sampled object FAILED, none PENDING beyond storage.parity.sla_min, none without a status (never
    replicated: each of the first max_culprits named with the reason the configuration gives). ``rules``: the
    source's Enabled rules; ``tags``: the tags of the objects without a status, None where no rule filters on
    tags."""
    n, shown = len(statuses), s.parity.max_culprits
    if not statuses:
        return [alarm(source, "no objects sampled", measured=0, key="storage.sample.size")]
    failed = [st for st in statuses if st.status == "FAILED"]
    late = [st for st in statuses if st.status == "PENDING" and st.age_min > s.parity.sla_min]
    never = [st for st in statuses if st.status is None]
    found = []
    if failed:
        found.append(alarm(source, f"{len(failed)} of {n} sampled objects have replication status FAILED: "
                           + _first([x.key for x in failed[:shown]], len(failed)), measured=len(failed), limit=0,
                           fix=f"S3 Batch Replication of the FAILED objects ({RUNBOOK})"))
    if late:
        found.append(alarm(source, f"{len(late)} sampled objects PENDING for longer than {s.parity.sla_min:g} min: "
                           + _first([x.key for x in late[:shown]], len(late)), measured=max(x.age_min for x in late),
                           limit=s.parity.sla_min, key="storage.parity.sla_min"))
    if never:
        reasons = [f"{st.key} ({no_status_reason(st, rules, tags.get(st.key))})" for st in never[:shown]]
        found.append(alarm(source, f"{len(never)} object(s) with no replication status (never replicated): "
                           + "; ".join(reasons) + (" ..." if len(never) > shown else ""), measured=len(never),
                           limit=0, fix=f"S3 Batch Replication copies existing objects ({RUNBOOK})"))
    by = {}
    for st in statuses:
        by[st.status or "none"] = by.get(st.status or "none", 0) + 1
    return found or [ok(source, f"{n} sampled objects: " + ", ".join(f"{v} {k}" for k, v in sorted(by.items())),
                        measured=by)]


def metadata(source: str, replica: str, compared: int, diffs: list[MetaDiff], s: Storage) -> list[Finding]:
    """Each sampled object's metadata is the same in both buckets: one alarm per differing object (the first
    max_culprits, then one for the rest)."""
    if not compared:
        return [alarm(source, "no settled objects sampled", measured=0, key="storage.sample.size")]
    by_key: dict[str, list[MetaDiff]] = {}
    for d in diffs:
        by_key.setdefault(d.key, []).append(d)
    found = [alarm(key, "; ".join(f"{d.field}: {d.source!r} in {source} vs {d.replica!r} in {replica}" for d in ds),
                   fix=f"copy the object again ({RUNBOOK})")
             for key, ds in sorted(by_key.items())[:s.parity.max_culprits]]
    if len(by_key) > s.parity.max_culprits:
        found.append(alarm(f"{source} → {replica}", f"{len(by_key) - s.parity.max_culprits} more sampled objects "
                           "differ", measured=len(by_key), key="storage.parity.max_culprits"))
    return found or [ok(f"{source} → {replica}", f"the metadata of {compared} sampled objects match",
                        measured=compared)]
