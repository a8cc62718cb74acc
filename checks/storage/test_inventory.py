"""Parity of buckets too large to list in a window: yesterday's S3 Inventory reports of both, diffed with DuckDB
(opsproof/probes/storage_inventory.py; the same SQL runs on Athena, docs/backups.md)."""

import datetime as dt

import pytest

from opsproof.probes import storage, storage_inventory

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
        src = storage_inventory.latest_report(s3, inv.bucket, inv.prefix, s.source_bucket, inv.source_config_id)
        dst = storage_inventory.latest_report(s3, inv.bucket, inv.prefix, s.replica_bucket, inv.replica_config_id)
    except storage_inventory.InventoryError as e:
        pytest.fail(f"{e} (storage.inventory)", pytrace=False)
    evidence.table("reports", [{"bucket": r.bucket, "manifest": r.manifest_key, "created": r.created,
                                "age_h": r.age_h, "files": len(r.files)} for r in (src, dst)])
    stale = [r for r in (src, dst) if r.age_h > inv.max_age_h]
    assert not stale, "; ".join(f"the newest inventory of {r.bucket} ({r.manifest_key}) is {r.age_h:.0f} h old"
                                for r in stale) + f", more than storage.inventory.max_age_h = {inv.max_age_h:g}"
    kms = s.parity.etag_is_md5 == "never" or storage.kms_default(aws("s3", "storage.source"),
                                                                 s.source_bucket)
    result = storage_inventory.diff_reports(s3, src, dst, sla=dt.timedelta(minutes=s.parity.sla_min),
                                            max_culprits=s.parity.max_culprits, kms=kms, max_files=inv.max_files)
    evidence.table("inventory parity (DuckDB)", [result.summary()])
    evidence.json("first culprits by key", {k: v for k, v in result.culprits.items() if v})
    failures = dict(result.failures)
    if s.parity.allow_extra:
        failures.pop("extra", None)
    assert not failures, (f"inventories of {src.bucket} ({src.created:%Y-%m-%d %H:%M}) and {dst.bucket}: "
                          + "; ".join(f"{n} {k.replace('_', ' ')}: {', '.join(result.culprits[k])}"
                                      + (" ..." if n > len(result.culprits[k]) else "")
                                      for k, n in failures.items()))
