"""Parity of buckets too large to list in a window: yesterday's S3 Inventory reports of both, diffed with DuckDB
(opsproof/probes/storage_inventory.py; the same SQL runs on Athena, docs/backups.md)."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import storage, storage_inventory
from opsproof.rules import storage as rules

pytestmark = [pytest.mark.storage]


@pytest.mark.nightly
def test_inventory_reports_match(env, aws, evidence):
    """The newest S3 Inventory reports of the prod and DR buckets are younger than 48 hours and list the same
    objects with the same sizes and ETags (objects younger than the replication SLA at report time are pending)."""
    s = env.storage
    inv = s.inventory
    if inv is None:
        pytest.skip("storage.inventory is not set")
    s3 = aws("s3", "storage.inventory")
    try:
        src, dst = storage_inventory.latest_reports(s3, inv, s.source_bucket, s.replica_bucket)
    except storage_inventory.InventoryError as e:
        pytest.fail(f"{e} (storage.inventory)", pytrace=False)
    evidence.table("reports", [{"bucket": r.bucket, "manifest": r.manifest_key, "created": r.created,
                                "age_h": r.age_h, "files": len(r.files)} for r in (src, dst)])
    found = rules.inventory_ages([src, dst], inv)
    if not findings.failing(found):  # a stale report's diff would only repeat its age
        kms = storage.etags_opaque(s.parity.etag_is_md5, (aws("s3", "storage.source"), s.source_bucket))
        result = storage_inventory.diff_reports(s3, src, dst, sla=dt.timedelta(minutes=s.parity.sla_min),
                                                max_culprits=s.parity.max_culprits, kms=kms, max_files=inv.max_files)
        evidence.table("inventory parity (DuckDB)", [result.summary()])
        evidence.json("first culprits by key", {k: v for k, v in result.culprits.items() if v})
        found += rules.parity(result, s)
    findings.expect_no_alarm(found, evidence)
