"""The replication rules on hand-built facts: each of the eight ways replication can be wrong is its own alarm,
naming the bucket or rule, and the configuration key where one sets the limit. No sandbox."""

import pytest

from opsproof import config, findings
from opsproof.probes.storage import ReplicationConfig, Rule
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
