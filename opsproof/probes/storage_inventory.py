"""Parity of two buckets too large to list in a window: their S3 Inventory reports, diffed with SQL.

S3 Inventory writes, daily, a manifest and CSV (or Parquet) files listing every object of a bucket:
``s3://<inventory bucket>/<prefix>/<source bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json``. This probe reads
the newest report of each bucket (checking each file's MD5 against the manifest), loads them into DuckDB (embedded,
in-process) and runs one FULL OUTER JOIN that classifies every key the way the listing parity does. The same query
runs on Athena over the same reports at any scale (``diff_sql(dialect="athena")``; docs/backups.md has the DDL).

    >>> report = latest_report(s3, "inventory-bucket", "inventory", "ai-film-studio-media-prod", "daily")
    >>> result = diff_reports(s3, src_report, dst_report, sla=dt.timedelta(minutes=15), max_culprits=20)
"""

import datetime as dt
import gzip
import hashlib
import json
import re
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ..connect import aws_call
from ..errors import ProbeFailed
from .storage import KINDS, Parity

UTC = dt.timezone.utc
_FOLDER = re.compile(r"/(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z)/$")
_COLUMNS = {"Bucket": "bucket", "Key": "key", "VersionId": "version_id", "IsLatest": "is_latest",
            "IsDeleteMarker": "is_delete_marker", "Size": "size", "LastModifiedDate": "last_modified",
            "ETag": "etag", "StorageClass": "storage_class", "ReplicationStatus": "replication_status",
            "EncryptionStatus": "encryption_status", "IsMultipartUploaded": "is_multipart",
            "ChecksumAlgorithm": "checksum_algorithm"}


@dataclass
class Report:
    bucket: str
    """The bucket the report lists."""
    manifest_key: str
    created: dt.datetime
    file_format: str
    columns: list[str]
    files: list[dict]
    inventory_bucket: str

    @property
    def age_h(self) -> float:
        return round((dt.datetime.now(UTC) - self.created).total_seconds() / 3600, 2)


class InventoryError(ProbeFailed):
    """A report is missing, unreadable or corrupt: the message names it."""


def latest_report(s3, inventory_bucket: str, prefix: str, bucket: str, config_id: str) -> Report:
    base = f"{prefix.strip('/')}/{bucket}/{config_id}/".lstrip("/")
    folders = []
    kwargs = {"Bucket": inventory_bucket, "Prefix": base, "Delimiter": "/"}
    while True:
        page = aws_call(f"s3 list-objects-v2 {inventory_bucket}/{base}", s3.list_objects_v2, **kwargs)
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", []) if _FOLDER.search("/" + p["Prefix"])]
        if not page.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    if not folders:
        raise InventoryError(f"no S3 Inventory report of {bucket} under s3://{inventory_bucket}/{base}")
    newest = max(folders)
    key = newest + "manifest.json"
    body = aws_call(f"s3 get-object {inventory_bucket}/{key}", s3.get_object, Bucket=inventory_bucket,
                    Key=key)["Body"].read()
    try:
        m = json.loads(body)
    except ValueError as e:
        raise InventoryError(f"s3://{inventory_bucket}/{key}: not JSON ({e})") from None
    created = dt.datetime.fromtimestamp(int(m["creationTimestamp"]) / 1000, UTC)
    columns = [c.strip() for c in m.get("fileSchema", "").split(",") if c.strip()]
    return Report(m.get("sourceBucket", bucket), key, created, m.get("fileFormat", "CSV"), columns,
                  m.get("files", []), inventory_bucket)


def latest_reports(s3, inv, source: str, replica: str) -> tuple[Report, Report]:
    """The newest reports of both buckets under the [storage.inventory] section ``inv``."""
    return (latest_report(s3, inv.bucket, inv.prefix, source, inv.source_config_id),
            latest_report(s3, inv.bucket, inv.prefix, replica, inv.replica_config_id))


def _download(s3, report: Report, folder: Path, max_files: int) -> list[str]:
    if len(report.files) > max_files:
        raise InventoryError(f"{report.manifest_key}: {len(report.files)} data files, more than "
                             f"storage.inventory.max_files ({max_files})")
    paths = []
    for i, f in enumerate(report.files):
        local = folder / f"{report.bucket}-{i}{'.csv.gz' if report.file_format == 'CSV' else '.parquet'}"
        md5 = hashlib.md5()
        body = aws_call(f"s3 get-object {report.inventory_bucket}/{f['key']}", s3.get_object,
                        Bucket=report.inventory_bucket, Key=f["key"])["Body"]
        with local.open("wb") as out:
            for chunk in body.iter_chunks(1024 * 1024):
                md5.update(chunk)
                out.write(chunk)
        if f.get("MD5checksum") and md5.hexdigest() != f["MD5checksum"]:
            raise InventoryError(f"s3://{report.inventory_bucket}/{f['key']}: MD5 {md5.hexdigest()} does not match "
                                 f"the manifest's {f['MD5checksum']} (a corrupt or partial report)")
        paths.append(str(local))
    return paths


def _view(con, name: str, report: Report, paths: list[str]) -> None:
    cols = [_COLUMNS.get(c, re.sub(r"\W", "_", c).lower()) for c in report.columns]
    if report.file_format == "CSV":
        spec = ", ".join(f"'{c}': 'VARCHAR'" for c in cols)
        con.execute(f"CREATE VIEW {name}_raw AS SELECT * FROM read_csv({paths!r}, header=false, columns={{{spec}}}, "
                    "compression='gzip', quote='\"', escape='\"')")
    else:
        con.execute(f"CREATE VIEW {name}_raw AS SELECT * FROM read_parquet({paths!r})")
    latest = " WHERE coalesce(lower(CAST(is_latest AS VARCHAR)), 'true') = 'true' " \
             "AND coalesce(lower(CAST(is_delete_marker AS VARCHAR)), 'false') = 'false'" \
        if "is_latest" in cols else ""
    con.execute(f"CREATE VIEW {name} AS SELECT key, CAST(size AS BIGINT) AS size, etag, "
                f"CAST(last_modified AS TIMESTAMPTZ) AS last_modified FROM {name}_raw{latest}")


def diff_sql(src: str, dst: str, cutoff: dt.datetime, *, kms: bool = False, max_culprits: int = 20,
             dialect: str = "duckdb") -> str:
    """One query classifying every key of two inventories (tables/views with key, size, etag, last_modified):
    one row per kind with its count and its first culprits by key. Runs on DuckDB, and on Athena (Trino) with
    dialect="athena" over tables made by the DDL in docs/backups.md."""
    ts = f"TIMESTAMP '{cutoff.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"
    if dialect == "duckdb":
        ts = f"CAST('{cutoff.astimezone(UTC).isoformat()}' AS TIMESTAMPTZ)"
    lm = "s.last_modified" if dialect == "duckdb" else "from_iso8601_timestamp(s.last_modified)"
    opaque = "TRUE" if kms else "(strpos(s.etag, '-') > 0 OR strpos(d.etag, '-') > 0)"
    first = (f"(array_agg(key ORDER BY key))[1:{max_culprits}]" if dialect == "duckdb"
             else f"slice(array_agg(key ORDER BY key), 1, {max_culprits})")
    return f"""
WITH diff AS (
  SELECT coalesce(s.key, d.key) AS key,
    CASE
      WHEN d.key IS NULL THEN CASE WHEN {lm} > {ts} THEN 'pending' ELSE 'missing' END
      WHEN s.key IS NULL THEN 'extra'
      WHEN s.size <> d.size THEN CASE WHEN {lm} > {ts} THEN 'pending' ELSE 'size_differs' END
      WHEN s.etag = d.etag THEN 'matched'
      WHEN {opaque} THEN 'unverified'
      WHEN {lm} > {ts} THEN 'pending'
      ELSE 'content_differs'
    END AS kind,
    s.key IS NOT NULL AS in_source, d.key IS NOT NULL AS in_replica
  FROM {src} s FULL OUTER JOIN {dst} d ON s.key = d.key
)
SELECT kind, count(*) AS n, sum(CASE WHEN in_source THEN 1 ELSE 0 END) AS n_source,
       sum(CASE WHEN in_replica THEN 1 ELSE 0 END) AS n_replica, {first} AS first_keys
FROM diff GROUP BY kind ORDER BY kind
""".strip()


def diff_reports(s3, src: Report, dst: Report, *, sla: dt.timedelta, max_culprits: int = 20, kms: bool = False,
                 max_files: int = 1000) -> Parity:
    """Download both reports, diff them in DuckDB; the result reads like the listing parity's."""
    import duckdb

    t0 = time.monotonic()
    result = Parity(src.bucket, dst.bucket)
    cutoff = min(src.created, dst.created) - sla
    with tempfile.TemporaryDirectory(prefix="opsproof-inventory-") as tmp:
        folder = Path(tmp)
        src_files, dst_files = _download(s3, src, folder, max_files), _download(s3, dst, folder, max_files)
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET memory_limit = '1GB'; SET threads = 2")
            con.execute(f"SET temp_directory = '{folder / 'spill'}'")
            _view(con, "src", src, src_files)
            _view(con, "dst", dst, dst_files)
            rows = con.execute(diff_sql("src", "dst", cutoff, kms=kms, max_culprits=max_culprits)).fetchall()
        finally:
            con.close()
    for kind, n, n_source, n_replica, first in rows:
        result.source_count += int(n_source)
        result.replica_count += int(n_replica)
        if kind == "matched":
            result.matched = int(n)
            result.verified_by["etag"] = int(n)
        elif kind in KINDS:
            result.counts[kind] = int(n)
            result.culprits[kind] = [urllib.parse.unquote_plus(k) for k in (first or [])]
    result.seconds = time.monotonic() - t0
    return result


# ---- writing reports (the sandbox's stand-in for S3 Inventory's daily run; tests) ------------------------------------
SCHEMA = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, ReplicationStatus"


def write_report(s3_inventory, inventory_bucket: str, prefix: str, bucket: str, config_id: str, rows,
                 when: dt.datetime | None = None, rows_per_file: int = 100_000) -> str:
    """Write a CSV report of (key, size, etag, last_modified, storage_class, replication_status) rows as S3
    Inventory would: gzip'd CSV data files with URL-encoded keys and a manifest.json. Returns the manifest key."""
    import csv
    import io
    import uuid

    when = when or dt.datetime.now(UTC)
    base = f"{prefix.strip('/')}/{bucket}/{config_id}".lstrip("/")
    files, buf, n = [], None, 0

    def flush():
        nonlocal buf
        if buf is None:
            return
        data = gzip.compress(buf.getvalue().encode())
        key = f"{base}/data/{uuid.uuid4()}.csv.gz"
        s3_inventory.put_object(Bucket=inventory_bucket, Key=key, Body=data)
        files.append({"key": key, "size": len(data), "MD5checksum": hashlib.md5(data).hexdigest()})
        buf = None

    writer = None
    for key, size, etag, modified, storage_class, status in rows:
        if buf is None:
            buf = io.StringIO()
            writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([bucket, urllib.parse.quote_plus(key, safe="/"), size,
                         modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), etag, storage_class or "",
                         status or ""])
        n += 1
        if n % rows_per_file == 0:
            flush()
    flush()
    manifest = {"sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{inventory_bucket}", "version":
                "2016-11-30", "creationTimestamp": str(int(when.timestamp() * 1000)), "fileFormat": "CSV",
                "fileSchema": SCHEMA, "files": files}
    key = f"{base}/{when.astimezone(UTC):%Y-%m-%dT%H-%MZ}/manifest.json"
    s3_inventory.put_object(Bucket=inventory_bucket, Key=key, Body=json.dumps(manifest).encode())
    return key
