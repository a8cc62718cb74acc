"""Cross-region replication of the media bucket (runbook: "S3 Data Integrity Check: Verify Cross-Region
Replication"). Read-only S3 calls (opsproof/probes/storage.py)."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import storage
from opsproof.rules import storage as rules

pytestmark = [pytest.mark.storage]


@pytest.mark.nightly
@pytest.mark.post_maintenance
def test_replication_is_configured(env, buckets, evidence):
    """Versioning is on for both buckets, a replication rule to the DR bucket is Enabled, the DR bucket is in
    another region, and delete markers are replicated as configured."""
    src, source, dst, replica = buckets
    cfg = storage.replication_config(src, source, dst, replica)
    evidence.json("replication configuration", {"role": cfg.role, "rules": [vars(r) for r in cfg.rules]})
    evidence.table("buckets", [
        {"bucket": source, "region": cfg.source_region, "versioning": cfg.source_versioning},
        {"bucket": replica, "region": cfg.replica_region, "versioning": cfg.replica_versioning}])
    findings.expect_no_alarm(rules.replication(cfg, env.storage), evidence)


@pytest.mark.nightly
@pytest.mark.post_maintenance
def test_replica_objects_match(env, survey, evidence):
    """Every object of the prod bucket is in the DR bucket with the same size and content, and the DR bucket holds
    nothing else (objects younger than the 15-minute replication SLA are pending, not failures). A streaming merge
    of both listings: unlike `aws s3 ls --recursive | wc -l`, it sees wrong keys at equal counts."""
    p = env.storage.parity
    evidence.table("parity (a streaming merge of both sorted listings)", [survey.summary()])
    evidence.json("first culprits by key", {k: v for k, v in survey.culprits.items() if v})
    failures = dict(survey.failures)
    if p.allow_extra:
        failures.pop("extra", None)
    parts = []
    labels = {"missing": f"missing in {survey.replica}", "extra": f"extra in {survey.replica} (not in "
              f"{survey.source})", "size_differs": "size differs", "content_differs": "content differs"}
    for kind, n in failures.items():
        shown = survey.culprits[kind]
        parts.append(f"{n} {labels[kind]}: {', '.join(shown)}" + (" ..." if n > len(shown) else ""))
    note = ""
    if survey.counts["pending"]:
        note += f" ({survey.counts['pending']} pending within storage.parity.sla_min = {p.sla_min:g} min)"
    if survey.counts["unverified"]:
        note += (f" ({survey.counts['unverified']} with opaque ETags not verified: storage.parity.verify_max_objects"
                 f" = {p.verify_max_objects})")
    assert not parts, (f"{survey.source} → {survey.replica}: " + "; ".join(parts)
                       + f" (source {survey.source_count} objects, replica {survey.replica_count}){note}")


@pytest.mark.nightly
def test_replication_status_of_sample(env, buckets, survey, evidence):
    """A random sample of the prod bucket's objects (and its newest, and those missing in the DR bucket) reports
    replication status COMPLETED: none FAILED, none PENDING beyond the replication SLA, none with NO status (never
    replicated: uploaded before the rule, outside its filter, SSE-KMS without SourceSelectionCriteria)
    (`aws s3api head-object ... --query ReplicationStatus`)."""
    s = env.storage
    src, source, dst, replica = buckets
    sampled = {o.key: o for o in survey.sample}
    missing = [k for k in survey.culprits.get("missing", []) if k not in sampled]
    extra = [storage.Obj(k, 0, "", dt.datetime.now(dt.timezone.utc)) for k in missing]  # why are they missing?
    statuses = storage.replication_statuses(src, source, list(sampled.values()) + extra, s.sample.workers)
    by = {}
    for st in statuses:
        by.setdefault(st.status or "none", []).append(st)
    evidence.table("replication status of the sample", [{"status": k, "objects": len(v)} for k, v in by.items()])
    failed = by.get("FAILED", [])
    late = [st for st in by.get("PENDING", []) if st.age_min > s.parity.sla_min and st.key in sampled]
    never = by.get("none", [])
    reasons = {}
    if never:
        rules = [r for r in storage.replication_config(src, source, dst, replica).rules if r.status == "Enabled"]
        tagged = any(r.tags for r in rules)
        reasons = {st.key: storage.no_status_reason(st, rules, storage.object_tags(src, source, st.key) if tagged
                                                    else None) for st in never[:s.parity.max_culprits]}
    evidence.table("FAILED, late or never replicated", [{**vars(x), "why": reasons.get(x.key, "")}
                                                        for x in failed + late + never])
    problems = []
    if failed:
        problems.append(f"{len(failed)} of {len(statuses)} sampled objects have replication status FAILED: "
                        + ", ".join(x.key for x in failed[:s.parity.max_culprits]))
    if late:
        problems.append(f"{len(late)} sampled objects PENDING for longer than storage.parity.sla_min = "
                        f"{s.parity.sla_min:g} min: " + ", ".join(x.key for x in late[:s.parity.max_culprits]))
    if never:
        problems.append(f"{len(never)} object(s) with no replication status (never replicated): " + "; ".join(
            f"{k} ({why})" for k, why in reasons.items()) + (" ..." if len(never) > len(reasons) else ""))
    assert statuses, f"no objects sampled from {source} (storage.sample.size / newest)"
    assert not problems, f"{source}: " + "; ".join(problems)


@pytest.mark.nightly
@pytest.mark.post_maintenance
def test_sampled_metadata_matches(env, buckets, survey, evidence):
    """The runbook's random sample validation: each sampled object's metadata (size, content type, encoding, cache
    control, user metadata, ETag or checksum) is the same in the prod and the DR bucket."""
    s = env.storage
    src, source, dst, replica = buckets
    now = dt.datetime.now(dt.timezone.utc)
    settled = [o for o in survey.sample if (now - o.modified).total_seconds() / 60 >= s.parity.sla_min]
    kms = s.parity.etag_is_md5 == "never" or storage.kms_default(src, source) or storage.kms_default(dst, replica)
    compared, diffs = storage.metadata_differences(src, source, dst, replica, settled, kms=kms,
                                                   workers=s.sample.workers)
    evidence.value("objects compared", compared)
    evidence.table("differences", [vars(d) for d in diffs])
    assert compared, f"no settled objects sampled from {source} (storage.sample.size / newest)"
    keys = sorted({d.key for d in diffs})
    assert not diffs, (f"{len(keys)} of {compared} sampled objects differ between {source} and {replica}: "
                       + "; ".join(f"{d.key} {d.field}: {d.source!r} vs {d.replica!r}"
                                   for d in diffs[:s.parity.max_culprits]))
