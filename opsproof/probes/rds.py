"""Probes of RDS through its API (describe calls only)."""

from dataclasses import dataclass

from ..connect import aws_call


@dataclass(frozen=True)
class Instance:
    id: str
    status: str
    engine: str
    engine_version: str
    instance_class: str
    backup_retention_days: int
    encrypted: bool


def instance(rds, instance_id: str) -> Instance | None:
    """The instance, or None when no instance has that identifier."""
    try:
        resp = aws_call(f"rds describe-db-instances {instance_id}", rds.describe_db_instances,
                        DBInstanceIdentifier=instance_id)
    except rds.exceptions.DBInstanceNotFoundFault:
        return None
    i = resp["DBInstances"][0]
    return Instance(i["DBInstanceIdentifier"], i["DBInstanceStatus"], i["Engine"], i.get("EngineVersion", ""),
                    i.get("DBInstanceClass", ""), i.get("BackupRetentionPeriod", 0), i.get("StorageEncrypted", False))
