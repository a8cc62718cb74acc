"""Probes of RDS through its API (describe calls only): the one place that reads DB instances
(DescribeDBInstances) and DB snapshots (DescribeDBSnapshots), as one dataclass each.

    >>> instance(rds_client, "prod-db").allocated_gb
    1000.0
    >>> newest_available(snapshots(rds_client, "prod-db", "automated")).age_h
    5.2
"""

import datetime as dt
from dataclasses import dataclass, field

from ..connect import aws_call

UTC = dt.timezone.utc


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _age_h(created: dt.datetime | None) -> float | None:
    return None if created is None else round((now() - created).total_seconds() / 3600, 2)


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return t.astimezone(UTC) if t else None


# ---- DB instances ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instance:
    id: str
    status: str
    engine: str = ""
    engine_version: str = ""
    instance_class: str = ""
    backup_retention_days: int = 0
    encrypted: bool = False
    allocated_gb: float = 0.0
    multi_az: bool = False
    parameter_group: str | None = None
    parameter_apply_status: str = "in-sync"
    """in-sync, or pending-reboot when a static change waits for a reboot."""
    created: dt.datetime | None = None
    address: str | None = None
    port: int | None = None
    db_name: str | None = None
    tags: dict = field(default_factory=dict, compare=False)

    @property
    def age_h(self) -> float | None:
        return _age_h(self.created)


def _instance(i: dict) -> Instance:
    groups = i.get("DBParameterGroups") or [{}]
    ep = i.get("Endpoint") or {}
    return Instance(i["DBInstanceIdentifier"], i.get("DBInstanceStatus", ""), i.get("Engine", ""),
                    i.get("EngineVersion", ""), i.get("DBInstanceClass", ""), i.get("BackupRetentionPeriod", 0),
                    bool(i.get("StorageEncrypted", False)), float(i.get("AllocatedStorage", 0)),
                    bool(i.get("MultiAZ")), groups[0].get("DBParameterGroupName"),
                    groups[0].get("ParameterApplyStatus", "in-sync"), _utc(i.get("InstanceCreateTime")),
                    ep.get("Address"), int(ep["Port"]) if ep.get("Port") else None, i.get("DBName"),
                    {t["Key"]: t["Value"] for t in i.get("TagList") or []})


def instance(rds, instance_id: str) -> Instance | None:
    """The instance, or None when no instance has that identifier."""
    try:
        resp = aws_call(f"rds describe-db-instances {instance_id}", rds.describe_db_instances,
                        DBInstanceIdentifier=instance_id)
    except rds.exceptions.DBInstanceNotFoundFault:
        return None
    return _instance(resp["DBInstances"][0])


def instances(rds) -> list[Instance]:
    """Every DB instance of the account and region (every page), by identifier."""
    pages = rds.get_paginator("describe_db_instances").paginate()
    found = [_instance(i) for page in aws_call("rds describe-db-instances", lambda: list(pages))
             for i in page["DBInstances"]]
    return sorted(found, key=lambda i: i.id)


# ---- DB snapshots ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    id: str
    instance: str
    type: str
    status: str
    created: dt.datetime | None
    encrypted: bool

    @property
    def age_h(self) -> float | None:
        return _age_h(self.created)

    def row(self) -> dict:
        return {"snapshot": self.id, "type": self.type, "status": self.status,
                "created": self.created.isoformat(timespec="seconds") if self.created else None,
                "age_h": self.age_h, "encrypted": self.encrypted}


def snapshots(rds, instance: str, snapshot_type: str | None = None) -> list[Snapshot]:
    """Every snapshot of the instance (of one type: automated, manual), newest first."""
    kwargs = {"DBInstanceIdentifier": instance}
    if snapshot_type:
        kwargs["SnapshotType"] = snapshot_type
    found = []
    pages = rds.get_paginator("describe_db_snapshots").paginate(**kwargs)
    for page in aws_call(f"rds describe-db-snapshots {instance}", lambda: list(pages)):
        for s in page["DBSnapshots"]:
            found.append(Snapshot(s["DBSnapshotIdentifier"], s.get("DBInstanceIdentifier", instance),
                                  s.get("SnapshotType", ""), s.get("Status", ""), _utc(s.get("SnapshotCreateTime")),
                                  bool(s.get("Encrypted"))))
    return sorted(found, key=lambda s: s.created or dt.datetime.min.replace(tzinfo=UTC), reverse=True)


def newest_available(snaps: list[Snapshot]) -> Snapshot | None:
    return next((s for s in snaps if s.status == "available"), None)


def failed_since(snaps: list[Snapshot], since: dt.datetime | None) -> list[Snapshot]:
    """Snapshots newer than `since` (all when None) that ended in neither available nor creating."""
    return [s for s in snaps if s.status not in ("available", "creating")
            and (since is None or (s.created and s.created > since))]
