"""Quarterly 'Archive Old Data': completed jobs older than 90 days go to S3, then are deleted in batches of 1000.

    python -m actions archive-jobs --env prod             # the plan: how many rows, where they go
    python -m actions archive-jobs --env prod --apply

The runbook's own DELETE deletes whatever matches at that moment, archived or not. This one can be killed at any
point and run again without losing a row or archiving one twice:

1. freeze   In one REPEATABLE READ snapshot, read every due row (database.archive: status = 'completed' and
            created_at < now() - 90 days, the check's own selection) as JSON, ordered by id: the frozen set.
2. export   Upload them gzipped as <prefix>run=<id>/<table>.jsonl.gz (with S3's SHA-256 checksum), then
            manifest.json: rows, id range, SHA-256 of the object and of the id list, the cutoff. A run exists once
            its manifest does; an object without a manifest is a run killed mid-export, and is deleted.
3. verify   Download the object: its SHA-256, its row count and its ids must equal the manifest's.
4. delete   Exactly those ids, in batches (database.archive.batch_size), each batch its own transaction, each row
            only while it still matches the selection as of the cutoff.
5. finish   No frozen id may be left in the table; then deleted.json marks the run done, and VACUUM (ANALYZE,
            VERBOSE) cleans up behind the deletes.

A run with a manifest and no deleted.json is unfinished: the next invocation resumes it (verify, delete, finish)
before it freezes anything new. A PostgreSQL advisory lock keeps two invocations from running at once.
"""

import base64
import datetime as dt
import gzip
import hashlib
import json
import tempfile
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from psycopg import sql

from opsproof.connect import aws_call
from opsproof.errors import ConfigError, OpsproofError
from opsproof.postgres import archive as due_rows

from . import action, param
from ._postgres import flush_stats, messages, set_timeouts, summary

FORMAT = "opsproof-archive/1"


# ---- the archive in S3 ---------------------------------------------------------------------------------------------
@dataclass
class Run:
    id: str
    keys: set[str] = field(default_factory=set)


class Archive:
    """The runs under s3://bucket/prefix, one folder each: run=<id>/{<table>.jsonl.gz, manifest.json, deleted.json}."""

    def __init__(self, s3, bucket: str, prefix: str, table: str):
        self.s3, self.bucket, self.prefix, self.table = s3, bucket, prefix, table

    def key(self, run: str, name: str) -> str:
        return f"{self.prefix}run={run}/{name}"

    def data_key(self, run: str) -> str:
        return self.key(run, f"{self.table.split('.')[-1]}.jsonl.gz")

    def runs(self) -> list[Run]:
        found: dict[str, Run] = {}
        token = None
        while True:
            kw = {"Bucket": self.bucket, "Prefix": f"{self.prefix}run=",
                  **({"ContinuationToken": token} if token else {})}
            page = aws_call(f"s3 list-objects-v2 s3://{self.bucket}/{self.prefix}", self.s3.list_objects_v2, **kw)
            for obj in page.get("Contents", []):
                run = obj["Key"][len(self.prefix) + 4:].split("/", 1)[0]
                found.setdefault(run, Run(run)).keys.add(obj["Key"])
            if not page.get("IsTruncated"):
                return sorted(found.values(), key=lambda r: r.id)

    def has(self, run: Run, name: str) -> bool:
        return self.key(run.id, name) in run.keys

    def put_json(self, run: str, name: str, data: dict) -> None:
        body = json.dumps(data, indent=1, default=str).encode()
        aws_call(f"s3 put-object {name}", self.s3.put_object, Bucket=self.bucket, Key=self.key(run, name), Body=body,
                 ContentType="application/json")

    def get_json(self, run: str, name: str) -> dict:
        obj = aws_call(f"s3 get-object {name}", self.s3.get_object, Bucket=self.bucket, Key=self.key(run, name))
        return json.loads(obj["Body"].read())


# ---- the action ----------------------------------------------------------------------------------------------------
@action("archive-jobs", help="archive completed jobs past retention to S3 (verified), then delete them in batches",
        params=[param("--batch-size", type=int, default=None, help="default: database.archive.batch_size")])
def archive_jobs(ctx, batch_size=None):
    cfg = ctx.env.database
    a = cfg.archive
    if not a.bucket:
        raise ConfigError(f"{ctx.env.file}: database.archive.bucket: required by archive-jobs")
    batch = batch_size or a.batch_size
    db = ctx.db
    archive = Archive(ctx.aws("s3"), a.bucket, a.prefix, a.table)
    where = f"s3://{a.bucket}/{a.prefix}"
    if ctx.apply:
        set_timeouts(db, cfg.maintenance_timeout_s, ctx.env.timeouts.lock_ms)
        _lock(db, a.table)
    try:
        runs = archive.runs()
    except ClientError as e:
        raise OpsproofError(f"archive location {where}: {e.response['Error'].get('Message') or e}") from None
    summary = {"resumed": [], "new": None, "deleted": 0}

    for run in runs:
        if not archive.has(run, "manifest.json"):  # killed between the upload and its manifest: not an archive
            ctx.step(f"delete {len(run.keys)} object(s) of run {run.id}, which has no manifest (killed mid-export)",
                     lambda r=run: _delete_objects(archive, r.keys))
        elif not archive.has(run, "deleted.json"):
            manifest = archive.get_json(run.id, "manifest.json")
            ctx.evidence.json(f"resumed run {run.id}: manifest", manifest)
            summary["resumed"].append(run.id)
            summary["deleted"] += _finish(ctx, db, archive, run.id, manifest, batch, resumed=True)

    due = due_rows.overdue(db, a)
    ctx.evidence.value("cutoff", due.cutoff)
    ctx.evidence.value("rows due", due.rows)
    if due.rows == 0:
        ctx.skip(f"archive {a.table}", "no row is past retention")
    else:
        run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        manifest = ctx.step(f"freeze and export {due.rows} row(s) of {a.table} ({a.status_column} = '{a.status}', "
                            f"{a.time_column} < {due.cutoff:%Y-%m-%d %H:%M}) to {where}run={run_id}/",
                            lambda: _export(db, archive, a, run_id))
        summary["new"] = run_id
        if ctx.apply:
            ctx.evidence.json(f"run {run_id}: manifest", manifest)
            summary["deleted"] += _finish(ctx, db, archive, run_id, manifest, batch, resumed=False)
        else:
            _finish_plan(ctx, due.rows, batch, a.table)
    return summary


def _lock(db, table: str) -> None:
    """One archive-jobs at a time (a session lock: a killed run's lock ends with its connection)."""
    got = db.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"opsproof archive-jobs {table}",)).fetchone()[0]
    if not got:
        raise OpsproofError(f"another archive-jobs run holds the lock for {table}; wait for it to finish")


def _delete_objects(archive: Archive, keys: set[str]) -> None:
    for key in sorted(keys):
        aws_call(f"s3 delete-object {key}", archive.s3.delete_object, Bucket=archive.bucket, Key=key)


# ---- 1-2: freeze and export ------------------------------------------------------------------------------------------
def _export(db, archive: Archive, a, run_id: str) -> dict:
    """Read the due rows in one snapshot, upload them, then the manifest. Returns the manifest."""
    table = due_rows.ident(a.table)
    ids_hash, data_hash, ids = hashlib.sha256(), hashlib.sha256(), []
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as f:
        with db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cutoff = due_rows.cutoff(db, a)  # now() of this snapshot
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz, db.cursor(name="archive_export") as cur:
                cur.itersize = 5000
                cur.execute(sql.SQL("SELECT t.id, row_to_json(t)::text FROM {table} t WHERE {due} ORDER BY t.id")
                            .format(table=table, due=due_rows.due_filter(a)), {"cutoff": cutoff})
                for row_id, doc in cur:
                    gz.write(doc.encode() + b"\n")
                    ids.append(row_id)
                    ids_hash.update(f"{row_id}\n".encode())
        size = f.tell()
        f.seek(0)
        for chunk in iter(lambda: f.read(1 << 20), b""):
            data_hash.update(chunk)
        f.seek(0)
        key = archive.data_key(run_id)
        _put_object(archive, key, f, data_hash.digest())
    manifest = {
        "format": FORMAT, "run": run_id, "table": a.table,
        "selection": {"status_column": a.status_column, "status": a.status, "time_column": a.time_column,
                      "retention_days": a.retention_days, "cutoff": cutoff.isoformat()},
        "rows": len(ids), "min_id": ids[0] if ids else None, "max_id": ids[-1] if ids else None,
        "ids_sha256": ids_hash.hexdigest(),
        "object": {"key": key, "bytes": size, "sha256": data_hash.hexdigest(), "encoding": "gzip, one JSON row a line"},
    }
    _put_manifest(archive, run_id, manifest)
    return manifest


def _put_object(archive: Archive, key: str, f, sha256: bytes) -> None:
    aws_call(f"s3 put-object {key}", archive.s3.put_object, Bucket=archive.bucket, Key=key, Body=f,
             ContentType="application/gzip", ChecksumSHA256=base64.b64encode(sha256).decode(),
             Metadata={"opsproof-sha256": sha256.hex()})


def _put_manifest(archive: Archive, run_id: str, manifest: dict) -> None:
    archive.put_json(run_id, "manifest.json", manifest)


# ---- 3-5: verify, delete, finish ----------------------------------------------------------------------------------
def _finish(ctx, db, archive: Archive, run_id: str, manifest: dict, batch: int, resumed: bool) -> int:
    """Verify the uploaded object, delete exactly its ids in batches, check none is left, mark done, vacuum."""
    a = ctx.env.database.archive
    how = "resumed: " if resumed else ""
    if not ctx.apply:
        _finish_plan(ctx, manifest["rows"], batch, a.table, how)
        return 0
    ids = ctx.step(f"{how}verify s3://{archive.bucket}/{manifest['object']['key']}: {manifest['rows']} rows, "
                   f"SHA-256 {manifest['object']['sha256'][:12]}…", lambda: _verify(archive, manifest))
    cutoff = manifest["selection"]["cutoff"]
    batches = [ids[i:i + batch] for i in range(0, len(ids), batch)]
    deleted = ctx.step(f"{how}delete those {len(ids)} row(s) from {a.table} in {len(batches)} batch(es) of "
                       f"{batch}, each its own transaction", lambda: sum(_delete_batch(db, a, b, cutoff)
                                                                        for b in batches))
    ctx.step(f"check no archived id is left in {a.table}", lambda: _none_left(db, a, ids))
    ctx.step(f"mark run {run_id} done (deleted.json)", lambda: _mark_deleted(archive, run_id, deleted))
    out = ctx.step(f"VACUUM (ANALYZE, VERBOSE) {a.table}", lambda: _vacuum(db, a.table))
    ctx.report.steps[-1].output = summary(out)
    ctx.evidence.text(f"VACUUM (ANALYZE, VERBOSE) {a.table}", out[-4000:])
    ctx.evidence.value(f"run {run_id}: rows deleted by this invocation", deleted)
    return deleted


def _finish_plan(ctx, rows: int, batch: int, table: str, how: str = "") -> None:
    ctx.step(f"{how}verify the uploaded object (SHA-256, row count, ids) against the manifest")
    ctx.step(f"{how}delete those {rows} row(s) from {table} in {-(-rows // batch)} batch(es) of {batch}, each its "
             "own transaction")
    ctx.step(f"check no archived id is left in {table}; mark the run done (deleted.json)")
    ctx.step(f"VACUUM (ANALYZE, VERBOSE) {table}")


def _verify(archive: Archive, manifest: dict) -> list[int]:
    """The object as uploaded: its SHA-256, its rows and its ids match the manifest. Returns the ids."""
    key = manifest["object"]["key"]
    body = aws_call(f"s3 get-object {key}", archive.s3.get_object, Bucket=archive.bucket, Key=key)["Body"].read()
    if hashlib.sha256(body).hexdigest() != manifest["object"]["sha256"]:
        raise OpsproofError(f"s3://{archive.bucket}/{key}: SHA-256 differs from its manifest: not deleting")
    ids, ids_hash = [], hashlib.sha256()
    for line in gzip.decompress(body).splitlines():
        row_id = json.loads(line)["id"]
        ids.append(row_id)
        ids_hash.update(f"{row_id}\n".encode())
    if len(ids) != manifest["rows"] or ids_hash.hexdigest() != manifest["ids_sha256"] or len(set(ids)) != len(ids):
        raise OpsproofError(f"s3://{archive.bucket}/{key}: {len(ids)} rows / id list differ from the manifest's "
                            f"{manifest['rows']}: not deleting")
    return ids


def _delete_batch(db, a, ids: list[int], cutoff: str) -> int:
    """One batch, one transaction: a kill inside it rolls the whole batch back."""
    with db.transaction():
        return _delete_rows(db, a, ids, cutoff)


def _delete_rows(db, a, ids: list[int], cutoff: str) -> int:
    # Only rows that still match the selection as of the run's cutoff: a row changed since it was archived stays.
    q = sql.SQL("DELETE FROM {table} WHERE id = ANY(%(ids)s) AND {due}").format(
        table=due_rows.ident(a.table), due=due_rows.due_filter(a))
    return db.execute(q, {"ids": ids, "cutoff": cutoff}).rowcount


def _none_left(db, a, ids: list[int]) -> None:
    left = [r[0] for r in db.execute(sql.SQL("SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id LIMIT 11").format(
        table=due_rows.ident(a.table)), (ids,)).fetchall()]
    if left:
        raise OpsproofError(f"archived row(s) still in {a.table} (changed since they were archived?): ids "
                            f"{', '.join(map(str, left[:10]))}{' …' if len(left) > 10 else ''}; the run stays "
                            "unfinished: resolve them, then run archive-jobs again")


def _mark_deleted(archive: Archive, run_id: str, deleted: int) -> None:
    archive.put_json(run_id, "deleted.json", {"run": run_id, "deleted_by_last_invocation": deleted})


def _vacuum(db, table: str) -> str:
    flush_stats(db)
    with messages(db) as m:
        db.execute(sql.SQL("VACUUM (ANALYZE, VERBOSE) {}").format(due_rows.ident(table)))
    return m.text()

