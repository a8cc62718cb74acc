"""The storage rules on hand-built facts: each of the eight ways replication can be wrong is its own alarm, naming
the bucket or rule, and the configuration key where one sets the limit; then object parity, the inventories' age,
the sample's replication status and metadata. No sandbox."""

import datetime as dt

import pytest

from opsproof import config, findings
from opsproof.config.storage import Inventory
from opsproof.probes.storage import MetaDiff, Parity, ReplicationConfig, Rule, Status
from opsproof.probes.storage_inventory import Report
from opsproof.rules import storage as rules_storage
from opsproof.rules.storage import replication

SOURCE, REPLICA = "media-prod", "media-dr"
RULE = Rule("prod-to-dr", "Enabled", 1, "", REPLICA, "Enabled", None)


def facts(**kw) -> ReplicationConfig:
    base = dict(source_bucket=SOURCE, source_versioning="Enabled", source_region="us-east-1", replica_bucket=REPLICA,
                replica_versioning="Enabled", replica_region="us-west-2", role="arn:aws:iam::1:role/r", rules=[RULE])
    return ReplicationConfig(**{**base, **kw})


def storage(replication=None, **kw):
    s = config.load("sandbox").storage
    s = s.model_copy(update={"replica_region": "us-west-2", **kw})
    return s.model_copy(update={"replication": s.replication.model_copy(update=replication or {})})


def alarms(cfg, s=None) -> list[str]:
    return [f.line() for f in findings.failing(replication(cfg, s or storage()))]


def only_alarm(found) -> str:
    bad = [f.line() for f in findings.failing(found)]
    assert len(bad) == 1, bad
    return bad[0]


def test_healthy_replication_has_no_alarm_and_says_what_it_saw():
    found = replication(facts(), storage())
    assert not findings.failing(found)
    assert {f.subject for f in found} == {SOURCE, REPLICA, f"rule 'prod-to-dr' of {SOURCE}"}


@pytest.mark.parametrize("cfg, s, expected", [
    (facts(source_versioning="Suspended"), None, f"{SOURCE}: versioning is 'Suspended'"),
    (facts(replica_versioning="Disabled"), None, f"{REPLICA}: versioning is 'Disabled'"),
    (facts(rules=[]), None, f"{SOURCE} → {REPLICA}: no replication rule to the DR bucket"),
    (facts(), storage({"rule_id": "other"}), "no replication rule to the DR bucket with ID 'other' "
                                             "(storage.replication.rule_id)"),
    (facts(rules=[Rule("prod-to-dr", "Disabled", 1, "", REPLICA, "Enabled", None)]), None,
     "replication rule(s) 'prod-to-dr' are Disabled, not Enabled"),
    (facts(rules=[Rule("prod-to-dr", "Enabled", 1, "", REPLICA, "Disabled", None)]), None,
     "DeleteMarkerReplication is 'Disabled', expected 'Enabled' (storage.replication.delete_marker_replication)"),
    (facts(rules=[Rule("prod-to-dr", "Enabled", 1, "thumbnails/", REPLICA, "Enabled", None)]), None,
     "rule 'prod-to-dr' of media-prod: replicates only keys under 'thumbnails/' (storage.parity.prefix)"),
    (facts(replica_region="us-east-1"), None, "the same region as media-prod: not a cross-region copy "
                                             "(storage.replication.require_other_region)"),
    (facts(replica_region="eu-west-1"), None, f"{REPLICA}: is in eu-west-1, not us-west-2 (storage.replica_region)"),
], ids=["source versioning", "replica versioning", "no rule", "no rule with the id", "rule disabled",
        "delete markers", "narrower prefix", "same region", "other region"])
def test_each_way_to_fail_is_one_alarm_naming_its_culprit(cfg, s, expected):
    found = alarms(cfg, s)
    assert len(found) == 1 and expected in found[0], found


def test_a_rule_to_another_bucket_does_not_count():
    elsewhere = Rule("to-archive", "Enabled", 1, "", "media-archive", "Enabled", None)
    assert alarms(facts(rules=[elsewhere])) == [f"{SOURCE} → {REPLICA}: no replication rule to the DR bucket; "
                                                 "fix: put a replication rule on the source bucket (runbook: S3 Data "
                                                 "Integrity Check)"]


def test_the_region_rule_can_be_turned_off_and_unset_limits_are_not_judged():
    s = storage({"require_other_region": False, "delete_marker_replication": None})
    odd = Rule("prod-to-dr", "Enabled", 1, "", REPLICA, "Disabled", None)
    assert alarms(facts(replica_region="us-east-1", rules=[odd]), s) == []


# ---- object parity ---------------------------------------------------------------------------------------------------
def parity_of(**counts) -> Parity:
    p = Parity(SOURCE, REPLICA, source_count=500, replica_count=500, matched=500)
    for kind, n in counts.items():
        p.counts[kind] = n
        p.culprits[kind] = [f"media/{kind}/{i}.mp4" for i in range(min(n, 2))]
    return p


def test_matching_buckets_have_one_ok_finding_with_the_counts():
    found = rules_storage.parity(parity_of(), storage())
    assert [f.status for f in found] == ["ok"] and "500 objects match (source 500 objects, replica 500)" in \
        found[0].reason


@pytest.mark.parametrize("kind, expected", [
    ("missing", f"3 missing in {REPLICA}: media/missing/0.mp4, media/missing/1.mp4 ..."),
    ("extra", f"3 extra in {REPLICA} (not in {SOURCE}): media/extra/0.mp4"),
    ("size_differs", "3 size differs: media/size_differs/0.mp4"),
    ("content_differs", "3 content differs: media/content_differs/0.mp4"),
], ids=["missing", "extra", "size", "content"])
def test_each_kind_of_difference_is_one_alarm_naming_its_first_keys(kind, expected):
    line = only_alarm(rules_storage.parity(parity_of(**{kind: 3}), storage()))
    assert line.startswith(f"{SOURCE} → {REPLICA}: {expected}") and "(source 500 objects, replica 500)" in line


def test_extra_objects_pass_when_allowed():
    s = storage()
    s = s.model_copy(update={"parity": s.parity.model_copy(update={"allow_extra": True})})
    assert not findings.failing(rules_storage.parity(parity_of(extra=3), s))
    assert only_alarm(rules_storage.parity(parity_of(extra=3, missing=1), s)).startswith(f"{SOURCE} → {REPLICA}: 1 "
                                                                                         "missing")


def test_pending_and_unverified_objects_are_reported_not_failed():
    found = rules_storage.parity(parity_of(pending=4, unverified=2), storage())
    assert not findings.failing(found)
    assert {f.key for f in found} >= {"storage.parity.sla_min", "storage.parity.verify_max_objects"}


def report(bucket, age_h) -> Report:
    return Report(bucket, f"inventory/{bucket}/daily/manifest.json", dt.datetime.now(dt.timezone.utc)
                  - dt.timedelta(hours=age_h), "CSV", [], [], "inventory-bucket")


def test_an_inventory_older_than_the_limit_fails_naming_its_bucket():
    inv = Inventory(bucket="inventory-bucket", max_age_h=48)
    assert not findings.failing(rules_storage.inventory_ages([report(SOURCE, 47.5), report(REPLICA, 1)], inv))
    line = only_alarm(rules_storage.inventory_ages([report(SOURCE, 1), report(REPLICA, 72)], inv))
    assert line.startswith(f"{REPLICA}: the newest inventory (inventory/{REPLICA}/daily/manifest.json) is 72 h old, "
                           "more than 48 (storage.inventory.max_age_h)")


# ---- the sample's replication status ---------------------------------------------------------------------------------
NOW = dt.datetime.now(dt.timezone.utc)


def status(key, st="COMPLETED", age_min=60.0, encryption=None) -> Status:
    return Status(key, st, NOW - dt.timedelta(minutes=age_min), age_min, encryption)


def test_a_sample_replicated_completely_passes_with_its_counts():
    found = rules_storage.replication_status(SOURCE, [status("a"), status("b", "PENDING", 3.0)], [RULE], {},
                                             storage())
    assert [f.status for f in found] == ["ok"] and found[0].measured == {"COMPLETED": 1, "PENDING": 1}


def test_no_sample_fails():
    assert only_alarm(rules_storage.replication_status(SOURCE, [], [RULE], {}, storage())) == \
        f"{SOURCE}: no objects sampled (storage.sample.size)"


def test_failed_objects_are_named():
    line = only_alarm(rules_storage.replication_status(SOURCE, [status("a"), status("b", "FAILED")], [RULE], {},
                                                       storage()))
    assert "1 of 2 sampled objects have replication status FAILED: b" in line


def test_pending_past_the_sla_fails_and_within_it_does_not():
    sla = storage().parity.sla_min
    assert not findings.failing(rules_storage.replication_status(SOURCE, [status("a", "PENDING", sla)], [RULE], {},
                                                                 storage()))
    line = only_alarm(rules_storage.replication_status(SOURCE, [status("a", "PENDING", sla + 1)], [RULE], {},
                                                       storage()))
    assert f"1 sampled objects PENDING for longer than {sla:g} min: a (storage.parity.sla_min)" in line


def test_objects_without_a_status_are_named_with_the_reason_the_configuration_gives():
    kms = Rule("prod-to-dr", "Enabled", 1, "", REPLICA, "Enabled", None)
    sts = [status("media/k.mp4", None, encryption="aws:kms"), status("media/old.mp4", None, encryption="AES256")]
    line = only_alarm(rules_storage.replication_status(SOURCE, sts, [kms], {}, storage()))
    assert "2 object(s) with no replication status (never replicated): media/k.mp4 (SSE-KMS encrypted, and rule " \
           "'prod-to-dr' has no SourceSelectionCriteria.SseKmsEncryptedObjects" in line
    assert "media/old.mp4 (under rule 'prod-to-dr' but never replicated: uploaded before the rule existed" in line
    assert "FAILED" not in line


def test_only_the_first_culprits_are_explained():
    s = storage()
    s = s.model_copy(update={"parity": s.parity.model_copy(update={"max_culprits": 1})})
    line = only_alarm(rules_storage.replication_status(SOURCE, [status("a", None), status("b", None)], [], {}, s))
    assert line.count("no Enabled rule") == 1 and " ..." in line


# ---- the sample's metadata -------------------------------------------------------------------------------------------
def test_equal_metadata_passes_and_nothing_compared_fails():
    assert not findings.failing(rules_storage.metadata(SOURCE, REPLICA, 10, [], storage()))
    assert "no settled objects sampled" in only_alarm(rules_storage.metadata(SOURCE, REPLICA, 0, [], storage()))


def test_each_differing_object_is_one_alarm_with_every_field():
    diffs = [MetaDiff("a.png", "ContentType", "image/png", "application/octet-stream"),
             MetaDiff("a.png", "CacheControl", "max-age=60", None), MetaDiff("b.png", "exists", True, False)]
    found = findings.failing(rules_storage.metadata(SOURCE, REPLICA, 10, diffs, storage()))
    assert [f.subject for f in found] == ["a.png", "b.png"]
    assert found[0].reason == (f"ContentType: 'image/png' in {SOURCE} vs 'application/octet-stream' in {REPLICA}; "
                               f"CacheControl: 'max-age=60' in {SOURCE} vs None in {REPLICA}")


def test_more_differing_objects_than_culprits_are_counted_in_one_more_alarm():
    s = storage()
    s = s.model_copy(update={"parity": s.parity.model_copy(update={"max_culprits": 2})})
    diffs = [MetaDiff(f"{i}.png", "ContentType", "a", "b") for i in range(5)]
    found = findings.failing(rules_storage.metadata(SOURCE, REPLICA, 10, diffs, s))
    assert len(found) == 3 and "3 more sampled objects differ" in found[-1].reason
