"""The [capacity] section: the runbook's "Capacity Planning" (monthly review, quarterly deep analysis).

Which CloudWatch metrics are read (``metrics``: the runbook's "Metrics to Review", keyed by an id), over what period,
how they are forecast, every threshold of the monthly action items with its default and where that default comes
from, the runbook's planning inputs (users, growth, storage per user) and the price table budget impact is
computed from.
"""

import re
from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, \
    model_validator

from .base import Section
from .target import AwsTarget

GIB = 1 / 1024 ** 3
MIB = 1 / 1024 ** 2

# CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, 1-hour data 455 days: a longer look at a finer
# period silently returns only the newest part.
RETENTION_DAYS = {60: 15, 300: 63, 3600: 455}


def valid_stat(stat: str) -> bool:
    """CloudWatch statistics opsproof reads: SampleCount Average Sum Minimum Maximum and percentiles pNN(.NN)."""
    return stat in ("SampleCount", "Average", "Sum", "Minimum", "Maximum") or bool(
        re.fullmatch(r"p(100|\d{1,2}(\.\d{1,2})?)", stat))


class Metric(Section):
    """One CloudWatch metric of the capacity review."""

    label: str
    """How the report names it."""
    kind: Literal["cpu", "memory", "storage", "network", "connections", "queue"]
    """The runbook's metric family (CPU, memory, storage, network, connections, queue depth)."""
    namespace: str
    name: str
    dimensions: dict[str, str] = {}
    stat: str = "Average"
    """CloudWatch statistic per period: Average, Maximum, Minimum, Sum, SampleCount or pNN."""
    unit: str | None = None
    """Only datapoints in this CloudWatch unit (None: any)."""
    daily: Literal["mean", "max", "min", "p95"] = "p95"
    """How a day's periods are summarised before the trend is fitted (peaks matter for capacity: p95 or max; a free
    space metric: min)."""
    scale: PositiveFloat = 1.0
    """CloudWatch value × scale = the value shown (Bytes → GiB: 9.313225746154785e-10)."""
    display_unit: str = ""
    threshold: float | None = None
    """In shown units: drawn on the chart, and the quarterly bottleneck analysis projects against it. Metrics a
    monthly check judges take that check's threshold instead."""
    lower_is_worse: bool = False
    """Free storage and freeable memory: the threshold is a floor."""
    enabled: bool = True
    """false drops a default metric (the merge keeps every default you do not name)."""

    @field_validator("stat")
    @classmethod
    def _stat(cls, v):
        if not valid_stat(v):
            raise ValueError(f"not a CloudWatch statistic: {v!r} (Average, Maximum, Minimum, Sum, SampleCount, p95)")
        return v


def _rds(name, **kw):
    return {"namespace": "AWS/RDS", "name": name, "dimensions": {"DBInstanceIdentifier": "prod-db"}, **kw}


def _ecs(service, name, **kw):
    return {"namespace": "AWS/ECS", "name": name, "dimensions": {"ClusterName": "prod-cluster", "ServiceName": service},
            "unit": "Percent", "display_unit": "%", **kw}


DEFAULT_METRICS: dict[str, dict] = {
    # The runbook's production (instance prod-db, cluster prod-cluster, queue render-jobs, GPU workers' group).
    "rds-cpu": _rds("CPUUtilization", label="Database CPU", kind="cpu", unit="Percent", display_unit="%"),
    "rds-connections": _rds("DatabaseConnections", label="Database connections", kind="connections",
                            stat="Maximum", daily="max", unit="Count"),
    "rds-free-storage": _rds("FreeStorageSpace", label="Database free storage", kind="storage", stat="Minimum",
                             daily="min", unit="Bytes", scale=GIB, display_unit="GiB", lower_is_worse=True),
    "rds-freeable-memory": _rds("FreeableMemory", label="Database freeable memory", kind="memory", stat="Minimum",
                                daily="min", unit="Bytes", scale=GIB, display_unit="GiB", threshold=2.0,
                                lower_is_worse=True),
    "rds-network-in": _rds("NetworkReceiveThroughput", label="Database network in", kind="network",
                           unit="Bytes/Second", scale=MIB, display_unit="MiB/s"),
    "rds-network-out": _rds("NetworkTransmitThroughput", label="Database network out", kind="network",
                            unit="Bytes/Second", scale=MIB, display_unit="MiB/s"),
    "ecs-backend-cpu": _ecs("backend-service", "CPUUtilization", label="Backend service CPU", kind="cpu",
                            threshold=80.0),
    "ecs-backend-memory": _ecs("backend-service", "MemoryUtilization", label="Backend service memory",
                               kind="memory", threshold=80.0),
    "ecs-worker-cpu": _ecs("worker-service", "CPUUtilization", label="Worker service CPU", kind="cpu",
                           threshold=80.0),
    "ecs-worker-memory": _ecs("worker-service", "MemoryUtilization", label="Worker service memory", kind="memory",
                              threshold=80.0),
    "gpu-cpu": {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": {"AutoScalingGroupName": "gpu-workers"},
                "label": "GPU workers CPU", "kind": "cpu", "unit": "Percent", "display_unit": "%"},
    "queue-depth": {"namespace": "AWS/SQS", "name": "ApproximateNumberOfMessagesVisible",
                    "dimensions": {"QueueName": "render-jobs"}, "label": "Render queue depth", "kind": "queue",
                    "stat": "Maximum", "daily": "max", "unit": "Count"},
    "queue-age": {"namespace": "AWS/SQS", "name": "ApproximateAgeOfOldestMessage",
                  "dimensions": {"QueueName": "render-jobs"}, "label": "Render queue oldest message", "kind": "queue",
                  "stat": "Maximum", "daily": "max", "unit": "Seconds", "scale": 1 / 60, "display_unit": "min"},
}


# ---- the monthly action items ----------------------------------------------------------------------------------------
class DatabaseCpu(Section):
    """'Plan database upgrade if CPU consistently >60%': a percentile of the period, not a single peak."""

    metric: str = "rds-cpu"
    percentile: float = Field(95.0, gt=0, le=100)
    """'Consistently': the p95 of the period's values is above the threshold (5 % of the time may be higher)."""
    max_percent: float = Field(60.0, gt=0, le=100)
    """The runbook's 60 %."""


class Storage(Section):
    """'Increase storage if projected to hit 80% in 3 months'."""

    metric: str = "rds-free-storage"
    allocated_gb: PositiveFloat | None = None
    """The database's allocated storage (GiB); default: AllocatedStorage of the RDS instance ([rds] instance_id)."""
    max_used_percent: float = Field(80.0, gt=0, le=100)
    within_months: PositiveFloat = 3.0
    model: Literal["fitted", "users", "earliest"] = "fitted"
    """fitted: the trend of the measured history; users: the runbook's planning model (users × growth × storage per
    user, [capacity.users]); earliest: whichever crosses first."""


class Connections(Section):
    """'Database connections usage' against the server's limit."""

    metric: str = "rds-connections"
    max_share_percent: float = Field(80.0, gt=0, le=100)
    """The period's peak must stay under this share of max_connections (check_postgres warns at 90 %: a deploy's
    connection surge needs the rest)."""
    max_connections: PositiveInt | None = None
    """Default: max_connections of the instance's DB parameter group (formulas are worked out from
    instance_memory_gib)."""
    instance_memory_gib: dict[str, PositiveFloat] = {"db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64,
                                                     "db.r6g.4xlarge": 128, "db.r6g.8xlarge": 256}
    """For parameter groups that keep RDS's formula LEAST({DBInstanceClassMemory/9531392},5000)."""


class Queue(Section):
    """'Queue depth patterns': the render queue drains every day and stays under a ceiling."""

    metric: str = "queue-depth"
    drained_below: NonNegativeInt = 10
    """The queue counts as drained when its depth falls to this many messages or fewer."""
    max_undrained_hours: PositiveFloat = 24.0
    """A queue that has not drained for longer than this has a backlog (the workers do not keep up)."""
    max_messages: PositiveInt = 1000
    """The period's peak depth, and its projection, must stay under this."""


class Scaling(Section):
    """'Review auto-scaling policies if frequent scaling events' (Application Auto Scaling activities)."""

    service_namespace: str = "ecs"
    resources: list[str] = []
    """Scalable targets (service/CLUSTER/SERVICE); empty: every scalable target in the namespace."""
    max_per_day: PositiveFloat = 6.0
    """Successful scaling activities per resource per day, averaged over the period (a daily cycle of two or three
    steps out and back in is normal)."""
    flap_minutes: PositiveInt = 30
    """A scale-in within this many minutes of a scale-out (or the reverse) is a flap: cooldowns or the target are
    wrong."""
    max_flaps: NonNegativeInt = 3
    """Flaps allowed per resource over the period."""


class Users(Section):
    """The runbook's forecasting inputs ('Simple linear projection')."""

    current: PositiveInt = 5000
    monthly_growth_percent: float = Field(15.0, ge=0, le=1000)
    """Month-over-month user growth (the runbook: 15 %)."""
    storage_per_user_gb: NonNegativeFloat = 0.1


class Quarterly(Section):
    """The quarterly deep analysis."""

    lookback_days: PositiveInt = 365
    """'Historical growth trends (6-12 months)'. CloudWatch keeps hourly data 455 days."""
    bottleneck_months: PositiveFloat = 6.0
    """A resource projected to cross its threshold within this many months is a bottleneck the quarter's plan must
    address (the report fails)."""
    sustained_growth_percent: NonNegativeFloat = 2.0
    """'Order reserved instances if sustained growth': compound growth per month at or above this, in both halves of
    the period."""


class Budget(Section):
    """The price table budget impact is computed from. Example list prices (us-east-1, on demand): replace them with
    your own."""

    currency: str = "USD"
    hours_per_month: PositiveFloat = 730.0
    instance_hour: dict[str, NonNegativeFloat] = {
        "db.r6g.large": 0.225, "db.r6g.xlarge": 0.45, "db.r6g.2xlarge": 0.90, "db.r6g.4xlarge": 1.80,
        "db.r6g.8xlarge": 3.60}
    """On-demand price per instance hour (single-AZ; Multi-AZ instances cost twice)."""
    upgrade_path: list[str] = ["db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge", "db.r6g.4xlarge", "db.r6g.8xlarge"]
    """'Plan database upgrade': the next class after the current one."""
    storage_gb_month: NonNegativeFloat = 0.115
    """Database storage per GiB-month (gp3)."""
    storage_step_gb: PositiveInt = 100
    """Storage increases are rounded up to this."""
    reserved_discount_percent: float = Field(30.0, ge=0, lt=100)
    """A one-year reserved instance's saving against on demand."""
    ecs_task_month: NonNegativeFloat = 36.0
    """One more ECS task (1 vCPU, 2 GB on Fargate) for a month."""


# ---- the section -----------------------------------------------------------------------------------------------------
class Capacity(AwsTarget):
    """Capacity planning: metrics, forecast horizons, thresholds."""

    lookback_days: PositiveInt = 30
    """The monthly review reads this many days of history."""
    period_s: PositiveInt = 3600
    """CloudWatch period (seconds): 60, 300, 3600 or a multiple of 60. Finer periods are kept shorter (see
    RETENTION_DAYS): 5-minute data only 63 days."""
    horizons_months: list[PositiveInt] = [3, 6, 12]
    """'Growth projections (3, 6, 12 months)'."""
    model: Literal["best", "linear", "compound"] = "best"
    """Trend fitted to each metric: linear, compound (exponential) growth, or whichever forecasts the held-out last
    quarter of the history better."""
    min_coverage_percent: float = Field(80.0, gt=0, le=100)
    """A metric with data for less of the period than this is reported as a gap, not forecast."""
    max_datapoints_per_call: int = Field(100_800, ge=1, le=100_800)
    """GetMetricData page size (AWS's maximum, 100,800)."""
    metrics: dict[str, Metric] = Field(default_factory=lambda: {k: Metric(**v) for k, v in DEFAULT_METRICS.items()})
    """The runbook's 'Metrics to Review' by id. Your tables are merged over the defaults: name an id to change
    some of its keys, add new ids, `enabled = false` to drop one."""

    database_cpu: DatabaseCpu = DatabaseCpu()
    storage: Storage = Storage()
    connections: Connections = Connections()
    queue: Queue = Queue()
    scaling: Scaling = Scaling()
    users: Users = Users()
    quarterly: Quarterly = Quarterly()
    budget: Budget = Budget()

    @field_validator("metrics", mode="before")
    @classmethod
    def _merge(cls, v):
        if not isinstance(v, dict):
            return v
        merged = {k: dict(d) for k, d in DEFAULT_METRICS.items()}
        for k, d in v.items():
            if isinstance(d, Metric):
                d = d.model_dump()
            if not isinstance(d, dict):
                return v  # let pydantic name the bad entry
            merged[k] = {**merged.get(k, {}), **d}
        return {k: d for k, d in merged.items() if d.get("enabled", True) is not False}

    @field_validator("period_s")
    @classmethod
    def _period(cls, v):
        if v != 1 and v % 60:
            raise ValueError("CloudWatch periods are multiples of 60 seconds")
        return v

    @field_validator("horizons_months")
    @classmethod
    def _horizons(cls, v):
        if not v:
            raise ValueError("at least one horizon")
        return sorted(set(v))

    @model_validator(mode="after")
    def _consistent(self):
        keep = max((days for p, days in RETENTION_DAYS.items() if self.period_s >= p), default=15)
        for key, days in (("lookback_days", self.lookback_days), ("quarterly.lookback_days",
                                                                  self.quarterly.lookback_days)):
            if days > keep:
                raise ValueError(f"{key} = {days}: CloudWatch keeps data at period_s = {self.period_s} only {keep} "
                                 f"days; raise period_s (3600 keeps 455 days)")
        for key, metric in (("database_cpu.metric", self.database_cpu.metric), ("storage.metric", self.storage.metric),
                            ("connections.metric", self.connections.metric), ("queue.metric", self.queue.metric)):
            if metric not in self.metrics:
                raise ValueError(f"{key} = {metric!r}: no such metric (known: {', '.join(sorted(self.metrics))})")
        return self

    def metric_of(self, what: str) -> Metric:
        """The metric a monthly check judges: database_cpu, storage, connections or queue."""
        return self.metrics[getattr(self, what).metric]
