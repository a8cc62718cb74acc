"""The runbook's monthly restore test ("Backup Validation: Test Database Restore"), done right.

    python -m actions restore-drill                 # the plan: which snapshot, which drill instance, leftovers
    python -m actions restore-drill --apply         # restore, wait, validate, ALWAYS delete, record the result
    python -m actions logical-restore-drill --apply # the same for a pg_dump restored into a scratch database

restore-drill restores the latest available automated snapshot to ``test-restore-YYYYMM`` (tagged as a drill), waits
until it is available (the RDS waiter, bounded by [backups.drill] wait_timeout_min; connecting retried with
tenacity), runs the validation queries against the source as of the snapshot's time (row counts within
count_tolerance_pct, freshest row within rpo_min), looks for foreign key orphans, runs amcheck where it can,
records the restore duration against rto_min, and deletes the drill instance whatever happened: on success, on
failure, on Ctrl-C or SIGTERM. Drill instances an earlier crash left behind are found by tag (and by name prefix)
and deleted first. The result goes to [backups.drill] record (the monthly check reads it) and into the report.
"""

import contextlib
import datetime as dt
import math
import os
import signal
import subprocess
import threading
import time

from opsproof import connect, secrets
from opsproof.errors import ActionFailed, TargetUnreachable
from opsproof.probes import backups as probe
from opsproof.probes import rds as rds_probe

from . import Step, StepFailed, action, param

UTC = dt.timezone.utc


class DrillFailed(ActionFailed):
    """The drill could not be done or did not complete (the CLI prints it as one line)."""


# ---- restore-drill ---------------------------------------------------------------------------------------------------
@action("restore-drill", help="Monthly restore test: restore the latest snapshot to test-restore-YYYYMM, validate it "
                              "against the source, always delete it, record the result",
        params=[param("--instance", default=None, help="source instance (default: [rds] instance_id)"),
                param("--snapshot", default=None, help="snapshot to restore (default: the latest available "
                                                       "automated one)"),
                param("--drill-instance", default=None,
                      help="drill instance name (default: <instance_prefix>YYYYMM)")])
def restore_drill(ctx, instance=None, snapshot=None, drill_instance=None):
    env, d = ctx.env, ctx.env.backups.drill
    rds = ctx.aws("rds", "backups")
    source = instance or env.backups.instance_ids(env.rds.instance_id)[0]
    started = probe.now()
    target = drill_instance or f"{d.instance_prefix}{started:%Y%m}"

    leftovers = ctx.step(f"find drill instances left behind (tag {d.tag_key}={d.tag_value} or name "
                         f"{d.instance_prefix}*)",
                         lambda: probe.drill_instances(rds, d.instance_prefix, d.tag_key, d.tag_value), always=True)
    ctx.evidence.table("drill instances found before the drill", [vars(x) for x in leftovers])
    for left in leftovers:
        ctx.step(f"delete leftover drill instance {left.id} ({left.status}, "
                 f"{'tagged' if left.tags.get(d.tag_key) == d.tag_value else 'by name'}; skip final snapshot)",
                 lambda i=left.id: _delete(rds, i, d))

    snap = ctx.step(f"find the snapshot to restore ({snapshot or f'latest available automated of {source}'})",
                    lambda: _pick_snapshot(rds, source, snapshot), always=True)
    ctx.evidence.value("snapshot", f"{snap.id} ({snap.type}, taken {snap.created:%Y-%m-%d %H:%M} UTC, "
                                   f"{snap.age_h} h old)")
    restore_desc = (f"restore {snap.id} to {target} (tag {d.tag_key}={d.tag_value}, deletion protection off"
                    + (f", class {d.instance_class}" if d.instance_class else "") + ")")
    if not ctx.apply:
        for text in (restore_desc, f"wait until {target} is available (at most {d.wait_timeout_min:g} min)",
                     f"validate {target} against {source} as of {snap.created:%Y-%m-%d %H:%M} UTC: "
                     + ", ".join(v.name for v in d.validations)
                     + (", foreign keys" if d.check_foreign_keys else "") + (", amcheck" if d.amcheck else ""),
                     f"ALWAYS delete {target} (skip final snapshot)",
                     f"record the result in {probe.record_path(env, 'rds')}"):
            ctx.step(text)
        return None

    record = {"method": "rds", "source": source, "snapshot": snap.id, "snapshot_type": snap.type,
              "snapshot_time": snap.created.isoformat(), "drill_instance": target,
              "started_at": started.isoformat(timespec="seconds"), "rto_s": d.rto_min * 60,
              "rpo_min": d.rpo_min, "leftovers_removed": [x.id for x in leftovers]}
    requested = False
    error: BaseException | None = None
    with _interrupts_raise():
        try:
            t0 = time.monotonic()
            requested = True
            ctx.step(restore_desc, lambda: connect.aws_call(
                f"rds restore-db-instance-from-db-snapshot {target}", rds.restore_db_instance_from_db_snapshot,
                **_restore_kwargs(target, snap.id, source, d)))
            seen = record["statuses"] = []
            ctx.step(f"wait until {target} is available (at most {d.wait_timeout_min:g} min, every {d.poll_s:g} s)",
                     lambda: _wait_available(rds, target, d.poll_s, d.wait_timeout_min, seen))
            found = ctx.step(f"look up {target}'s endpoint", lambda: _endpoint(rds, target, env))
            host, port, dbname = found
            restored = ctx.step(f"connect to {host}:{port}/{dbname} as {env.database.user} (read-only, retried)",
                                lambda: _connect_retrying(env, host, port, dbname, d))
            record["restore_duration_s"] = round(time.monotonic() - t0, 1)
            record["endpoint"] = f"{host}:{port}/{dbname}"
            with restored, connect.database(_env_at(env, statement_s=d.validation_timeout_s)) as src:
                _validate(ctx, record, src, restored, snap.created, d)
        except BaseException as e:  # noqa: BLE001 - KeyboardInterrupt too: the drill instance must go
            error = e
        finally:
            _ignore_interrupts()
            try:
                if requested:
                    _cleanup(ctx, rds, target, d, record)
            finally:
                _restore_interrupts()
    return _finish(ctx, env, "rds", record, error, started)


def _restore_kwargs(target: str, snap_id: str, source: str, d) -> dict:
    kwargs = {"DBInstanceIdentifier": target, "DBSnapshotIdentifier": snap_id, "PubliclyAccessible": False,
              "MultiAZ": False, "DeletionProtection": False, "AutoMinorVersionUpgrade": False,
              "CopyTagsToSnapshot": False,
              "Tags": [{"Key": d.tag_key, "Value": d.tag_value}, {"Key": "opsproof:source", "Value": source},
                       {"Key": "opsproof:snapshot", "Value": snap_id}]}
    if d.instance_class:
        kwargs["DBInstanceClass"] = d.instance_class
    if d.subnet_group:
        kwargs["DBSubnetGroupName"] = d.subnet_group
    if d.security_groups:
        kwargs["VpcSecurityGroupIds"] = list(d.security_groups)
    return kwargs


def _pick_snapshot(rds, source: str, snapshot: str | None) -> rds_probe.Snapshot:
    if snapshot:
        found = [s for s in rds_probe.snapshots(rds, source) if s.id == snapshot]
        if not found:
            raise DrillFailed(f"no snapshot {snapshot} of {source}")
        if found[0].status != "available":
            raise DrillFailed(f"snapshot {snapshot} is {found[0].status!r}, not available")
        return found[0]
    snap = rds_probe.newest_available(rds_probe.snapshots(rds, source, "automated"))
    if snap is None:
        raise DrillFailed(f"{source} has no available automated snapshot to restore")
    return snap


def _wait(rds, waiter: str, instance: str, poll_s: float, timeout_min: float) -> str:
    from botocore.exceptions import WaiterError

    attempts = max(1, math.ceil(timeout_min * 60 / poll_s))
    try:
        connect.aws_call(f"rds wait {waiter} {instance}", rds.get_waiter(waiter).wait,
                         DBInstanceIdentifier=instance, WaiterConfig={"Delay": poll_s, "MaxAttempts": attempts})
    except WaiterError as e:
        last = (e.last_response or {}).get("DBInstances") or [{}]
        status = last[0].get("DBInstanceStatus", "?")
        raise DrillFailed(f"{instance} did not become {waiter.removeprefix('db_instance_')} within "
                          f"{timeout_min:g} min (status {status!r}: {e.reason})") from None
    return f"{instance}: {waiter.removeprefix('db_instance_')}"


FAILED_RESTORE = ("deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters",
                  "incompatible-network", "storage-full", "inaccessible-encryption-credentials")
"""States a restore does not come back from (botocore's DBInstanceAvailable waiter fails on the first five)."""


def _wait_available(rds, instance: str, poll_s: float, timeout_min: float, seen: list[str]) -> str:
    """Poll until available, bounded; a restore passes through creating, modifying, backing-up (and maybe
    configuring-enhanced-monitoring...) first: every state seen is kept in ``seen``, in order."""
    from opsproof.eventually import eventually

    def status() -> str:
        i = rds_probe.instance(rds, instance)
        st = i.status if i else "deleted"  # gone: a restore does not come back from that
        if not seen or seen[-1] != st:
            seen.append(st)
        return st

    out = eventually(status, ok=lambda st: st == "available" or st in FAILED_RESTORE, timeout_s=timeout_min * 60,
                     every_s=poll_s)
    if out.value in FAILED_RESTORE:
        raise DrillFailed(f"{instance} went {out.value!r} instead of available (states: {' → '.join(seen)})")
    if out.value != "available":
        raise DrillFailed(f"{instance} did not become available within {timeout_min:g} min "
                          f"(backups.drill.wait_timeout_min): still {out.value!r} after {' → '.join(seen)}")
    return f"{instance}: available after {' → '.join(seen)} ({out.waited_s:.0f} s)"


def _endpoint(rds, instance: str, env) -> tuple[str, int, str]:
    i = rds_probe.instance(rds, instance)
    if i is None or not i.address:
        raise DrillFailed(f"{instance} has no endpoint (status {i.status if i else 'not found'!r})")
    return i.address, i.port or env.database.port, i.db_name or env.database.dbname


def _env_at(env, host: str | None = None, port: int | None = None, dbname: str | None = None,
            statement_s: int | None = None):
    """The environment with its database section pointed elsewhere (the restored copy) and longer statements."""
    db = env.database.model_copy(update={k: v for k, v in (("host", host), ("port", port), ("dbname", dbname))
                                         if v is not None})
    upd = {"database": db}
    if statement_s:
        upd["timeouts"] = env.timeouts.model_copy(update={"statement_ms": statement_s * 1000})
    return env.model_copy(update=upd)


def _connect_retrying(env, host, port, dbname, d):
    """A read-only session on the restored copy; retried (DNS and security groups may lag the 'available')."""
    import tenacity

    retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(TargetUnreachable),
                                 stop=tenacity.stop_after_delay(min(300.0, d.wait_timeout_min * 60)),
                                 wait=tenacity.wait_exponential(multiplier=0.5, max=min(d.poll_s, 15)),
                                 reraise=True)
    return retrying(connect.database, _env_at(env, host, port, dbname, d.validation_timeout_s), "check")


def _validate(ctx, record: dict, src, restored, as_of: dt.datetime, d) -> None:
    """The validation queries, foreign keys and amcheck; results into the record and the report's evidence."""
    checks = []
    for v in d.validations:
        def run(v=v):
            if v.measure == "count":
                return probe.compare_counts(v.name, probe.count_rows(src, v.table, d.time_column, as_of),
                                            probe.count_rows(restored, v.table), d.count_tolerance_pct)
            col = d.column_of(v)
            return probe.compare_freshness(v.name, probe.max_value(src, v.table, col, as_of),
                                           probe.max_value(restored, v.table, col), d.rpo_min)
        checks.append(ctx.step(f"validate {v.name} (source as of {as_of:%Y-%m-%d %H:%M:%S} UTC)", run))
    record["validations"] = [probe.as_row(c) for c in checks]
    ctx.evidence.table("validation queries: restored copy against the source as of the snapshot", record["validations"])
    if d.check_foreign_keys:
        n, orphans = ctx.step("foreign keys: no orphans in the restored copy",
                              lambda: probe.foreign_key_orphans(restored))
        record["foreign_keys_checked"] = n
        record["orphans"] = [vars(o) for o in orphans]
        ctx.evidence.table(f"foreign keys with orphans ({n} checked)", record["orphans"])
    if d.amcheck:
        am = ctx.step(f"amcheck bt_index_check on up to {d.amcheck_max_indexes} indexes",
                      lambda: probe.amcheck(restored, d.amcheck_max_indexes))
        record["amcheck"] = vars(am)
        ctx.evidence.json("amcheck", record["amcheck"])


def _failures(record: dict) -> list[str]:
    out = []
    for c in record.get("validations", []):
        if c["status"] != "ok":
            out.append(f"{c['subject']}: {c['reason']}")
    for o in record.get("orphans", []):
        out.append(f"{o['rows']} orphan row(s) in {o['child']}({o['columns']}) → {o['parent']} ({o['constraint']})")
    am = record.get("amcheck") or {}
    for f in am.get("failures", []):
        out.append(f"amcheck: {f}")
    took, budget = record.get("restore_duration_s"), record.get("rto_s")
    if took is not None and budget is not None and took > budget:
        out.append(f"restore took {took:.0f} s, over the RTO of {budget:.0f} s (backups.drill.rto_min)")
    cleanup = record.get("cleanup") or {}
    if cleanup and not cleanup.get("deleted"):
        out.append(f"drill instance {record.get('drill_instance')} was NOT deleted: {cleanup.get('error')}")
    return out


def _finish(ctx, env, method: str, record: dict, error: BaseException | None, started: dt.datetime) -> dict:
    record["finished_at"] = probe.now().isoformat(timespec="seconds")
    record["duration_s"] = round((probe.now() - started).total_seconds(), 1)
    failures = _failures(record)
    if error is not None:
        what = "interrupted" if isinstance(error, KeyboardInterrupt) else secrets.redact(
            str(error.args[0]) if isinstance(error, StepFailed) and error.args else f"{type(error).__name__}: {error}")
        failures.insert(0, f"drill did not complete: {what}")
    record["failures"] = failures
    record["passed"] = not failures
    path = probe.record_path(env, method)
    probe.write_record(path, record)
    ctx.evidence.value("restore duration", record.get("restore_duration_s"), "s")
    ctx.evidence.value("RTO budget", record.get("rto_s"), "s")
    ctx.evidence.value("drill result", "passed" if record["passed"] else "FAILED: " + "; ".join(failures))
    ctx.evidence.value("recorded in", str(path))
    if error is not None and not isinstance(error, Exception):
        raise error  # KeyboardInterrupt / SystemExit: after the cleanup and the record
    if error is not None:
        raise StepFailed(failures[0]) from error
    if failures:
        ctx.report.steps.append(Step("verdict: the restored copy does not match its source", "failed",
                                     secrets.redact("; ".join(failures))))
    else:
        ctx.report.steps.append(Step("verdict: restore validated", "done"))
    return record


def _delete(rds, instance: str, d) -> str:
    try:
        connect.aws_call(f"rds delete-db-instance {instance}", rds.delete_db_instance, DBInstanceIdentifier=instance,
                         SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
    except rds.exceptions.DBInstanceNotFoundFault:
        return f"{instance}: already gone"
    except rds.exceptions.InvalidDBInstanceStateFault as e:
        if "already being deleted" not in str(e):
            raise
    _wait(rds, "db_instance_deleted", instance, d.poll_s, d.wait_timeout_min)
    return f"{instance}: deleted"


def _cleanup(ctx, rds, target: str, d, record: dict) -> None:
    try:
        ctx.step(f"delete the drill instance {target} (skip final snapshot) and wait until it is gone",
                 lambda: _delete(rds, target, d))
        record["cleanup"] = {"deleted": True}
    except BaseException as e:  # noqa: BLE001 - recorded; the drill fails and says so
        record["cleanup"] = {"deleted": False, "error": secrets.redact(f"{type(e).__name__}: {e}")}


# ---- interrupts: Ctrl-C and SIGTERM end the drill through its cleanup ------------------------------------------------
_saved: dict = {}


@contextlib.contextmanager
def _interrupts_raise():
    """While the drill runs, SIGTERM raises KeyboardInterrupt like Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _ignore_interrupts() -> None:
    """During the cleanup a second Ctrl-C must not leave the instance behind."""
    if threading.current_thread() is threading.main_thread():
        _saved["int"] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        _saved["term"] = signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _restore_interrupts() -> None:
    if threading.current_thread() is threading.main_thread() and _saved:
        signal.signal(signal.SIGINT, _saved.pop("int"))
        signal.signal(signal.SIGTERM, _saved.pop("term"))


# ---- logical-restore-drill -------------------------------------------------------------------------------------------
@action("logical-restore-drill", help="Restore the newest pg_dump (custom format) with pg_restore --jobs into a "
                                      "scratch database, validate it against the source, always drop it",
        params=[param("--dump", default=None, help="dump file or glob (default: [backups.logical] dump)")])
def logical_restore_drill(ctx, dump=None):
    env = ctx.env
    lg, d = env.backups.logical, env.backups.drill
    pattern = dump or (str(env.path(lg.dump)) if lg.dump else None)
    if not pattern:
        raise DrillFailed(f"{env.file}: backups.logical.dump is not set")
    if lg.scratch is None:
        raise DrillFailed(f"{env.file}: backups.logical.scratch is not set (the server the "
                          "drill restores into; never production)")
    sc = lg.scratch
    started = probe.now()
    path = ctx.step(f"find the newest dump matching {pattern}", lambda: probe.newest_dump(pattern), always=True)
    if path is None:
        raise DrillFailed(f"no dump matches {pattern}")
    toc = ctx.step(f"read {path.name}'s table of contents (pg_restore --list)",
                   lambda: probe.dump_toc(path), always=True)
    ctx.evidence.value("dump", f"{path} ({toc.size_bytes} bytes, created {toc.created_at}, {len(toc.data_tables)} "
                               "tables with data)")
    scratch_db = f"{sc.database_prefix}{started:%Y%m%d%H%M%S}"
    password = secrets.resolve(f"scratch user {sc.user}", sc.password_env,
                               env.path(sc.password_file) if sc.password_file else None)
    if not ctx.apply:
        for text in (f"drop scratch databases {sc.database_prefix}* left behind on {sc.host}:{sc.port}",
                     f"CREATE DATABASE {scratch_db} on {sc.host}:{sc.port} as {sc.user}",
                     f"pg_restore --jobs {lg.jobs} --no-owner --no-privileges {path.name} into {scratch_db}",
                     f"validate {scratch_db} against {env.database.dbname} as of {toc.created_at}: "
                     + ", ".join(v.name for v in d.validations),
                     f"ALWAYS drop {scratch_db}", f"record the result in {probe.record_path(env, 'logical')}"):
            ctx.step(text)
        return None
    record = {"method": "logical", "source": f"{env.database.host}:{env.database.port}/{env.database.dbname}",
              "dump": str(path), "dump_bytes": toc.size_bytes,
              "snapshot": path.name, "snapshot_time": toc.created_at.isoformat() if toc.created_at else None,
              "drill_instance": f"{sc.host}:{sc.port}/{scratch_db}",
              "started_at": started.isoformat(timespec="seconds"),
              "rto_s": d.rto_min * 60, "rpo_min": d.rpo_min}
    created = False
    error = None
    with _interrupts_raise():
        try:
            ctx.step(f"drop scratch databases {sc.database_prefix}* left behind",
                     lambda: _drop_leftover_scratch(sc, password, env))
            t0 = time.monotonic()
            created = True
            ctx.step(f"CREATE DATABASE {scratch_db}", lambda: _scratch_sql(
                sc, password, env, f'CREATE DATABASE "{scratch_db}" TEMPLATE template0'))
            ctx.step(f"pg_restore --jobs {lg.jobs} {path.name} into {scratch_db}",
                     lambda: _pg_restore(sc, password, scratch_db, path, lg.jobs, lg.restore_timeout_s))
            restored = _connect_scratch(sc, password, scratch_db, env, d)
            record["restore_duration_s"] = round(time.monotonic() - t0, 1)
            as_of = toc.created_at or dt.datetime.fromtimestamp(path.stat().st_mtime, UTC)
            with restored, connect.database(_env_at(env, statement_s=d.validation_timeout_s)) as src:
                _validate(ctx, record, src, restored, as_of, d)
        except BaseException as e:  # noqa: BLE001
            error = e
        finally:
            _ignore_interrupts()
            try:
                if created:
                    try:
                        ctx.step(f"drop the scratch database {scratch_db}", lambda: _scratch_sql(
                            sc, password, env, f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)'))
                        record["cleanup"] = {"deleted": True}
                    except BaseException as e:  # noqa: BLE001
                        record["cleanup"] = {"deleted": False, "error": secrets.redact(str(e))}
            finally:
                _restore_interrupts()
    return _finish(ctx, env, "logical", record, error, started)


def _scratch_conn(sc, password, env, dbname):
    import psycopg

    t = env.timeouts
    try:
        return psycopg.connect(host=sc.host, port=sc.port, dbname=dbname, user=sc.user, password=password,
                               sslmode=sc.sslmode, connect_timeout=max(1, round(t.connect_s)), autocommit=True,
                               application_name="opsproof-logical-drill",
                               options=f"-c statement_timeout={env.backups.drill.validation_timeout_s * 1000}")
    except psycopg.OperationalError as e:
        reason = secrets.redact(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)
        raise TargetUnreachable(f"scratch database {sc.host}:{sc.port}/{dbname} as {sc.user}: could not connect "
                                f"within {t.connect_s:g}s ({reason})") from None


def _scratch_sql(sc, password, env, sql: str) -> str:
    with _scratch_conn(sc, password, env, sc.maintenance_db) as c:
        c.execute(sql)
    return sql


def _drop_leftover_scratch(sc, password, env) -> str:
    with _scratch_conn(sc, password, env, sc.maintenance_db) as c:
        names = [r[0] for r in c.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                         (sc.database_prefix.replace("_", r"\_") + "%",))]
        for n in names:
            c.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
    return f"dropped: {', '.join(names) or 'none'}"


_SKIP_TOC = (" EXTENSION ", " SCHEMA - public ", "COMMENT - SCHEMA public", "COMMENT - EXTENSION ")


def _pg_restore(sc, password, dbname: str, path, jobs: int, timeout_s: int) -> str:
    """pg_restore into the scratch database as the scratch role: owners and grants left out, and extensions (a
    non-superuser cannot create most of them) left out of the table of contents."""
    import tempfile

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = password
    base = ["-h", sc.host, "-p", str(sc.port), "-U", sc.user, "--no-password"]
    listing = subprocess.run([probe.pg_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True,
                             timeout=300, env=env)
    if listing.returncode != 0:
        raise DrillFailed(f"{path}: {listing.stderr.strip().splitlines()[-1]}")
    keep = [line for line in listing.stdout.splitlines() if not any(s in line for s in _SKIP_TOC)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("\n".join(keep) + "\n")
    try:
        r = subprocess.run([probe.pg_tool("pg_restore"), *base, "--dbname", dbname, "--jobs", str(jobs),
                            "--no-owner", "--no-privileges", "--exit-on-error", "--use-list", f.name, str(path)],
                           capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise DrillFailed(f"pg_restore of {path} did not finish within {timeout_s} s") from None
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        errors = [line for line in r.stderr.splitlines() if "error" in line.lower()] or r.stderr.splitlines()
        raise DrillFailed(f"pg_restore of {path} failed: {secrets.redact(errors[0].strip() if errors else '?')}")
    return f"restored {len(keep)} entries"


def _connect_scratch(sc, password, dbname, env, d):
    conn = _scratch_conn(sc, password, env, dbname)
    conn.execute("SET default_transaction_read_only = on")
    return conn

