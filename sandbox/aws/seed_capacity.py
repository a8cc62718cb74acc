"""Seed the capacity area after seed.seed: the rest of the runbook's "Metrics to Review" and the auto-scaling setup.

    from sandbox.aws.seed_capacity import seed
    seed(sb)        # the AWS server running; seed.seed done (its 90 days of hourly history are reused as they are)

seed.seed already writes 90 days of hourly history (daily and weekly seasonality, +15 % over the period) for RDS CPU,
connections and free storage, the backend service's CPU and memory, the render queue's depth and each GPU worker's
CPU. This adds, with the same shape and hours:

* the worker service's CPU and memory (AWS/ECS), RDS FreeableMemory and network throughput (AWS/RDS), the GPU
  fleet's CPU by its Auto Scaling group (AWS/EC2 AutoScalingGroupName=gpu-workers, what the fleet's capacity is
  judged by: instance ids churn) and the render queue's oldest-message age (AWS/SQS);
* Application Auto Scaling for both ECS services (scalable targets with target-tracking policies on CPU) and 90 days
  of their scaling activities: the backend scales out twice in the morning and in twice at night on weekdays (once
  each way at weekends), the worker once each way a day.

The datapoints go straight into moto's backend through the CloudWatch overlay's bulk route (PutMetricData takes
1,000 per call); the scaling history through the auto-scaling overlay (moto has no DescribeScalingActivities).
"""

import datetime as dt
import logging
import math
import random
import time

from botocore.exceptions import ClientError

from .cloudwatch_metrics import load_series, read_points
from .scaling_activities import add_activities
from .seed import DB_INSTANCE, ECS_CLUSTER, METRIC_DAYS, RENDER_QUEUE

log = logging.getLogger("sandbox.aws.seed")

GPU_ASG = "gpu-workers"
SCALABLE = {  # service: (min, max, target CPU %)
    "backend-service": (2, 8, 60.0),
    "worker-service": (1, 6, 70.0),
}
GIB = 1024 ** 3
MIB = 1024 ** 2


def history_start(now: dt.datetime, days: int = METRIC_DAYS) -> dt.datetime:
    """The first hour of seed.metric_series' history (the same hours, so every series lines up)."""
    return now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=days * 24)


def shape(t: dt.datetime, i: int, hours: int) -> float:
    """seed.metric_series' load shape: trough 03:00, peak 15:00 UTC, weekends at 78 %, +15 % over the period."""
    daily = 0.5 - 0.5 * math.cos(2 * math.pi * (t.hour - 3) / 24)
    weekly = 0.78 if t.weekday() >= 5 else 1.0
    return daily * weekly * (1 + 0.15 * i / hours)


SERIES = [  # (namespace, name, dimensions, unit, value of the shape s)
    ("AWS/ECS", "CPUUtilization", {"ClusterName": ECS_CLUSTER, "ServiceName": "worker-service"}, "Percent",
     lambda s: 20 + 30 * s),
    ("AWS/ECS", "MemoryUtilization", {"ClusterName": ECS_CLUSTER, "ServiceName": "worker-service"}, "Percent",
     lambda s: 50 + 15 * s),
    ("AWS/RDS", "FreeableMemory", {"DBInstanceIdentifier": DB_INSTANCE}, "Bytes", lambda s: (12 - 4 * s) * GIB),
    ("AWS/RDS", "NetworkReceiveThroughput", {"DBInstanceIdentifier": DB_INSTANCE}, "Bytes/Second",
     lambda s: (2 + 10 * s) * MIB),
    ("AWS/RDS", "NetworkTransmitThroughput", {"DBInstanceIdentifier": DB_INSTANCE}, "Bytes/Second",
     lambda s: (4 + 25 * s) * MIB),
    ("AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": GPU_ASG}, "Percent", lambda s: 48.8 + 36 * s),
    ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": RENDER_QUEUE}, "Seconds", lambda s: 30 + 600 * s),
]


def metric_series(now: dt.datetime, days: int = METRIC_DAYS) -> list[dict]:
    """The series above as the overlay's bulk-load payload: hourly values from history_start(now)."""
    rng = random.Random(8)
    hours = days * 24
    start = history_start(now, days)
    out = []
    for ns, name, dims, unit, f in SERIES:
        values = []
        for i in range(hours):
            t = start + dt.timedelta(hours=i)
            values.append(round(max(f(shape(t, i, hours)) * (1 + rng.uniform(-0.05, 0.05)), 0), 2))
        out.append({"namespace": ns, "name": name, "dimensions": dims, "unit": unit, "start": start.timestamp(),
                    "step": 3600, "values": values})
    return out


def scaling_history(now: dt.datetime, days: int = METRIC_DAYS) -> list[dict]:
    """A healthy daily cycle: (hour, desired count) steps per service; weekends need fewer."""
    rng = random.Random(88)
    weekday = {"backend-service": [(8, 3), (11, 4), (20, 3), (23, 2)], "worker-service": [(9, 2), (22, 1)]}
    weekend = {"backend-service": [(10, 3), (19, 2)], "worker-service": [(9, 2), (22, 1)]}
    out = []
    first = (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for d in range(days + 1):
        day = first + dt.timedelta(days=d)
        plan = weekend if day.weekday() >= 5 else weekday
        for service, steps in plan.items():
            current = SCALABLE[service][0]
            for hour, to in steps:
                t = day + dt.timedelta(hours=hour, minutes=rng.randrange(0, 50))
                if t >= now:
                    break
                out.append({"resource_id": f"service/{ECS_CLUSTER}/{service}", "start": t.timestamp(),
                            "from": current, "to": to})
                current = to
    return out


def seed(sb) -> dict:
    started = time.monotonic()
    now = dt.datetime.now(dt.timezone.utc)
    done = {}
    # Seeded before? (ListMetrics would say, but moto's takes seconds once the history is in.)
    if not read_points(sb.endpoint_url, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": GPU_ASG},
                       now - dt.timedelta(days=METRIC_DAYS), now + dt.timedelta(days=1)):
        done["datapoints"] = load_series(sb.endpoint_url, metric_series(now))["datapoints"]
    done["scalable_targets"] = seed_scaling(sb, now)
    done["seconds"] = round(time.monotonic() - started, 3)
    log.info("seeded capacity in %.2f s (%s)", done["seconds"], done)
    return done


def seed_scaling(sb, now: dt.datetime) -> int:
    aas = sb.client("application-autoscaling")
    known = {t["ResourceId"] for t in aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]}
    made = 0
    for service, (low, high, target) in SCALABLE.items():
        resource = f"service/{ECS_CLUSTER}/{service}"
        if resource in known:
            continue
        try:
            aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource,
                                         ScalableDimension="ecs:service:DesiredCount", MinCapacity=low,
                                         MaxCapacity=high)
        except ClientError as e:  # the service is not there (an ECS seed that failed): nothing to scale
            log.warning("capacity seed: %s: %s", resource, e)
            continue
        aas.put_scaling_policy(
            PolicyName="cpu-target-tracking", ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target, "ScaleOutCooldown": 300, "ScaleInCooldown": 900,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
        made += 1
    if made:
        add_activities(sb.endpoint_url, scaling_history(now))
    return made
