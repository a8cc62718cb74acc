"""Probes of S3 replication (read-only calls): the replication configuration, object parity of two buckets by a
streaming merge of their sorted listings, per-object replication status and metadata of a sample.

The parity merge holds no listing in memory: each bucket is listed by its own thread into a small bounded queue
(``queue_pages`` pages of ``page_size`` keys), both listings come back in the same (UTF-8 binary) key order, and the
merge walks them side by side. Memory is independent of the number of objects: counts are totals, culprits are the
first ``max_culprits`` of each kind, the sample is a fixed-size reservoir plus a fixed-size heap of the newest keys.

    >>> result = parity(s3_src, "prod", s3_dst, "dr", sla=dt.timedelta(minutes=15))
    >>> result.counts["missing"], result.culprits["missing"][:1]
    (3, ['media/u1/p1/a.mp4'])
"""

import dataclasses
import datetime as dt
import hashlib
import heapq
import math
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ..connect import aws_call
from ..errors import TargetUnreachable

UTC = dt.timezone.utc
KINDS = ("missing", "extra", "size_differs", "content_differs", "pending", "unverified")
"""missing: in the source, not in the replica (older than the SLA); extra: in the replica only; size_differs,
content_differs: both have it and they differ; pending: missing or different but younger than the SLA;
unverified: opaque ETags (multipart, SSE-KMS) beyond the verification budget."""


# ---- replication configuration ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    id: str
    status: str
    priority: int | None
    prefix: str
    destination_bucket: str
    delete_marker_replication: str | None
    storage_class: str | None
    tags: tuple[tuple[str, str], ...] = ()
    """The filter's tags (Filter.Tag or Filter.And.Tags): only objects with all of them replicate."""
    sse_kms: bool = False
    """SourceSelectionCriteria.SseKmsEncryptedObjects is Enabled: without it S3 does not replicate SSE-KMS objects
    (they get no replication status at all)."""

    def covers(self, key: str, tags: dict[str, str] | None) -> bool:
        """The rule's filter matches the key (and its tags, when the filter has tags)."""
        return key.startswith(self.prefix) and all((tags or {}).get(k) == v for k, v in self.tags)


@dataclass
class ReplicationConfig:
    source_bucket: str
    source_versioning: str
    source_region: str
    replica_bucket: str
    replica_versioning: str
    replica_region: str
    role: str | None
    rules: list[Rule]


def bucket_region(s3, bucket: str) -> str:
    loc = aws_call(f"s3 get-bucket-location {bucket}", s3.get_bucket_location, Bucket=bucket)
    return loc.get("LocationConstraint") or "us-east-1"


def versioning(s3, bucket: str) -> str:
    v = aws_call(f"s3 get-bucket-versioning {bucket}", s3.get_bucket_versioning, Bucket=bucket)
    return v.get("Status") or "Never enabled"


def replication_config(s3_src, source: str, s3_dst, replica: str) -> ReplicationConfig:
    try:
        cfg = aws_call(f"s3 get-bucket-replication {source}", s3_src.get_bucket_replication,
                       Bucket=source)["ReplicationConfiguration"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ReplicationConfigurationNotFoundError":
            raise
        cfg = {"Rules": []}
    rules = []
    for r in cfg.get("Rules", []):
        f = r.get("Filter") or {}
        prefix = f.get("Prefix", (f.get("And") or {}).get("Prefix", r.get("Prefix", ""))) or ""
        tags = ([f["Tag"]] if f.get("Tag") else []) + list((f.get("And") or {}).get("Tags") or [])
        kms = ((r.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}).get("Status")
        rules.append(Rule(r.get("ID", ""), r.get("Status", ""), r.get("Priority"), prefix,
                          (r.get("Destination") or {}).get("Bucket", "").split(":::")[-1],
                          (r.get("DeleteMarkerReplication") or {}).get("Status"),
                          (r.get("Destination") or {}).get("StorageClass"),
                          tuple((t.get("Key", ""), t.get("Value", "")) for t in tags), kms == "Enabled"))
    return ReplicationConfig(source, versioning(s3_src, source), bucket_region(s3_src, source), replica,
                             versioning(s3_dst, replica), bucket_region(s3_dst, replica), cfg.get("Role"), rules)


def kms_default(s3, bucket: str) -> bool:
    """The bucket encrypts new objects with SSE-KMS by default (their ETags are then not MD5s)."""
    try:
        enc = aws_call(f"s3 get-bucket-encryption {bucket}", s3.get_bucket_encryption, Bucket=bucket)
    except ClientError:
        return False
    rules = enc.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return any("kms" in (r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "") for r in rules)


def etags_opaque(etag_is_md5: str, *buckets: tuple) -> bool:
    """ETags are not MD5s of the content: storage.parity.etag_is_md5 says "never", or a bucket of these
    (client, name) pairs encrypts with SSE-KMS by default."""
    return etag_is_md5 == "never" or any(kms_default(s3, bucket) for s3, bucket in buckets)


# ---- listings --------------------------------------------------------------------------------------------------------
def fast_timestamps(client):
    """Make this client parse ISO 8601 timestamps with datetime.fromisoformat. botocore's default (dateutil) costs
    about three quarters of the client's CPU on a listing (one LastModified per key); anything fromisoformat does not
    read still goes to botocore's parser, so the values are the same. It changes the parser factory of the client's
    botocore session: give it a client of its own session (opsproof.connect.aws_client makes one per client)."""
    from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

    def parse(value):
        try:
            t = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return DEFAULT_TIMESTAMP_PARSER(value)
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    factory = getattr(getattr(client, "_endpoint", None), "_response_parser_factory", None)
    if factory is not None and hasattr(factory, "set_parser_defaults"):
        factory.set_parser_defaults(timestamp_parser=parse)
    return client


@dataclass(frozen=True, slots=True)
class Obj:
    key: str
    size: int
    etag: str
    modified: dt.datetime


_DONE = object()


class Listing:
    """A bucket's objects in key order, fetched ahead by a thread into a bounded queue (memory: max_pages pages).

    Iterate it; close() stops the thread early. An error in the thread is raised in the iterating one."""

    def __init__(self, s3, bucket: str, prefix: str = "", page_size: int = 1000, max_pages: int = 4):
        self.s3, self.bucket, self.prefix, self.page_size = s3, bucket, prefix, page_size
        self.pages: queue.Queue = queue.Queue(maxsize=max_pages)
        self.stop = threading.Event()
        self.count = 0
        self.requests = 0
        self.thread = threading.Thread(target=self._fetch, name=f"list-{bucket}", daemon=True)
        self.thread.start()

    def _fetch(self) -> None:
        try:
            kwargs = {"Bucket": self.bucket, "MaxKeys": self.page_size}
            if self.prefix:
                kwargs["Prefix"] = self.prefix
            while not self.stop.is_set():
                page = aws_call(f"s3 list-objects-v2 {self.bucket}", self.s3.list_objects_v2, **kwargs)
                self.requests += 1
                items = [Obj(o["Key"], o["Size"], o.get("ETag", "").strip('"'), o["LastModified"])
                         for o in page.get("Contents", [])]
                self._put(items)
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
                kwargs["ContinuationToken"] = token
            self._put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put(e)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Obj]:
        while True:
            item = self.pages.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            self.count += len(item)
            yield from item

    def close(self) -> None:
        self.stop.set()


# ---- the merge -------------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    """A fixed-size uniform sample (reservoir, Li's algorithm L: a few random draws, not one per object) plus the
    newest keys of a stream of objects."""

    size: int
    newest: int
    rng: random.Random
    seen: int = 0
    reservoir: list = field(default_factory=list)
    heap: list = field(default_factory=list)
    _next: int = 0
    _w: float = 1.0

    def add(self, o: Obj) -> None:
        self.seen += 1
        if self.size:
            if len(self.reservoir) < self.size:
                self.reservoir.append(o)
                if len(self.reservoir) == self.size:
                    self._w = math.exp(math.log(self.rng.random() or 1e-12) / self.size)
                    self._skip()
            elif self.seen == self._next:
                self.reservoir[self.rng.randrange(self.size)] = o
                self._w *= math.exp(math.log(self.rng.random() or 1e-12) / self.size)
                self._skip()
        if self.newest:
            heap = self.heap
            if len(heap) < self.newest:
                heapq.heappush(heap, (o.modified, o.key, o))
            elif o.modified >= heap[0][0] and (o.modified, o.key) > heap[0][:2]:
                heapq.heapreplace(heap, (o.modified, o.key, o))

    def _skip(self) -> None:
        w = min(self._w, 1 - 1e-12)
        self._next = self.seen + int(math.log(self.rng.random() or 1e-12) / math.log(1 - w)) + 1

    def objects(self) -> list[Obj]:
        """Newest first, then the random ones (no key twice)."""
        out = {o.key: o for _, _, o in sorted(self.heap, key=lambda t: t[:2], reverse=True)}
        for o in sorted(self.reservoir, key=lambda o: o.key):
            out.setdefault(o.key, o)
        return list(out.values())


@dataclass
class Parity:
    source: str
    replica: str
    source_count: int = 0
    replica_count: int = 0
    matched: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    culprits: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    verified_by: dict[str, int] = field(default_factory=lambda: {"etag": 0, "checksum": 0, "download": 0})
    seconds: float = 0.0
    requests: int = 0
    sample: list[Obj] = field(default_factory=list)

    @property
    def failures(self) -> dict[str, int]:
        return {k: v for k, v in self.counts.items() if v and k not in ("pending", "unverified")}

    def summary(self) -> dict:
        return {"source": self.source, "replica": self.replica, "source_objects": self.source_count,
                "replica_objects": self.replica_count, "matched": self.matched, **self.counts,
                "verified_by_etag": self.verified_by["etag"], "verified_by_checksum": self.verified_by["checksum"],
                "verified_by_download": self.verified_by["download"], "list_requests": self.requests,
                "seconds": round(self.seconds, 2)}


def opaque(etag: str, kms: bool) -> bool:
    """An ETag that is not the content's MD5: multipart ('-N') or SSE-KMS."""
    return kms or "-" in etag or len(etag) != 32


def merge(src: Iterable[Obj], dst: Iterable[Obj], result: Parity, *, now: dt.datetime, sla: dt.timedelta,
          max_culprits: int, src_kms: bool = False, dst_kms: bool = False, sample: Sample | None = None,
          to_verify: list | None = None, verify_max: int = 0) -> Parity:
    """Walk two key-ordered streams side by side and classify every key. Pairs whose ETags cannot be compared are
    appended to to_verify (up to verify_max; the rest count as unverified)."""

    def note(kind: str, key: str) -> None:
        result.counts[kind] += 1
        if len(result.culprits[kind]) < max_culprits:
            result.culprits[kind].append(key)

    def young(o: Obj) -> bool:
        return now - o.modified < sla

    si, di = iter(src), iter(dst)
    s, d = next(si, None), next(di, None)
    while s is not None or d is not None:
        if d is None or (s is not None and s.key < d.key):
            result.source_count += 1
            if sample is not None:
                sample.add(s)
            note("pending" if young(s) else "missing", s.key)
            s = next(si, None)
        elif s is None or d.key < s.key:
            result.replica_count += 1
            note("extra", d.key)
            d = next(di, None)
        else:
            result.source_count += 1
            result.replica_count += 1
            if sample is not None:
                sample.add(s)
            if s.size != d.size:
                note("pending" if young(s) else "size_differs", s.key)
            elif s.etag == d.etag:
                result.matched += 1
                result.verified_by["etag"] += 1
            elif not opaque(s.etag, src_kms) and not opaque(d.etag, dst_kms):
                note("pending" if young(s) else "content_differs", s.key)
            elif to_verify is not None and len(to_verify) < verify_max:
                to_verify.append((s, d))
            else:
                note("unverified", s.key)
            s, d = next(si, None), next(di, None)
    return result


def parity(s3_src, source: str, s3_dst, replica: str, *, prefix: str = "", sla: dt.timedelta,
           max_culprits: int = 20, page_size: int = 1000, queue_pages: int = 4, etag_is_md5: str = "auto",
           verify_max_objects: int = 50, verify_max_bytes: int = 256 * 1024 ** 2, sample_size: int = 0,
           sample_newest: int = 0, seed: int | None = None, now: dt.datetime | None = None) -> Parity:
    """Object parity of two buckets (see the module's docstring); the sample is drawn from the source on the way."""
    t0 = time.monotonic()
    now = now or dt.datetime.now(UTC)
    src_kms = etag_is_md5 == "never" or kms_default(s3_src, source)
    dst_kms = etag_is_md5 == "never" or kms_default(s3_dst, replica)
    result = Parity(source, replica)
    smp = Sample(sample_size, sample_newest, random.Random(seed))
    pending: list = []
    a = Listing(s3_src, source, prefix, page_size, queue_pages)
    b = Listing(s3_dst, replica, prefix, page_size, queue_pages)
    try:
        merge(a, b, result, now=now, sla=dt.timedelta(seconds=sla.total_seconds()), max_culprits=max_culprits,
              src_kms=src_kms, dst_kms=dst_kms, sample=smp, to_verify=pending, verify_max=verify_max_objects)
    finally:
        a.close()
        b.close()
    result.requests = a.requests + b.requests
    verify(s3_src, source, s3_dst, replica, pending, result, now=now, sla=sla, max_culprits=max_culprits,
           max_bytes=verify_max_bytes)
    result.sample = smp.objects()
    result.seconds = time.monotonic() - t0
    return result


# ---- content of opaque ETags: additional checksums, else a download --------------------------------------------------
CHECKSUMS = ("ChecksumSHA256", "ChecksumSHA1", "ChecksumCRC32C", "ChecksumCRC32", "ChecksumCRC64NVME")


def head(s3, bucket: str, key: str, checksums: bool = True) -> dict | None:
    """HeadObject (with ChecksumMode=ENABLED): None when the key is not there."""
    kwargs = {"Bucket": bucket, "Key": key}
    if checksums:
        kwargs["ChecksumMode"] = "ENABLED"
    try:
        return aws_call(f"s3 head-object {bucket}/{key}", s3.head_object, **kwargs)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def sha256_of(s3, bucket: str, key: str) -> str:
    body = aws_call(f"s3 get-object {bucket}/{key}", s3.get_object, Bucket=bucket, Key=key)["Body"]
    h = hashlib.sha256()
    try:
        for chunk in body.iter_chunks(1024 * 1024):
            h.update(chunk)
    finally:
        body.close()
    return h.hexdigest()


def verify(s3_src, source, s3_dst, replica, pairs, result: Parity, *, now, sla, max_culprits, max_bytes) -> None:
    """Compare pairs with opaque ETags by a common additional checksum, else by downloading both (within the byte
    budget); what cannot be verified is counted as unverified."""
    budget = max_bytes

    def note(kind, key):
        result.counts[kind] += 1
        if len(result.culprits[kind]) < max_culprits:
            result.culprits[kind].append(key)

    def one(pair):
        s, d = pair
        hs, hd = head(s3_src, source, s.key), head(s3_dst, replica, d.key)
        if hs is None or hd is None:
            return s, "gone", None
        common = [c for c in CHECKSUMS if hs.get(c) and hd.get(c)]
        if common:
            return s, "checksum", hs[common[0]] == hd[common[0]]
        return s, "download?", None

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, pairs))
    for s, how, same in outcomes:
        if how == "download?":
            if s.size * 2 > budget:
                note("unverified", s.key)
                continue
            budget -= s.size * 2
            same = sha256_of(s3_src, source, s.key) == sha256_of(s3_dst, replica, s.key)
            how = "download"
        if how == "gone":
            note("unverified", s.key)
            continue
        result.verified_by[how] += 1
        if same:
            result.matched += 1
        else:
            note("pending" if now - s.modified < sla else "content_differs", s.key)


# ---- per-object checks of the sample ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    key: str
    status: str | None
    """COMPLETED, PENDING, FAILED (REPLICA on a replica), GONE, or None: S3 never tried to replicate it."""
    modified: dt.datetime
    age_min: float
    encryption: str | None = None
    """HeadObject's ServerSideEncryption (AES256, aws:kms, aws:kms:dsse)."""


def replication_statuses(s3, bucket: str, objects: list[Obj], workers: int = 8) -> list[Status]:
    """x-amz-replication-status of each sampled source object (HeadObject)."""
    now = dt.datetime.now(UTC)

    def one(o: Obj) -> Status:
        h = head(s3, bucket, o.key, checksums=False)
        status = None if h is None else h.get("ReplicationStatus")
        return Status(o.key, status if h is not None else "GONE", o.modified,
                      round((now - o.modified).total_seconds() / 60, 1), (h or {}).get("ServerSideEncryption"))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, objects))


def sample_statuses(s3, bucket: str, survey: Parity, workers: int = 8) -> list[Status]:
    """The replication status of the survey's sample, and of the first objects it found missing in the replica
    (to say why they are missing; their age is unknown: 0, never late)."""
    sampled = {o.key: o for o in survey.sample}
    now = dt.datetime.now(UTC)
    missing = [Obj(k, 0, "", now) for k in survey.culprits.get("missing", []) if k not in sampled]
    found = replication_statuses(s3, bucket, list(sampled.values()) + missing, workers)
    return [st if st.key in sampled else dataclasses.replace(st, age_min=0.0) for st in found]


def unreplicated(s3_src, source: str, s3_dst, replica: str, statuses: list[Status],
                 limit: int) -> tuple[list[Rule], dict[str, dict | None]]:
    """What says why objects have no replication status: the source's Enabled rules and the tags of the first
    ``limit`` such objects (None each when no rule filters on tags). Nothing is read when every object has one."""
    never = [st for st in statuses if st.status is None][:limit]
    if not never:
        return [], {}
    rules = [r for r in replication_config(s3_src, source, s3_dst, replica).rules if r.status == "Enabled"]
    tagged = any(r.tags for r in rules)
    return rules, {st.key: object_tags(s3_src, source, st.key) if tagged else None for st in never}


def settled(objects: list[Obj], sla_min: float, now: dt.datetime | None = None) -> list[Obj]:
    """The objects older than the replication SLA (the younger may not be replicated yet)."""
    now = now or dt.datetime.now(UTC)
    return [o for o in objects if (now - o.modified).total_seconds() / 60 >= sla_min]


def object_tags(s3, bucket: str, key: str) -> dict[str, str]:
    resp = aws_call(f"s3 get-object-tagging {bucket}/{key}", s3.get_object_tagging, Bucket=bucket, Key=key)
    return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}


META_FIELDS = ("ContentLength", "ContentType", "ContentEncoding", "ContentLanguage", "ContentDisposition",
               "CacheControl", "Metadata", "ETag")


@dataclass(frozen=True)
class MetaDiff:
    key: str
    field: str
    source: object
    replica: object


def metadata_differences(s3_src, source: str, s3_dst, replica: str, objects: list[Obj], *, kms: bool = False,
                         workers: int = 8) -> tuple[int, list[MetaDiff]]:
    """The runbook's random-sample metadata comparison: HeadObject of each sampled key in both buckets.
    Returns (keys compared, differences). A missing replica is a difference of field 'exists'."""

    def one(o: Obj) -> list[MetaDiff]:
        hs, hd = head(s3_src, source, o.key), head(s3_dst, replica, o.key)
        if hs is None:
            return []  # deleted since the listing
        if hd is None:
            return [MetaDiff(o.key, "exists", True, False)]
        out = []
        for f in META_FIELDS:
            a, b = hs.get(f), hd.get(f)
            if f == "ETag" and (opaque(str(a).strip('"'), kms) or opaque(str(b).strip('"'), kms)):
                continue
            if a != b:
                out.append(MetaDiff(o.key, f, a, b))
        common = [c for c in CHECKSUMS if hs.get(c) and hd.get(c)]
        if common and hs[common[0]] != hd[common[0]]:
            out.append(MetaDiff(o.key, common[0], hs[common[0]], hd[common[0]]))
        return out

    with ThreadPoolExecutor(max_workers=workers) as pool:
        diffs = [d for ds in pool.map(one, objects) for d in ds]
    return len(objects), diffs


def reachable(s3, bucket: str) -> None:
    """HeadBucket: raise TargetUnreachable naming the bucket when it is not there or not ours."""
    try:
        aws_call(f"s3 head-bucket {bucket}", s3.head_bucket, Bucket=bucket)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        raise TargetUnreachable(f"S3 bucket {bucket}: {code} (does it exist, in this account?)") from None
