"""Snapshots that hold data, and restores that yield a real database: the restore drill runs end to end.

What moto 5.2.5 does: CreateDBSnapshot and RestoreDBInstanceFromDBSnapshot only make records. The restored instance
is ``available`` at once, its endpoint is a name that resolves nowhere, and it copies the source's
DeletionProtection even when the request turns it off (moto skips false-valued overrides).

What this overlay adds, behind the same API:

* CreateDBSnapshot of an instance whose data lives on the sandbox's PostgreSQL (see ``rds/restore-config``): the
  snapshot's data is a ``pg_dump`` (custom format) taken then, under ``<state>/rds-snapshots/``.
* RestoreDBInstanceFromDBSnapshot of a snapshot with data: the new instance reports ``creating`` while
  ``pg_restore`` loads the dump into a new database ``rds_<instance>`` on the sandbox's PostgreSQL, then
  ``available`` with Endpoint = that server (127.0.0.1:<port>) and DBName = that database. A snapshot without data
  restores to ``incompatible-restore`` (as RDS reports a restore that cannot complete). DeletionProtection is what
  the request says (default false, as in RDS). Between the data load and ``available`` the instance passes
  through the states RDS shows after a restore: ``modifying`` (applying the requested settings) and
  ``backing-up`` (the first automated backup), briefly by default (``rds/restore-phases``).
* DeleteDBInstance of a restored instance drops its database.

Admin routes:

    POST /_sandbox/rds/restore-config {"socket_dir": D, "port": P, "host": "127.0.0.1", "dump_dir": D,
                                       "sources": {"prod-db": "aifilmstudio"}}
        Where the sandbox's PostgreSQL is and which database holds each instance's data.
    POST /_sandbox/rds/snapshot-data {"snapshot": ID, "dump": PATH} | {"snapshot": ID, "instance": I}
        Give an existing snapshot data: a dump file, or a pg_dump of the instance's database taken now.
    POST /_sandbox/rds/instance-created {"instance": I, "age_days": 20}
        Back-date an instance's InstanceCreateTime (a drill instance left behind weeks ago).
    POST /_sandbox/rds/restore-tamper {"sql": ["DELETE ...", ...]}
        Statements run in every database restored from now on, after pg_restore, as superuser with
        session_replication_role = replica (foreign keys unenforced): a restore that disagrees with its source.
        {"sql": []} stops it. POST /_sandbox/reset stops it too (the data map and configuration stay).
    POST /_sandbox/rds/restore-phases {"phases": [["modifying", 1.5], ["backing-up", 3]], "stuck": "backing-up"}
        The states (and seconds in each) a restore passes through after its data is loaded; "stuck": a state it
        never leaves (a restore that does not finish). {} or POST /_sandbox/reset: the defaults again.
"""

import os
import re
import subprocess
import threading
import time
from pathlib import Path

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, moto_backend, need

RESTORE_TIMEOUT_S = 300
PHASES = [["modifying", 0.3], ["backing-up", 0.6]]
"""States after the data load, and seconds in each (RDS: settings applied, then the first backup)."""


def database_name(instance: str) -> str:
    """The sandbox database that holds a restored instance's data: rds_<instance, '-' → '_'>."""
    return "rds_" + re.sub(r"[^a-z0-9_]", "_", instance.lower())


class RdsRestore(Overlay):
    name = "rds-restore"

    def initial_state(self) -> dict:
        return {"config": None, "snapshots": {}, "restored": {}, "tamper": [], "phases": PHASES, "stuck": None}

    def reset(self) -> None:
        with self.lock:
            self.state["tamper"] = []
            self.state["phases"], self.state["stuck"] = PHASES, None

    # ---- the AWS API ---------------------------------------------------------------------------------------------
    @handles("rds", "CreateDBSnapshot")
    def create_snapshot(self, call: Call) -> Reply:
        snap_id, instance = call.form.get("DBSnapshotIdentifier"), call.form.get("DBInstanceIdentifier")
        reply = call.forward()
        if not reply.ok:
            return reply
        cfg = self.state["config"]
        if cfg and instance in cfg["sources"]:
            try:
                self.take_dump(snap_id, instance)
            except Exception:
                snap = moto_backend("rds", call.region).database_snapshots.get(snap_id)
                if snap is not None:
                    snap.status = "failed"
                raise
        return reply

    @handles("rds", "RestoreDBInstanceFromDBSnapshot")
    def restore(self, call: Call) -> Reply:
        form = call.form  # read before moto consumes the body
        reply = call.forward()
        if not reply.ok:
            return reply
        instance = form.get("DBInstanceIdentifier")
        snap_id = form.get("DBSnapshotIdentifier", "").rsplit(":snapshot:", 1)[-1]
        db = moto_backend("rds", call.region).databases[instance]
        db.deletion_protection = form.get("DeletionProtection", "false").lower() == "true"
        cfg = self.state["config"]
        dump = self.state["snapshots"].get(snap_id)
        if not cfg or not dump or not Path(dump).exists():
            db.status = "incompatible-restore"
            return reply.with_body(reply.body.replace(b"<DBInstanceStatus>available</DBInstanceStatus>",
                                                      b"<DBInstanceStatus>incompatible-restore</DBInstanceStatus>"))
        dbname = database_name(instance)
        _show_at(db, cfg["host"], cfg["port"], dbname)
        db.status = "creating"
        worker = threading.Thread(target=self._restore, args=(db, instance, dump, dbname, list(self.state["tamper"])),
                                  name=f"restore-{instance}", daemon=True)
        with self.lock:
            self.state["restored"][instance] = {"database": dbname, "snapshot": snap_id, "status": "creating"}
        self._threads[instance] = worker
        worker.start()
        return reply.with_body(reply.body.replace(b"<DBInstanceStatus>available</DBInstanceStatus>",
                                                  b"<DBInstanceStatus>creating</DBInstanceStatus>"))

    @handles("rds", "DeleteDBInstance")
    def delete(self, call: Call) -> Reply:
        instance = call.form.get("DBInstanceIdentifier")
        reply = call.forward()
        if reply.ok and instance in self.state["restored"]:
            job = self._jobs.get(instance)
            if job is not None:  # a restore still running is cancelled: pg_restore killed, its sessions ended
                job["cancelled"] = True
                if job.get("proc") is not None and job["proc"].poll() is None:
                    job["proc"].kill()
            self._drop(self.state["restored"][instance]["database"])
            worker = self._threads.pop(instance, None)
            if worker is not None:
                worker.join(10)
            with self.lock:
                self.state["restored"].pop(instance, None)
        return reply

    # ---- the work --------------------------------------------------------------------------------------------------
    @property
    def _threads(self) -> dict:
        if not hasattr(self, "_workers"):
            self._workers = {}
        return self._workers

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return env

    def _conn_args(self) -> list[str]:
        cfg = self.state["config"]
        return ["-h", cfg["socket_dir"], "-p", str(cfg["port"]), "-U", "postgres", "--no-password"]

    def _psql(self, dbname: str, sql: str) -> None:
        import psycopg

        cfg = self.state["config"]
        with psycopg.connect(host=cfg["socket_dir"], port=cfg["port"], dbname=dbname, user="postgres",
                             connect_timeout=5, autocommit=True) as c:
            c.execute(sql)

    def take_dump(self, snap_id: str, instance: str) -> str:
        cfg = self.state["config"]
        if not cfg or instance not in cfg["sources"]:
            raise AdminError(f"no data source configured for instance {instance!r} (rds/restore-config)")
        out = Path(cfg["dump_dir"]) / (re.sub(r"[^A-Za-z0-9_.-]", "_", snap_id) + ".dump")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        subprocess.run([_bin("pg_dump"), *self._conn_args(), "-Fc", "-f", str(tmp), cfg["sources"][instance]],
                       check=True, capture_output=True, text=True, timeout=RESTORE_TIMEOUT_S, env=self._env())
        tmp.replace(out)
        with self.lock:
            self.state["snapshots"][snap_id] = str(out)
        return str(out)

    @property
    def _jobs(self) -> dict:
        if not hasattr(self, "_running"):
            self._running = {}
        return self._running

    def _restore(self, db, instance: str, dump: str, dbname: str, tamper: list[str]) -> None:
        started = time.monotonic()
        job = self._jobs[instance] = {"proc": None, "cancelled": False}

        def step_ok():
            if job["cancelled"]:
                raise RuntimeError("cancelled: the instance was deleted")

        try:
            self._drop(dbname)
            step_ok()
            self._psql("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE template0')
            step_ok()
            job["proc"] = subprocess.Popen([_bin("pg_restore"), *self._conn_args(), "-d", dbname, "--jobs", "2",
                                            dump], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                           env=self._env())
            _, err = job["proc"].communicate(timeout=RESTORE_TIMEOUT_S)
            step_ok()
            if job["proc"].returncode != 0:
                raise RuntimeError(err.strip().splitlines()[-1] if err.strip() else "pg_restore failed")
            if tamper:
                self._psql(dbname, "SET session_replication_role = replica; " + "; ".join(tamper))
            step_ok()
            self._phases(db, step_ok)
            status = "available"
        except Exception as e:  # the instance shows it; the log says why
            import logging

            logging.getLogger("sandbox.aws").warning("restore of %s from %s failed: %s", instance, dump, e)
            status = "incompatible-restore"
        finally:
            if job["proc"] is not None and job["proc"].poll() is None:
                job["proc"].kill()
            if job["cancelled"]:
                try:
                    self._drop(dbname)
                except Exception:  # the delete drops it too
                    pass
            self._jobs.pop(instance, None)
        db.status = status
        with self.lock:
            if instance in self.state["restored"]:
                self.state["restored"][instance].update(status=status,
                                                        seconds=round(time.monotonic() - started, 2))

    def _phases(self, db, step_ok) -> None:
        """The states RDS shows between the data load and available; a stuck one lasts until the instance goes."""
        with self.lock:
            phases, stuck = list(self.state["phases"]), self.state["stuck"]
        for state, seconds in phases:
            db.status = state
            deadline = time.monotonic() + float(seconds)
            while state == stuck or time.monotonic() < deadline:
                step_ok()
                time.sleep(0.05)
        if stuck and stuck not in [p[0] for p in phases]:
            db.status = stuck
            while True:
                step_ok()
                time.sleep(0.05)

    def _drop(self, dbname: str) -> None:
        self._psql("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    # ---- admin -----------------------------------------------------------------------------------------------------
    @admin("rds/restore-config")
    def configure(self, payload: dict) -> dict:
        cfg = {"socket_dir": need(payload, "socket_dir"), "port": need(payload, "port", int),
               "host": payload.get("host", "127.0.0.1"), "dump_dir": need(payload, "dump_dir"),
               "sources": need(payload, "sources", dict)}
        with self.lock:
            self.state["config"] = cfg
        return cfg

    @admin("rds/snapshot-data")
    def snapshot_data(self, payload: dict) -> dict:
        snap_id = need(payload, "snapshot")
        if "dump" in payload:
            dump = need(payload, "dump")
            if not Path(dump).exists():
                raise AdminError(f"no such dump file {dump!r}", 404)
            with self.lock:
                self.state["snapshots"][snap_id] = dump
        else:
            try:
                dump = self.take_dump(snap_id, need(payload, "instance"))
            except subprocess.CalledProcessError as e:
                raise AdminError(f"pg_dump failed: {e.stderr.strip()}", 500) from None
        return {"snapshot": snap_id, "dump": dump}

    @admin("rds/instance-created")
    def instance_created(self, payload: dict) -> dict:
        """Back-date an instance's InstanceCreateTime (moto reports instance_create_time, not created)."""
        import datetime as dt

        from .overlay import moto_time, now

        db = moto_backend("rds", payload.get("region", "us-east-1")).databases.get(need(payload, "instance"))
        if db is None:
            raise AdminError(f"no DB instance {payload['instance']!r}", 404)
        when = moto_time(now() - dt.timedelta(days=float(need(payload, "age_days", (int, float)))))
        db.created = db.instance_create_time = when
        return {"instance": payload["instance"], "created": when.isoformat() + "Z"}

    @admin("rds/restore-phases")
    def restore_phases(self, payload: dict) -> dict:
        phases = payload.get("phases", PHASES)
        if not isinstance(phases, list) or any(not isinstance(p, list) or len(p) != 2 for p in phases):
            raise AdminError("phases: a list of [state, seconds]")
        with self.lock:
            self.state["phases"], self.state["stuck"] = phases, payload.get("stuck")
        return {"phases": phases, "stuck": payload.get("stuck")}

    @admin("rds/restore-tamper")
    def tamper(self, payload: dict) -> dict:
        sql = need(payload, "sql", list)
        with self.lock:
            self.state["tamper"] = [str(s) for s in sql]
        return {"tamper": self.state["tamper"]}


# ---- helpers ---------------------------------------------------------------------------------------------------------
_SHOWN: dict[type, type] = {}


def _show_at(db, host: str, port: int, dbname: str) -> None:
    """Make a moto DBInstance report the sandbox server as its endpoint and the restored database as its DBName."""
    base = type(db)
    cls = _SHOWN.get(base)
    if cls is None:
        cls = _SHOWN[base] = type(base.__name__, (base,), {"address": property(lambda self: self.opsproof_address)})
    db.__class__ = cls
    db.opsproof_address = host
    db.port = port
    db.db_name = dbname


def _bin(name: str) -> str:
    """The PostgreSQL client matching the sandbox's server (Debian layout), else the one on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name),
                   reverse=True)
    return str(found[0]) if found else name
