"""The sandbox's ListObjectsV2 overlay (sandbox/aws/s3_listing.py) answers exactly as moto does, one page at a time:
compared with moto's own answer (a delimiter that never occurs sends the request to moto) over prefixes,
start-after, continuation, url encoding, odd keys and delete markers."""

import threading

import boto3
import pytest
from werkzeug.serving import make_server

from sandbox.aws import admin
from sandbox.aws.server import build_app

KEYS = ["a", "a b+c", "a/ä/€", "a/x", "b/1", "b/2", "b/3&<>\"'", "c%2F", "c/ z", "zz"]
KEYS += [f"m/{i:04d}" for i in range(25)]


@pytest.fixture(scope="module")
def s3():
    app = build_app(None)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}"
    c = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    c.create_bucket(Bucket="plain")
    c.create_bucket(Bucket="versioned")
    c.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    for b in ("plain", "versioned"):
        admin.put_objects(url, b, [{"key": k, "body": k * 3} for k in KEYS])
    c.put_object(Bucket="plain", Key="m/0003", Body=b"x", ChecksumAlgorithm="SHA256")
    c.delete_object(Bucket="versioned", Key="b/2")  # a delete marker: not listed
    yield c
    srv.shutdown()


def listing(s3, moto: bool, **kw):
    if moto:
        kw["Delimiter"] = "|"
    pages, token = [], None
    while True:
        r = s3.list_objects_v2(**kw, **({"ContinuationToken": token} if token else {}))
        pages.append([(o["Key"], o["Size"], o["ETag"], o["LastModified"], o.get("ChecksumAlgorithm"))
                      for o in r.get("Contents", [])])
        assert r["KeyCount"] == len(pages[-1])
        if not r["IsTruncated"]:
            return pages
        token = r["NextContinuationToken"]


@pytest.mark.parametrize("bucket", ["plain", "versioned"])
@pytest.mark.parametrize("kw", [{}, {"MaxKeys": 7}, {"Prefix": "b/"}, {"Prefix": "m/", "MaxKeys": 10},
                                {"StartAfter": "a/x"}, {"StartAfter": "b", "MaxKeys": 3}, {"Prefix": "nope"},
                                {"MaxKeys": 1000, "EncodingType": "url"}])
def test_same_answer_as_moto(s3, bucket, kw):
    assert listing(s3, False, Bucket=bucket, **kw) == listing(s3, True, Bucket=bucket, **kw)


def test_delete_markers_and_missing_buckets(s3):
    keys = [k for page in listing(s3, False, Bucket="versioned") for k, *_ in page]
    assert "b/2" not in keys and "b/1" in keys
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.list_objects_v2(Bucket="no-such-bucket")
