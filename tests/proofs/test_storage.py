"""Proofs of the storage checks: each passes on the healthy sandbox and fails under its fault, naming the bucket,
rule or object keys. The faults remember the keys they broke (<state>/faults-NAME.json); the proofs read them."""

import json

from sandbox.faults.storage import EXTRA_KEYS

REPLICATION = "checks/storage/test_replication.py"
INVENTORY = "checks/storage/test_inventory.py"


def _keys(sandbox, fault: str) -> list[str]:
    return json.loads((sandbox.dir / f"faults-{fault}.json").read_text())


def _parity(run, check="test_replica_objects_match") -> dict:
    return next(e["payload"][0] for e in run.evidence(check) if e["kind"] == "table")


def test_replication_is_configured(healthy, broken):
    healthy.assert_passed("test_replication_is_configured")
    run = broken("replication-disabled", REPLICATION)
    run.assert_failed("test_replication_is_configured", "'prod-to-dr'", "ai-film-studio-media-prod",
                      "ai-film-studio-media-dr-usw2", "Disabled, not Enabled")


def test_replica_objects_match(healthy, broken, sandbox):
    healthy.assert_passed("test_replica_objects_match")
    p = _parity(healthy)
    assert p["matched"] == p["source_objects"] == p["replica_objects"] and p["source_objects"] >= 500
    assert p["verified_by_checksum"] >= 1 and p["verified_by_download"] >= 1  # multipart ETags are not MD5s
    run = broken("missing-replica-object", REPLICATION)
    run.assert_failed("test_replica_objects_match", "3 missing in ai-film-studio-media-dr-usw2",
                      *_keys(sandbox, "missing-replica-object"))


def test_replica_objects_match_sees_extra_objects(broken):
    run = broken("extra-replica-object", REPLICATION)
    run.assert_failed("test_replica_objects_match", "3 extra in ai-film-studio-media-dr-usw2", *EXTRA_KEYS)


def test_replica_objects_match_at_equal_counts(broken, sandbox):
    """The runbook's `aws s3 ls --recursive | wc -l` sees equal counts; the merge sees the wrong keys."""
    run = broken("replica-keys-swapped", REPLICATION)
    p = _parity(run)
    assert p["source_objects"] == p["replica_objects"]  # what the count comparison compares
    run.assert_failed("test_replica_objects_match", "3 missing in", "3 extra in", *EXTRA_KEYS,
                      *_keys(sandbox, "missing-replica-object"))


def test_replica_objects_match_sees_changed_content(broken, sandbox):
    run = broken("replica-content-differs", REPLICATION)
    p = _parity(run)
    assert p["source_objects"] == p["replica_objects"] and p["size_differs"] == 0
    run.assert_failed("test_replica_objects_match", "2 content differs", *_keys(sandbox, "replica-content-differs"))


def test_replication_status_of_sample(healthy, broken, sandbox):
    healthy.assert_passed("test_replication_status_of_sample")
    run = broken("replication-failed-status", REPLICATION)
    run.assert_failed("test_replication_status_of_sample", "replication status FAILED",
                      *_keys(sandbox, "replication-failed-status"))


def test_replication_status_of_sample_never_replicated(broken):
    """Objects with NO replication status under a rule (before the rule; SSE-KMS without SourceSelectionCriteria)
    are red, each named with the reason the configuration gives."""
    run = broken("objects-without-replication-status", REPLICATION)
    msg = run.assert_failed("test_replication_status_of_sample", "2 object(s) with no replication status",
                            "media/user-0042/project-07/renders/final-kms.mp4 (SSE-KMS encrypted, and rule "
                            "'prod-to-dr' has no SourceSelectionCriteria.SseKmsEncryptedObjects",
                            "media/legacy-2019/showreel/intro.mp4 (under rule 'prod-to-dr' but never replicated: "
                            "uploaded before the rule existed")
    assert "FAILED" not in msg
    run.assert_failed("test_replica_objects_match", "media/legacy-2019/showreel/intro.mp4")


def test_sampled_metadata_matches(healthy, broken, sandbox):
    healthy.assert_passed("test_sampled_metadata_matches")
    run = broken("replica-metadata-differs", REPLICATION)
    run.assert_failed("test_sampled_metadata_matches", "ContentType", "'application/octet-stream'",
                      *_keys(sandbox, "replica-metadata-differs"))
    run.assert_passed("test_replica_objects_match")  # same bytes: only the metadata comparison sees it


def test_inventory_reports_match(healthy, broken, sandbox):
    healthy.assert_passed("test_inventory_reports_match")
    run = broken("replica-keys-swapped", INVENTORY)
    run.assert_failed("test_inventory_reports_match", "3 missing", "3 extra", *EXTRA_KEYS,
                      *_keys(sandbox, "missing-replica-object"))
