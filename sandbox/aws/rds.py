"""RDS history that moto cannot make through its API: automated snapshots of past days, an instance created long ago.

What moto 5.2.5 does: CreateDBInstance takes one automated snapshot (``rds:<id>-<timestamp>``) at creation time and
never another; CreateDBSnapshot only makes ``manual`` ones, stamped now. Everything is ``available`` at once.

What this overlay adds: admin routes only (the AWS API is moto's, unchanged).

    POST /_sandbox/rds/snapshot {"instance": "prod-db", "snapshot": ID (default rds:<instance>-<time>),
                                 "type": "automated"|"manual", "age_hours": 30, "status": "available",
                                 "encrypted": true, "delete": false, "region": "us-east-1"}
        Create the snapshot (or change an existing one), stamped age_hours ago; "delete": true removes it (even an
        automated one, which real AWS would refuse: a fault may need it).
    POST /_sandbox/rds/instance {"instance": "prod-db", "age_days": 400}
        Back-date the instance's creation time.
"""

import datetime as dt

from .overlay import AdminError, Overlay, admin, moto_backend, moto_time, need, now


class Rds(Overlay):
    name = "rds"

    @admin("rds/snapshot")
    def snapshot(self, payload: dict) -> dict:
        backend = moto_backend("rds", payload.get("region", "us-east-1"))
        instance = need(payload, "instance")
        if instance not in backend.databases:
            raise AdminError(f"no DB instance {instance!r}", 404)
        age = float(payload.get("age_hours", 0))
        created = now() - dt.timedelta(hours=age)
        snap_id = payload.get("snapshot") or f"rds:{instance}-{created:%Y-%m-%d-%H-%M}"
        with self.lock:
            if payload.get("delete"):
                if snap_id not in backend.database_snapshots:
                    raise AdminError(f"no DB snapshot {snap_id!r}", 404)
                backend.database_snapshots.pop(snap_id)
                return {"snapshot": snap_id, "deleted": True}
            snap = backend.database_snapshots.get(snap_id)
            if snap is None:
                kind = payload.get("type", "automated")
                if kind not in ("automated", "manual"):
                    raise AdminError("type must be automated or manual")
                snap = backend.create_db_snapshot(instance, snap_id, snapshot_type=kind)
            if "age_hours" in payload or snap_id != payload.get("snapshot"):
                snap.created = snap.original_snapshot_create_time = moto_time(created)
            if "status" in payload:
                snap.status = need(payload, "status")
            if "encrypted" in payload:
                snap.encrypted = snap.storage_encrypted = bool(payload["encrypted"])
            return {"snapshot": snap.db_snapshot_identifier, "type": snap.snapshot_type, "status": snap.status,
                    "created": snap.created.isoformat() + "Z", "encrypted": snap.encrypted}

    @admin("rds/instance")
    def instance(self, payload: dict) -> dict:
        backend = moto_backend("rds", payload.get("region", "us-east-1"))
        instance = need(payload, "instance")
        db = backend.databases.get(instance)
        if db is None:
            raise AdminError(f"no DB instance {instance!r}", 404)
        with self.lock:
            db.created = moto_time(now() - dt.timedelta(days=float(need(payload, "age_days", (int, float)))))
        return {"instance": instance, "created": db.created.isoformat() + "Z"}
