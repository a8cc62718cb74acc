"""Seed the storage area after seed.seed: objects whose ETags are not MD5s, and S3 Inventory reports of both buckets.

    from sandbox.aws.seed_storage import seed, write_inventory
    seed(sb)              # the AWS server running, seed.seed done
    write_inventory(sb)   # what S3 Inventory's next daily run would write (faults call it after changing a bucket)

* Two multipart uploads into the prod bucket (5 MiB + 1 KB each, replicated by the s3 overlay): their ETags end in
  '-2' while their replicas' are plain MD5s, so the parity check must fall back to additional checksums (the first
  one was uploaded with SHA-256 checksums) or to a download (the second one has none).
* With [storage.inventory] configured: bucket <inventory.bucket> and a CSV report of each bucket under
  <prefix>/<bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json, as S3 Inventory writes them.
"""

import logging
import time

from botocore.exceptions import ClientError

from .seed import DR_BUCKET, DR_REGION, PROD_BUCKET, REGION

log = logging.getLogger("sandbox.aws.seed")

MULTIPART_KEYS = ("media/user-9999/project-01/renders/master-000.mp4",
                  "media/user-9999/project-01/renders/master-001.mp4")
PART = 5 * 1024 * 1024


def seed(sb) -> dict:
    started = time.monotonic()
    s3 = sb.client("s3", REGION)
    for n, key in enumerate(MULTIPART_KEYS):
        try:
            s3.head_object(Bucket=PROD_BUCKET, Key=key)
            continue
        except ClientError:
            pass
        multipart_upload(s3, PROD_BUCKET, key, n, checksums=(n == 0))
    report = write_inventory(sb)
    took = round(time.monotonic() - started, 2)
    log.info("seeded storage in %.2f s (inventory: %s)", took, report or "not configured")
    return {"multipart": list(MULTIPART_KEYS), "inventory": report, "seconds": took}


def multipart_upload(s3, bucket: str, key: str, n: int, checksums: bool) -> str:
    extra = {"ChecksumAlgorithm": "SHA256"} if checksums else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="video/mp4",
                                    Metadata={"user-id": "user-9999", "project-id": "project-01"}, **extra)
    parts = []
    for number, body in ((1, bytes([65 + n]) * PART), (2, f"{key} final part\n".encode() * 40)):
        p = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=number, Body=body, **extra)
        part = {"PartNumber": number, "ETag": p["ETag"]}
        if checksums:
            part["ChecksumSHA256"] = p["ChecksumSHA256"]
        parts.append(part)
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})["ETag"]


def write_inventory(sb) -> list[str] | None:
    """A CSV S3 Inventory report of each bucket, listing it as it is now (None without [storage.inventory])."""
    from opsproof.probes.storage_inventory import write_report

    inv = sb.env.storage.inventory
    if inv is None:
        return None
    s = sb.env.storage
    region = inv.region or sb.env.aws.region
    target = sb.client("s3", region)
    try:
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        target.create_bucket(Bucket=inv.bucket, **kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    written = []
    for bucket, region_of, config_id in ((s.source_bucket, s.source_region or REGION, inv.source_config_id),
                                         (s.replica_bucket, s.replica_region or DR_REGION, inv.replica_config_id)):
        client = sb.client("s3", region_of)
        rows = ((o["Key"], o["Size"], o["ETag"].strip('"'), o["LastModified"], o.get("StorageClass"), None)
                for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", []))
        written.append(write_report(target, inv.bucket, inv.prefix, bucket, config_id, rows))
    return written


__all__ = ["DR_BUCKET", "MULTIPART_KEYS", "PROD_BUCKET", "seed", "write_inventory"]
