"""Probes of the capacity facts that are not metric history: how big the database is allowed to get (allocated
storage, max_connections, instance class) and what auto-scaling did (Application Auto Scaling activities).
Describe calls only.

    >>> size = database_size(aws("rds"), "prod-db", {"db.r6g.xlarge": 32})
    >>> size.allocated_gb, size.max_connections, size.max_connections_source
    (1000, 200, 'parameter group prod-params')
    >>> acts = scaling_activities(aws("application-autoscaling"), "ecs", "service/prod-cluster/backend-service",
    ...                           since=now - dt.timedelta(days=30))
"""

import datetime as dt
import re
from dataclasses import dataclass

from ..connect import aws_call
from .rds import Instance, instance

UTC = dt.timezone.utc


@dataclass(frozen=True)
class DatabaseSize:
    instance: Instance
    max_connections: int | None
    max_connections_source: str
    """Where max_connections came from: the parameter group (value or formula), or why it is unknown."""

    @property
    def instance_id(self) -> str:
        return self.instance.id

    @property
    def instance_class(self) -> str:
        return self.instance.instance_class

    @property
    def allocated_gb(self) -> float:
        return self.instance.allocated_gb

    @property
    def multi_az(self) -> bool:
        return self.instance.multi_az

    @property
    def parameter_group(self) -> str | None:
        return self.instance.parameter_group


def database_size(rds, instance_id: str, memory_gib: dict[str, float]) -> DatabaseSize | None:
    """The RDS instance's class, allocated storage (GiB) and max_connections; None when there is no such instance."""
    inst = instance(rds, instance_id)
    if inst is None:
        return None
    klass, group = inst.instance_class, inst.parameter_group
    value, source = None, "no DB parameter group"
    if group:
        raw = _parameter(rds, group, "max_connections")
        if raw is None:
            source = f"parameter group {group} does not set max_connections"
        else:
            value = max_connections(raw, memory_gib.get(klass))
            source = f"parameter group {group}" + ("" if raw.strip().isdigit() else f" ({raw} on {klass})")
            if value is None:
                source = f"parameter group {group}: cannot work out {raw!r} for {klass} (add it to " \
                         "capacity.connections.instance_memory_gib)"
    return DatabaseSize(inst, value, source)


def _parameter(rds, group: str, name: str) -> str | None:
    paginator = rds.get_paginator("describe_db_parameters")
    pages = aws_call(f"rds describe-db-parameters {group}", lambda: list(paginator.paginate(
        DBParameterGroupName=group)))
    for page in pages:
        for p in page.get("Parameters", []):
            if p.get("ParameterName") == name and p.get("ParameterValue") not in (None, ""):
                return str(p["ParameterValue"])
    return None


def max_connections(raw: str, memory_gib: float | None) -> int | None:
    """A parameter value: a number, or RDS's formula over the instance class's memory (the evaluator of
    opsproof/postgres/parameters.py: any nesting of LEAST/GREATEST/SUM over {DBInstanceClassMemory...} arithmetic).

    >>> max_connections("200", None), max_connections("LEAST({DBInstanceClassMemory/9531392},5000)", 32)
    (200, 3604)
    >>> max_connections("GREATEST(LEAST({DBInstanceClassMemory/9531392}, 5000), 100)", 1)
    112
    """
    from ..postgres.parameters import formula_value, is_formula

    raw = raw.strip()
    if raw.isdigit():
        return int(raw)
    if memory_gib is None or not is_formula(raw):
        return None
    try:
        return int(formula_value(raw, memory_gib * 1024 ** 3))
    except ValueError:
        return None


# ---- auto-scaling ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScalingActivity:
    resource_id: str
    start: dt.datetime
    status: str
    desired: int | None
    """The desired count the activity set ('Setting desired count to 4.')."""
    description: str


def scalable_targets(aas, namespace: str) -> list[str]:
    paginator = aas.get_paginator("describe_scalable_targets")
    pages = aws_call(f"application-autoscaling describe-scalable-targets {namespace}",
                     lambda: list(paginator.paginate(ServiceNamespace=namespace)))
    return sorted({t["ResourceId"] for page in pages for t in page.get("ScalableTargets", [])})


def scaling_activities(aas, namespace: str, resource_id: str, since: dt.datetime) -> list[ScalingActivity]:
    """The resource's scaling activities since a time, oldest first (pages are read newest first and reading stops
    at the first page that reaches back past `since`)."""
    found: list[ScalingActivity] = []
    kwargs = {"ServiceNamespace": namespace, "ResourceId": resource_id, "MaxResults": 50}
    while True:
        resp = aws_call(f"application-autoscaling describe-scaling-activities {resource_id}",
                        aas.describe_scaling_activities, **kwargs)
        older = False
        for a in resp.get("ScalingActivities", []):
            start = a["StartTime"]
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
            if start < since:
                older = True
                continue
            m = re.search(r"to (\d+)", a.get("Description", ""))
            found.append(ScalingActivity(resource_id, start, a.get("StatusCode", ""), int(m.group(1)) if m else None,
                                         a.get("Description", "")))
        token = resp.get("NextToken")
        if older or not token:
            break
        kwargs["NextToken"] = token
    return sorted(found, key=lambda a: a.start)
