"""Faults of the storage area: the prod → DR replication of the media bucket broken in each way a check guards
against. Faults that change a bucket also rewrite the S3 Inventory reports (as its next daily run would).

The keys a fault picks are settled (older than the replication SLA), so a check must report them as failures, not
as pending; the per-object faults pick the newest settled keys, which the sample always includes."""

import datetime as dt
import json

from . import fault

SETTLED_MIN = 60


def _names(sb):
    s = sb.env.storage
    return s.source_bucket, s.replica_bucket, sb.client("s3", s.source_region or sb.env.aws.region), \
        sb.client("s3", s.replica_region)


def _listing(client, bucket: str) -> list[dict]:
    return [o for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]


def _settled(client, bucket: str) -> list[dict]:
    """The bucket's objects older than an hour, oldest first."""
    now = dt.datetime.now(dt.timezone.utc)
    return sorted((o for o in _listing(client, bucket) if now - o["LastModified"] > dt.timedelta(minutes=SETTLED_MIN)),
                  key=lambda o: (o["LastModified"], o["Key"]))


def _spread(objects: list[dict], n: int) -> list[dict]:
    """n objects spread over the listing (never its ends): what a check cannot find by looking at the first page."""
    step = max(1, len(objects) // (n + 1))
    return [objects[step * (i + 1)] for i in range(n)]


def _state_file(sb, name):
    return sb.dir / f"faults-{name}.json"


def _save(sb, name, data):
    _state_file(sb, name).write_text(json.dumps(data))


def _load(sb, name):
    try:
        return json.loads(_state_file(sb, name).read_text())
    except FileNotFoundError:
        return None


def _drop(sb, name):
    _state_file(sb, name).unlink(missing_ok=True)


def _inventory(sb):
    from ..aws.seed_storage import write_inventory

    write_inventory(sb)


def _recopy(sb, keys):
    """Replicate these source keys again (the s3 overlay copies the current version to the DR bucket)."""
    from ..aws import admin

    source = sb.env.storage.source_bucket
    for key in keys:
        admin.set_replication_status(sb.endpoint_url, source, key, None)


def _purge(client, bucket: str, keys) -> None:
    """Remove every version (and delete marker) of these keys."""
    for key in keys:
        versions = client.list_object_versions(Bucket=bucket, Prefix=key)
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            if v["Key"] == key:
                client.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])


def _extra_objects(keys):
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).isoformat()
    return [{"key": k, "body": f"{k}: an object the prod bucket does not have\n", "content_type": "video/mp4",
             "last_modified": when} for k in keys]


EXTRA_KEYS = ("media/user-0666/project-99/renders/orphan-001.mp4", "media/user-1001/project-02/renders/zz-extra.mp4",
              "media/zz-stray/leftover.bin")


@fault("replication-disabled", area="storage")
class ReplicationDisabled:
    """The prod bucket's replication rule to the DR bucket is Disabled: new objects are no longer copied."""

    def apply(self, sb):
        source, _, src, _ = _names(sb)
        cfg = src.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
        _save(sb, "replication-disabled", cfg)
        for rule in cfg["Rules"]:
            rule["Status"] = "Disabled"
        src.put_bucket_replication(Bucket=source, ReplicationConfiguration=cfg)

    def heal(self, sb):
        cfg = _load(sb, "replication-disabled")
        if cfg:
            source, _, src, _ = _names(sb)
            src.put_bucket_replication(Bucket=source, ReplicationConfiguration=cfg)
        _drop(sb, "replication-disabled")


@fault("missing-replica-object", area="storage")
class MissingReplicaObject:
    """Three objects of the prod bucket (days old) are missing from the DR bucket (their replicas deleted)."""

    def apply(self, sb):
        source, replica, src, dst = _names(sb)
        keys = [o["Key"] for o in _spread(_settled(src, source), 3)]
        _save(sb, "missing-replica-object", keys)
        for k in keys:
            dst.delete_object(Bucket=replica, Key=k)
        _inventory(sb)

    def heal(self, sb):
        keys = _load(sb, "missing-replica-object") or []
        _recopy(sb, keys)
        _drop(sb, "missing-replica-object")
        _inventory(sb)


@fault("extra-replica-object", area="storage")
class ExtraReplicaObject:
    """The DR bucket holds three objects the prod bucket does not (never there, or deleted without a replicated
    delete marker)."""

    def apply(self, sb):
        from ..aws import admin

        _, replica, _, _ = _names(sb)
        admin.put_objects(sb.endpoint_url, replica, _extra_objects(EXTRA_KEYS))
        _inventory(sb)

    def heal(self, sb):
        _, replica, _, dst = _names(sb)
        _purge(dst, replica, EXTRA_KEYS)
        _inventory(sb)


@fault("replica-keys-swapped", area="storage")
class ReplicaKeysSwapped:
    """The two buckets hold the SAME number of objects but not the same keys: three replicas are missing and three
    other objects are in the DR bucket only (`aws s3 ls --recursive | wc -l` gives equal counts)."""

    def apply(self, sb):
        MissingReplicaObject().apply(sb)
        ExtraReplicaObject().apply(sb)

    def heal(self, sb):
        ExtraReplicaObject().heal(sb)
        MissingReplicaObject().heal(sb)


@fault("replica-content-differs", area="storage")
class ReplicaContentDiffers:
    """Two replicas in the DR bucket have the same size and metadata as their source but different bytes."""

    def apply(self, sb):
        from ..aws import admin

        source, replica, src, _ = _names(sb)
        picked = _spread(_settled(src, source), 2)
        objects = []
        for o in picked:
            h = src.head_object(Bucket=source, Key=o["Key"])
            body = src.get_object(Bucket=source, Key=o["Key"])["Body"].read()
            objects.append({"key": o["Key"], "body_b64": __import__("base64").b64encode(bytes(
                (b + 1) % 256 for b in body)).decode(), "content_type": h.get("ContentType"),
                "metadata": h.get("Metadata"), "last_modified": o["LastModified"].isoformat()})
        _save(sb, "replica-content-differs", [o["Key"] for o in picked])
        admin.put_objects(sb.endpoint_url, replica, objects)
        _inventory(sb)

    def heal(self, sb):
        _recopy(sb, _load(sb, "replica-content-differs") or [])
        _drop(sb, "replica-content-differs")
        _inventory(sb)


@fault("replica-metadata-differs", area="storage")
class ReplicaMetadataDiffers:
    """The three newest settled replicas have the same bytes as their source but another Content-Type and user
    metadata (a replica rewritten by hand)."""

    def apply(self, sb):
        from ..aws import admin

        source, replica, src, _ = _names(sb)
        picked = _settled(src, source)[-3:]
        objects = []
        for o in picked:
            body = src.get_object(Bucket=source, Key=o["Key"])["Body"].read()
            objects.append({"key": o["Key"], "body_b64": __import__("base64").b64encode(body).decode(),
                            "content_type": "application/octet-stream", "metadata": {"rewritten": "by-hand"},
                            "last_modified": o["LastModified"].isoformat()})
        _save(sb, "replica-metadata-differs", [o["Key"] for o in picked])
        admin.put_objects(sb.endpoint_url, replica, objects)

    def heal(self, sb):
        _recopy(sb, _load(sb, "replica-metadata-differs") or [])
        _drop(sb, "replica-metadata-differs")


@fault("replication-failed-status", area="storage")
class ReplicationFailedStatus:
    """Replication of the five newest objects of the prod bucket FAILED (x-amz-replication-status: FAILED; no
    replica), as after a permissions change on the replication role."""

    def apply(self, sb):
        from ..aws import admin

        source, _, src, _ = _names(sb)
        newest = sorted(_listing(src, source), key=lambda o: (o["LastModified"], o["Key"]))[-5:]
        keys = [o["Key"] for o in newest]
        _save(sb, "replication-failed-status", keys)
        for k in keys:
            admin.set_replication_status(sb.endpoint_url, source, k, "FAILED")
        _inventory(sb)

    def heal(self, sb):
        _recopy(sb, _load(sb, "replication-failed-status") or [])
        _drop(sb, "replication-failed-status")
        _inventory(sb)


UNREPLICATED_LEGACY = "media/legacy-2019/showreel/intro.mp4"
UNREPLICATED_KMS = "media/user-0042/project-07/renders/final-kms.mp4"


@fault("objects-without-replication-status", area="storage")
class ObjectsWithoutReplicationStatus:
    """Two prod objects S3 never replicated, so they report NO replication status (neither COMPLETED nor FAILED):
    media/legacy-2019/showreel/intro.mp4, uploaded in 2019 before the replication rule existed, and
    media/user-0042/project-07/renders/final-kms.mp4, put just now with SSE-KMS while rule prod-to-dr has no
    SourceSelectionCriteria.SseKmsEncryptedObjects (S3 skips such objects)."""

    def apply(self, sb):
        from ..aws import admin

        source, _, src, _ = _names(sb)
        admin.put_objects(sb.endpoint_url, source, [{
            "key": UNREPLICATED_LEGACY, "body": "a 2019 showreel, uploaded before replication was set up\n",
            "content_type": "video/mp4", "last_modified": "2019-06-01T12:00:00+00:00", "replicate": False}])
        src.put_object(Bucket=source, Key=UNREPLICATED_KMS, Body=b"a final render, encrypted with SSE-KMS\n",
                       ContentType="video/mp4", ServerSideEncryption="aws:kms")
        _inventory(sb)

    def heal(self, sb):
        source, _, src, _ = _names(sb)
        _purge(src, source, [UNREPLICATED_LEGACY, UNREPLICATED_KMS])
        _inventory(sb)
