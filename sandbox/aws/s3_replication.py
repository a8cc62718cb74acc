"""S3 cross-region replication, which moto stores but never performs.

What moto 5.2.5 does: keeps a bucket's replication configuration, but copies nothing, sets no
``x-amz-replication-status``, and answers GetBucketReplication with every rule's Filter and DeleteMarkerReplication
replaced by defaults (``Prefix ""``, ``Disabled``).

What this overlay adds, synchronously, in moto's own backend:

* PutObject / CopyObject / CompleteMultipartUpload into a bucket with an Enabled rule whose filter (prefix, tags)
  matches: the new version is copied into each rule's destination bucket (same bytes, metadata, content type,
  checksum, tags, version id and last-modified). HeadObject/GetObject then answer
  ``x-amz-replication-status: COMPLETED`` on the source and ``REPLICA`` on the copy. A missing destination bucket
  gives ``FAILED``.
* DeleteObject / DeleteObjects without a version id, when the rule's DeleteMarkerReplication is Enabled: a delete
  marker is placed in the destination too.
* GetBucketReplication returns the configuration as it was put.
* Rule Disabled, or no configuration: nothing is copied and no status is reported.
* An SSE-KMS object (aws:kms, aws:kms:dsse) is replicated only by a rule whose SourceSelectionCriteria has
  SseKmsEncryptedObjects Enabled, as on AWS; under other rules it is not copied and reports NO replication status.
  So does an object outside every rule's filter, or one put with "replicate": false below (uploaded before the
  rule existed).

Faults (admin API):

    POST /_sandbox/s3/replication-status {"bucket": B, "key": K, "status": "FAILED"|"PENDING"|"COMPLETED"|null,
                                          "drop_replica": true}
        PENDING/FAILED: the key reports that status, later PUTs of it are not copied, and (unless drop_replica is
        false) its replica's current version is removed from the destination. COMPLETED or null: the override goes
        and the key is copied again now.
    POST /_sandbox/s3/replication-paused {"bucket": B, "paused": true}
        New objects stay PENDING and are not copied; un-pausing copies every PENDING object.
    POST /_sandbox/s3/objects {"bucket": B, "objects": [{"key": K, "body": "text" | "body_b64": "...",
                                                         "content_type": "...", "metadata": {...},
                                                         "last_modified": ISO 8601, "replicate": true}]}
        Bulk PutObject straight into the backend (replicated like a PUT): for seeding thousands of keys quickly.
        "replicate": false: an object uploaded before the replication rule existed (no copy, no status).
"""

import base64

import xmltodict

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, moto_backend, moto_time, need, parse_time

STATUS_ATTR = "opsproof_replication_status"
"""Attribute set on moto's FakeKey versions: COMPLETED / PENDING / FAILED on a source version, REPLICA on a copy."""
OVERRIDABLE = ("PENDING", "FAILED")


def s3():
    return moto_backend("s3", "aws")


class S3Replication(Overlay):
    name = "s3"

    def initial_state(self) -> dict:
        # overrides: "bucket/key" -> PENDING|FAILED ; paused: [bucket, ...]
        return {"overrides": {}, "paused": []}

    # ---- writes --------------------------------------------------------------------------------------------------
    @handles("s3", "PutObject", "CopyObject", "CompleteMultipartUpload")
    def put(self, call: Call) -> Reply:
        reply = call.forward()
        if reply.ok:
            with self.lock:
                self.after_put(call.bucket, call.key, reply.headers.get("x-amz-version-id"))
        return reply

    @handles("s3", "DeleteObject")
    def delete(self, call: Call) -> Reply:
        reply = call.forward()
        if reply.ok and "versionId" not in call.query:
            with self.lock:
                self.replicate_delete(call.bucket, call.key)
        return reply

    @handles("s3", "DeleteObjects")
    def delete_many(self, call: Call) -> Reply:
        try:
            doc = xmltodict.parse(call.body, force_list=("Object",))
            objects = (doc.get("Delete") or {}).get("Object") or []
        except Exception:
            objects = []
        reply = call.forward()
        if reply.ok:
            with self.lock:
                for obj in objects:
                    if obj.get("Key") and not obj.get("VersionId"):
                        self.replicate_delete(call.bucket, obj["Key"])
        return reply

    # ---- reads ---------------------------------------------------------------------------------------------------
    @handles("s3", "HeadObject", "GetObject")
    def read(self, call: Call) -> Reply:
        reply = call.forward()
        if reply.status in (200, 206, 304):
            status = self.status_of(call.bucket, call.key, call.query.get("versionId")
                                    or reply.headers.get("x-amz-version-id"))
            if status:
                reply.headers["x-amz-replication-status"] = status
        return reply

    @handles("s3", "GetBucketReplication")
    def get_configuration(self, call: Call) -> Reply:
        reply = call.forward()
        if reply.ok:
            config = dict(s3().get_bucket_replication(call.bucket) or {})
            config.setdefault("@xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")
            reply.with_body(xmltodict.unparse({"ReplicationConfiguration": config}).encode())
        return reply

    # ---- the replication itself ------------------------------------------------------------------------------------
    def after_put(self, bucket_name: str, key_name: str, version_id: str | None) -> None:
        backend = s3()
        bucket = backend.buckets.get(bucket_name)
        version = _version(bucket, key_name, version_id) if bucket else None
        rules = _rules_for(bucket, key_name, _tags(backend, version)) if version is not None else []
        if rules and str(getattr(version, "encryption", None) or "").startswith("aws:kms"):
            rules = [r for r in rules if _replicates_sse_kms(r)]
        if not rules:
            return
        override = self.state["overrides"].get(f"{bucket_name}/{key_name}")
        if override:
            setattr(version, STATUS_ATTR, override)
        elif bucket_name in self.state["paused"]:
            setattr(version, STATUS_ATTR, "PENDING")
        else:
            ok = all(_copy(backend, version, rule) for rule in rules)
            setattr(version, STATUS_ATTR, "COMPLETED" if ok else "FAILED")

    def replicate_delete(self, bucket_name: str, key_name: str) -> None:
        backend = s3()
        bucket = backend.buckets.get(bucket_name)
        if not bucket or bucket_name in self.state["paused"]:
            return
        for rule in _rules_for(bucket, key_name):
            if (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                continue
            dest = _destination(rule)
            if dest in backend.buckets and backend.buckets[dest].keys.get(key_name) is not None:
                backend.delete_object(dest, key_name)

    def status_of(self, bucket_name: str, key_name: str, version_id: str | None) -> str | None:
        override = self.state["overrides"].get(f"{bucket_name}/{key_name}")
        bucket = s3().buckets.get(bucket_name)
        version = _version(bucket, key_name, version_id) if bucket else None
        status = getattr(version, STATUS_ATTR, None) if version is not None else None
        if override and status != "REPLICA":
            return override
        return status

    def reset(self) -> None:
        with self.lock:
            overridden = list(self.state["overrides"])
            paused = list(self.state["paused"])
            self.state = self.initial_state()
            for name in overridden:
                bucket, key = name.split("/", 1)
                self.recopy(bucket, key)
            for bucket in paused:
                self.flush_pending(bucket)

    def recopy(self, bucket_name: str, key_name: str) -> None:
        bucket = s3().buckets.get(bucket_name)
        version = _version(bucket, key_name, None) if bucket else None
        if version is not None:
            self.after_put(bucket_name, key_name, version.version_id)

    def flush_pending(self, bucket_name: str) -> int:
        bucket = s3().buckets.get(bucket_name)
        count = 0
        for key_name, versions in (bucket.keys.iterlists() if bucket else ()):
            current = versions[-1] if versions else None
            if getattr(current, STATUS_ATTR, None) == "PENDING":
                self.after_put(bucket_name, key_name, current.version_id)
                count += 1
        return count

    # ---- admin -----------------------------------------------------------------------------------------------------
    @admin("s3/replication-status")
    def set_status(self, payload: dict) -> dict:
        bucket_name, key_name = need(payload, "bucket"), need(payload, "key")
        status = payload.get("status")
        if status not in (*OVERRIDABLE, "COMPLETED", None):
            raise AdminError("status must be PENDING, FAILED, COMPLETED or null")
        backend = s3()
        bucket = backend.buckets.get(bucket_name)
        if bucket is None:
            raise AdminError(f"no bucket {bucket_name!r}", 404)
        version = _version(bucket, key_name, None)
        with self.lock:
            name = f"{bucket_name}/{key_name}"
            if status in OVERRIDABLE:
                self.state["overrides"][name] = status
                dropped = []
                if version is not None:
                    setattr(version, STATUS_ATTR, status)
                    if payload.get("drop_replica", True):
                        dropped = _drop_replicas(backend, bucket, version)
                return {"bucket": bucket_name, "key": key_name, "status": status, "dropped_replicas": dropped}
            self.state["overrides"].pop(name, None)
            self.recopy(bucket_name, key_name)
            return {"bucket": bucket_name, "key": key_name,
                    "status": self.status_of(bucket_name, key_name, None)}

    @admin("s3/replication-paused")
    def set_paused(self, payload: dict) -> dict:
        bucket_name = need(payload, "bucket")
        paused = bool(payload.get("paused", True))
        with self.lock:
            current = set(self.state["paused"])
            if paused:
                current.add(bucket_name)
                self.state["paused"] = sorted(current)
                return {"bucket": bucket_name, "paused": True}
            current.discard(bucket_name)
            self.state["paused"] = sorted(current)
            return {"bucket": bucket_name, "paused": False, "copied": self.flush_pending(bucket_name)}

    @admin("s3/objects")
    def put_objects(self, payload: dict) -> dict:
        bucket_name = need(payload, "bucket")
        objects = need(payload, "objects", list)
        backend = s3()
        if bucket_name not in backend.buckets:
            raise AdminError(f"no bucket {bucket_name!r}", 404)
        with self.lock:
            for obj in objects:
                key_name = need(obj, "key")
                body = base64.b64decode(obj["body_b64"]) if "body_b64" in obj else str(obj.get("body", "")).encode()
                key = backend.put_object(bucket_name, key_name, body, disable_notification=True)
                meta = {f"x-amz-meta-{k}": str(v) for k, v in (obj.get("metadata") or {}).items()}
                meta["Content-Type"] = obj.get("content_type") or "binary/octet-stream"
                key.set_metadata(meta)
                if obj.get("last_modified"):
                    key.last_modified = moto_time(parse_time(obj["last_modified"]))
                if obj.get("replicate", True):
                    self.after_put(bucket_name, key_name, key.version_id)
        return {"bucket": bucket_name, "count": len(objects)}


# ---- moto backend helpers ----------------------------------------------------------------------------------------
def _version(bucket, key_name: str, version_id: str | None):
    """The FakeKey for this version (the current one without a version id); None when gone or a delete marker."""
    versions = bucket.keys.getlist(key_name, []) if bucket is not None else []
    if version_id and version_id != "null":
        found = [v for v in versions if getattr(v, "version_id", None) == version_id]
        return found[-1] if found else None
    current = versions[-1] if versions else None
    return current if current is not None and hasattr(current, "value") else None


def _rules_for(bucket, key_name: str, tags: dict[str, str] | None = None) -> list[dict]:
    """The bucket's Enabled rules whose filter matches the key (and, when given, the object's tags; a rule with a
    tag filter never matches without tags, as AWS replicates no delete markers for such rules)."""
    config = getattr(bucket, "replication", None) or {}
    rules = config.get("Rule") or []
    if isinstance(rules, dict):
        rules = [rules]
    found = []
    for rule in rules:
        prefix, wanted = _filter(rule)
        if rule.get("Status") != "Enabled" or not key_name.startswith(prefix):
            continue
        if wanted and (tags is None or any(tags.get(k) != v for k, v in wanted.items())):
            continue
        found.append(rule)
    return found


def _filter(rule: dict) -> tuple[str, dict[str, str]]:
    """(prefix, tags) of a rule: V1 Prefix, or V2 Filter with Prefix, Tag, or And of both."""
    if "Filter" not in rule:
        return rule.get("Prefix") or "", {}
    f = rule.get("Filter") or {}
    if "And" in f:
        f = f.get("And") or {}
    tags = f.get("Tag") or []
    if isinstance(tags, dict):
        tags = [tags]
    return f.get("Prefix") or "", {t.get("Key"): t.get("Value") or "" for t in tags}


def _replicates_sse_kms(rule: dict) -> bool:
    criteria = ((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {})
    return criteria.get("Status") == "Enabled"


def _tags(backend, version) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in backend.get_object_tagging(version).get("Tags") or []}


def _destination(rule: dict) -> str:
    return (rule.get("Destination") or {}).get("Bucket", "").split(":::")[-1]


def _copy(backend, src, rule: dict) -> bool:
    """Put a replica of one source version into the rule's destination. False if the destination is missing."""
    dest = _destination(rule)
    dest_bucket = backend.buckets.get(dest)
    if dest_bucket is None:
        return False
    _remove_replicas_of(dest_bucket, src)  # a re-copy replaces the earlier replica of this version
    storage = (rule.get("Destination") or {}).get("StorageClass") or src.storage_class
    replica = backend.put_object(dest, src.name, src.value, storage=storage, encryption=src.encryption,
                                 kms_key_id=src.kms_key_id, checksum_value=src.checksum_value,
                                 disable_notification=True)
    replica.set_metadata(dict(src.metadata.items()))
    replica.checksum_algorithm = src.checksum_algorithm
    replica.last_modified = src.last_modified
    if dest_bucket.is_versioned and src.version_id != "null":
        replica._version_id = src.version_id  # replicas keep the source's version id
    tags = backend.get_object_tagging(src).get("Tags") or []
    if tags:
        backend.put_object_tagging(replica, {t["Key"]: t["Value"] for t in tags})
    setattr(replica, STATUS_ATTR, "REPLICA")
    replica.opsproof_source = (src.bucket_name, src.version_id)
    return True


def _remove_replicas_of(dest_bucket, src) -> bool:
    """Remove the replica of one source version from a destination bucket, as if it never arrived."""
    origin = (src.bucket_name, src.version_id)
    versions = dest_bucket.keys.getlist(src.name, [])
    keep = [v for v in versions if getattr(v, "opsproof_source", None) != origin]
    if len(keep) == len(versions):
        return False
    if keep:
        dest_bucket.keys.setlist(src.name, keep)
    else:
        dest_bucket.keys.pop(src.name)
    return True


def _drop_replicas(backend, bucket, version) -> list[str]:
    """Remove the replica of this source version from every destination of the bucket's rules."""
    dropped = []
    for rule in _rules_for(bucket, version.name, _tags(backend, version)):
        dest = backend.buckets.get(_destination(rule))
        if dest is not None and _remove_replicas_of(dest, version):
            dropped.append(f"{dest.name}/{version.name}")
    return dropped
