"""Faults of the capacity area. Each reshapes the recent part of the seeded CloudWatch history (or the auto-scaling
history) the way production goes wrong, keeping the daily and weekly pattern underneath, and heals by putting the
seeded datapoints back (sandbox/aws/cloudwatch_metrics.py's replace/restore routes).

Metric names are the seed's: prod-db, prod-cluster's services, the render-jobs queue, the gpu-workers group.
"""

import datetime as dt

from ..aws import seed as S
from ..aws.cloudwatch_metrics import read_points, replace_points, restore_points
from ..aws.scaling_activities import add_activities, clear_activities
from ..aws.seed_capacity import GPU_ASG
from . import fault

GIB = 1024 ** 3
DAY = 86400
RDS = {"DBInstanceIdentifier": S.DB_INSTANCE}
QUEUE = {"QueueName": S.RENDER_QUEUE}


def _reshape(sb, namespace: str, name: str, dims: dict, days: float, unit: str, change) -> None:
    """Replace the metric's last `days` of datapoints by change(t, value, start) (None drops the datapoint)."""
    now = dt.datetime.now(dt.timezone.utc)
    start = now - dt.timedelta(days=days)
    end = now + dt.timedelta(days=1)
    points = read_points(sb.endpoint_url, namespace, name, dims, start, end)
    new = [(t, change(t, v, start.timestamp())) for t, v in points]
    replace_points(sb.endpoint_url, namespace, name, dims, start, end, [(t, v) for t, v in new if v is not None],
                   unit)


@fault("cpu-sustained-high", area="capacity")
class CpuSustainedHigh:
    """prod-db's CPU has run consistently above 60 % for the last 21 days.

    40 points over the seeded history: trough ~55 %, peak ~90 %."""

    def apply(self, sb):
        _reshape(sb, "AWS/RDS", "CPUUtilization", RDS, 21, "Percent", lambda t, v, start: min(v + 40, 97.0))

    def heal(self, sb):
        restore_points(sb.endpoint_url, "AWS/RDS", "CPUUtilization", RDS)


@fault("storage-growth-spike", area="capacity")
class StorageGrowthSpike:
    """prod-db's storage has grown 7 GiB a day faster for 21 days: at that rate it reaches 80 % within weeks.

    Used 545 → ~690 of 1,000 GiB."""

    def apply(self, sb):
        _reshape(sb, "AWS/RDS", "FreeStorageSpace", RDS, 21, "Bytes",
                 lambda t, v, start: v - 7 * GIB * (t - start) / DAY)

    def heal(self, sb):
        restore_points(sb.endpoint_url, "AWS/RDS", "FreeStorageSpace", RDS)


@fault("connections-near-limit", area="capacity")
class ConnectionsNearLimit:
    """prod-db has had 75 more connections than usual for 7 days: peaks at 199 of max_connections 200."""

    def apply(self, sb):
        _reshape(sb, "AWS/RDS", "DatabaseConnections", RDS, 7, "Count", lambda t, v, start: min(v + 75, 199.0))

    def heal(self, sb):
        restore_points(sb.endpoint_url, "AWS/RDS", "DatabaseConnections", RDS)


@fault("queue-backlog", area="capacity")
class QueueBacklog:
    """The render-jobs queue has not drained for 4 days: 600 more messages a day (~2,400 now).

    Its oldest message is as old as the backlog."""

    def apply(self, sb):
        _reshape(sb, "AWS/SQS", "ApproximateNumberOfMessagesVisible", QUEUE, 4, "Count",
                 lambda t, v, start: v + 20 + 600 * (t - start) / DAY)
        _reshape(sb, "AWS/SQS", "ApproximateAgeOfOldestMessage", QUEUE, 4, "Seconds",
                 lambda t, v, start: max(v, t - start))

    def heal(self, sb):
        restore_points(sb.endpoint_url, "AWS/SQS", "ApproximateNumberOfMessagesVisible", QUEUE)
        restore_points(sb.endpoint_url, "AWS/SQS", "ApproximateAgeOfOldestMessage", QUEUE)


@fault("scaling-flapping", area="capacity")
class ScalingFlapping:
    """backend-service has flapped for 2 days: out to 5 and back in to 4 every 12 minutes.

    A target-tracking policy whose scale-in cooldown is too short."""

    def apply(self, sb):
        now = dt.datetime.now(dt.timezone.utc)
        resource = f"service/{S.ECS_CLUSTER}/backend-service"
        acts = []
        for i in range(240):
            t = now - dt.timedelta(days=2) + dt.timedelta(minutes=12 * i)
            up = i % 2 == 0
            acts.append({"resource_id": resource, "start": t.timestamp(), "from": 4 if up else 5, "to": 5 if up else 4})
        add_activities(sb.endpoint_url, acts, kind="fault")

    def heal(self, sb):
        clear_activities(sb.endpoint_url, "fault")


@fault("gpu-metrics-missing", area="capacity")
class GpuMetricsMissing:
    """The GPU workers' CPU (AutoScalingGroupName=gpu-workers) has no datapoints for the last 20 days.

    The group's metrics collection was switched off: a forecast on what is left would be a guess."""

    def apply(self, sb):
        _reshape(sb, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": GPU_ASG}, 20, "Percent",
                 lambda t, v, start: None)

    def heal(self, sb):
        restore_points(sb.endpoint_url, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": GPU_ASG})
