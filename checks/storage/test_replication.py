"""Cross-region replication of the media bucket (runbook: "S3 Data Integrity Check: Verify Cross-Region
Replication"). Read-only S3 calls (opsproof/probes/storage.py)."""

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
    evidence.table("parity (a streaming merge of both sorted listings)", [survey.summary()])
    evidence.json("first culprits by key", {k: v for k, v in survey.culprits.items() if v})
    findings.expect_no_alarm(rules.parity(survey, env.storage), evidence)


@pytest.mark.nightly
def test_replication_status_of_sample(env, buckets, survey, evidence):
    """A random sample of the prod bucket's objects (and its newest, and those missing in the DR bucket) reports
    replication status COMPLETED: none FAILED, none PENDING beyond the replication SLA, none with NO status (never
    replicated: uploaded before the rule, outside its filter, SSE-KMS without SourceSelectionCriteria)
    (`aws s3api head-object ... --query ReplicationStatus`)."""
    s = env.storage
    src, source, dst, replica = buckets
    statuses = storage.sample_statuses(src, source, survey, s.sample.workers)
    enabled, tags = storage.unreplicated(src, source, dst, replica, statuses, s.parity.max_culprits)
    evidence.table("replication status of the sample", [vars(st) for st in statuses if st.status != "COMPLETED"])
    findings.expect_no_alarm(rules.replication_status(source, statuses, enabled, tags, s), evidence)


@pytest.mark.nightly
@pytest.mark.post_maintenance
def test_sampled_metadata_matches(env, buckets, survey, evidence):
    """The runbook's random sample validation: each sampled object's metadata (size, content type, encoding, cache
    control, user metadata, ETag or checksum) is the same in the prod and the DR bucket."""
    s = env.storage
    src, source, dst, replica = buckets
    kms = storage.etags_opaque(s.parity.etag_is_md5, (src, source), (dst, replica))
    compared, diffs = storage.metadata_differences(src, source, dst, replica,
                                                   storage.settled(survey.sample, s.parity.sla_min), kms=kms,
                                                   workers=s.sample.workers)
    evidence.table("differences", [vars(d) for d in diffs])
    findings.expect_no_alarm(rules.metadata(source, replica, compared, diffs, s), evidence)
