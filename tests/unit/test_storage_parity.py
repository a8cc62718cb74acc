"""The parity merge, the sample, the listing's bounded memory, and the S3 Inventory path (DuckDB), on plain data
and on moto in-process (no sandbox needed)."""

import datetime as dt
import random
import tracemalloc

import boto3
import pytest
from moto import mock_aws

from opsproof.probes import storage
from opsproof.probes import storage_inventory as inv
from opsproof.probes.storage import Obj, Parity, Sample, merge

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 1, 10, 12, tzinfo=UTC)
OLD = NOW - dt.timedelta(days=3)
MD5 = "0" * 32


def o(key, size=10, etag=MD5, modified=OLD):
    return Obj(key, size, etag, modified)


def run(src, dst, **kw):
    return merge(src, dst, Parity("a", "b"), now=NOW, sla=dt.timedelta(minutes=15), max_culprits=kw.pop("mc", 20),
                 **kw)


def test_identical_buckets_match():
    objs = [o(f"k{i:03d}") for i in range(100)]
    r = run(objs, list(objs))
    assert r.matched == r.source_count == r.replica_count == 100 and not r.failures


def test_equal_counts_with_different_keys_are_caught():
    """The runbook's `aws s3 ls | wc -l` sees 5 = 5; the merge sees 2 missing and 2 extra."""
    src = [o(k) for k in ("a", "b", "c", "d", "e")]
    dst = [o(k) for k in ("a", "b2", "c", "d2", "e")]
    r = run(src, dst)
    assert (r.source_count, r.replica_count) == (5, 5)
    assert r.culprits["missing"] == ["b", "d"] and r.culprits["extra"] == ["b2", "d2"]


def test_size_and_content_differences():
    src = [o("a", 10), o("b", 10, "1" * 32), o("c", 10)]
    dst = [o("a", 11), o("b", 10, "2" * 32), o("c", 10)]
    r = run(src, dst)
    assert r.culprits["size_differs"] == ["a"] and r.culprits["content_differs"] == ["b"] and r.matched == 1


def test_young_objects_are_pending_not_failures():
    young = NOW - dt.timedelta(minutes=5)
    r = run([o("a"), o("new", modified=young)], [o("a")])
    assert r.counts["pending"] == 1 and r.culprits["pending"] == ["new"] and not r.failures


def test_opaque_etags_go_to_verification_within_budget():
    src = [o("m1", etag="abc-2"), o("m2", etag="def-3"), o("m3", etag="0123-2")]
    dst = [o("m1", etag="1" * 32), o("m2", etag="2" * 32), o("m3", etag="3" * 32)]
    todo = []
    r = run(src, dst, to_verify=todo, verify_max=2)
    assert [s.key for s, _ in todo] == ["m1", "m2"] and r.culprits["unverified"] == ["m3"]
    assert not r.failures


def test_sse_kms_etags_are_never_compared_as_md5():
    r = run([o("a", etag="1" * 32)], [o("a", etag="2" * 32)], src_kms=True, to_verify=[], verify_max=0)
    assert r.counts["unverified"] == 1 and not r.failures


def test_culprits_are_capped_counts_are_not():
    r = run([o(f"k{i:05d}") for i in range(1000)], [], mc=5)
    assert r.counts["missing"] == 1000 and len(r.culprits["missing"]) == 5


def test_sample_is_uniform_bounded_and_keeps_the_newest():
    smp = Sample(10, 3, random.Random(1))
    objs = [o(f"k{i:05d}", modified=OLD + dt.timedelta(seconds=i)) for i in range(10_000)]
    for x in objs:
        smp.add(x)
    picked = smp.objects()
    assert len(smp.reservoir) == 10 and len(smp.heap) == 3
    assert [p.key for p in picked[:3]] == ["k09999", "k09998", "k09997"]
    assert len({p.key for p in picked}) == len(picked) <= 13


def test_merge_memory_does_not_grow_with_the_number_of_objects():
    """Streams of 20k and 200k objects: the merge's peak memory is the same (it keeps counts, not keys)."""

    def stream(n):
        return (Obj(f"media/{i:08d}", 100, MD5, OLD) for i in range(n))

    peaks = []
    for n in (20_000, 200_000):
        tracemalloc.start()
        r = run(stream(n), stream(n), sample=Sample(100, 20, random.Random(0)))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert r.matched == n
    assert peaks[1] < peaks[0] * 1.5 + 64 * 1024, peaks


@mock_aws
def test_listing_streams_pages_in_key_order_and_parity_finds_the_culprits():
    s3 = boto3.client("s3", region_name="us-east-1")
    for b in ("src-bucket", "dst-bucket"):
        s3.create_bucket(Bucket=b)
    keys = [f"media/{i:04d}.bin" for i in range(2500)]
    for k in keys:
        s3.put_object(Bucket="src-bucket", Key=k, Body=k.encode())
        if k not in ("media/0100.bin", "media/2000.bin"):
            s3.put_object(Bucket="dst-bucket", Key=k, Body=k.encode() if k != "media/1500.bin" else b"X" * 14)
    s3.put_object(Bucket="dst-bucket", Key="media/zz-extra.bin", Body=b"x")
    listing = storage.Listing(s3, "src-bucket", page_size=1000, max_pages=1)
    assert [x.key for x in listing] == sorted(keys) and listing.requests == 3
    r = storage.parity(s3, "src-bucket", s3, "dst-bucket", sla=dt.timedelta(minutes=0), page_size=1000,
                       sample_size=5, sample_newest=2, seed=1)
    assert r.culprits["missing"] == ["media/0100.bin", "media/2000.bin"]
    assert r.culprits["extra"] == ["media/zz-extra.bin"]
    assert r.culprits["content_differs"] == ["media/1500.bin"]
    assert len(r.sample) == 7 and r.requests == 6


@mock_aws
def test_inventory_reports_diffed_in_duckdb():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="inv")
    t = NOW - dt.timedelta(days=2)
    src = [(f"media/{i:05d} ä+b.mp4", 100 + i, f"{i:032x}", t, "STANDARD", "COMPLETED") for i in range(3000)]
    dst = [r for r in src if r[0] not in ("media/00007 ä+b.mp4", "media/02999 ä+b.mp4")]
    dst = [(k, s + (1 if k == "media/00100 ä+b.mp4" else 0), e, m, c, "REPLICA") for k, s, e, m, c, _ in dst]
    dst.append(("media/zz only in dr.bin", 5, "f" * 32, t, "STANDARD", "REPLICA"))
    dst = [(k, s, "e" * 32 if k == "media/00200 ä+b.mp4" else e, m, c, st) for k, s, e, m, c, st in dst]
    young = ("media/99999 new.mp4", 1, "a" * 32, dt.datetime.now(UTC), "STANDARD", "PENDING")
    src.append(young)
    inv.write_report(s3, "inv", "inventory", "prod", "daily", src, rows_per_file=1000)
    inv.write_report(s3, "inv", "inventory", "dr", "daily", dst, rows_per_file=1000)
    a = inv.latest_report(s3, "inv", "inventory", "prod", "daily")
    b = inv.latest_report(s3, "inv", "inventory", "dr", "daily")
    assert len(a.files) == 4 and a.age_h < 1
    r = inv.diff_reports(s3, a, b, sla=dt.timedelta(minutes=15))
    assert r.culprits["missing"] == ["media/00007 ä+b.mp4", "media/02999 ä+b.mp4"]
    assert r.culprits["extra"] == ["media/zz only in dr.bin"]
    assert r.culprits["size_differs"] == ["media/00100 ä+b.mp4"]
    assert r.culprits["content_differs"] == ["media/00200 ä+b.mp4"]
    assert r.culprits["pending"] == ["media/99999 new.mp4"]
    assert (r.source_count, r.replica_count) == (3001, 2999)


@mock_aws
def test_a_corrupt_inventory_file_is_named():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="inv")
    inv.write_report(s3, "inv", "inventory", "prod", "daily", [("a", 1, MD5, OLD, "STANDARD", None)])
    report = inv.latest_report(s3, "inv", "inventory", "prod", "daily")
    s3.put_object(Bucket="inv", Key=report.files[0]["key"], Body=b"not gzip")
    with pytest.raises(inv.InventoryError, match="does not match the manifest"):
        inv.diff_reports(s3, report, report, sla=dt.timedelta(minutes=15))


def test_the_athena_query_is_the_same_classification():
    sql = inv.diff_sql("inventory_prod", "inventory_dr", NOW, dialect="athena", max_culprits=10)
    assert "FULL OUTER JOIN inventory_dr d ON s.key = d.key" in sql
    assert "slice(array_agg(key ORDER BY key), 1, 10)" in sql and "from_iso8601_timestamp" in sql
    assert "TIMESTAMP '2026-01-10 12:00:00'" in sql
