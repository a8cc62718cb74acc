"""Seed production volumes after seed.seed, past each AWS page boundary (issue 12; page sizes: paging.py).

    from sandbox.aws.seed_volumes import seed
    seed(sb)        # the AWS server running; seed.seed done

Each volume is what a production account of this system holds, and none changes a healthy verdict:

* S3: seed.MEDIA_OBJECT_COUNT (1,100) media objects in the prod bucket and their replicas in the DR bucket (seed.py:
  ListObjectsV2 answers at most 1,000 keys a page).
* RDS: ``SNAPSHOT_HISTORY`` (100) older manual snapshots of prod-db, one before each weekly window of the last two
  years (``prod-db-pre-maintenance-<date>``, older than the seed's newest manual one), so DescribeDBSnapshots
  (MaxRecords 100) takes 2 pages: 7 automated + the seed's manual ones + 100.
* CloudWatch: ``EXTRA_ALARMS`` (100) metric alarms in OK, one per worker queue and per ECS task family of the render
  fleet (DescribeAlarms: at most 100 a page).
* ECS: ``EXTRA_SERVICES`` (10) render services on the worker task definition, desired 1 (ListServices: 10 a page by
  default), which no configuration names.
* SSM: ``FLEET_SIZE`` (11) managed batch workers in patch group ``batch-workers`` (DescribeInstanceInformation: 10 a
  page by default), which no configuration names.

Made in bulk: objects in one admin call (seed.py), snapshots and alarms in one each (volumes.py), instances in one
RunInstances. Costs
about a second of the cold start (measured in the report of issue 12).
"""

import datetime as dt
import time

from . import admin
from .seed import DB_INSTANCE, DB_MANUAL_SNAPSHOT, ECS_CLUSTER

SNAPSHOT_HISTORY = 100
EXTRA_ALARMS = 100
EXTRA_SERVICES = 10
FLEET_SIZE = 11
FLEET_GROUP = "batch-workers"


def seed(sb) -> dict:
    started = time.monotonic()
    timings = {}
    for name, fn in (("snapshots", seed_snapshots), ("alarms", seed_alarms), ("services", seed_services),
                     ("fleet", seed_fleet)):
        t = time.monotonic()
        fn(sb)
        timings[name] = round(time.monotonic() - t, 2)
    return {"timings": timings, "seconds": round(time.monotonic() - started, 2)}


def seed_snapshots(sb) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    snapshots = []
    for week in range(3, 3 + SNAPSHOT_HISTORY):
        taken = now - dt.timedelta(weeks=week, hours=2)
        snapshots.append({"snapshot": f"{DB_MANUAL_SNAPSHOT}-{taken:%Y-%m-%d}", "type": "manual",
                          "age_hours": (now - taken).total_seconds() / 3600})
    admin.post(sb.endpoint_url, "volumes/snapshots", {"instance": DB_INSTANCE, "snapshots": snapshots})


def seed_alarms(sb) -> None:
    alarms = []
    for n in range(EXTRA_ALARMS):
        queue = n % 2 == 0
        name = f"render-queue-{n // 2:02d}-age-high" if queue else f"render-task-{n // 2:02d}-failures"
        alarms.append({"name": name, "namespace": "AIFilmStudio/Render" if queue else "AWS/ECS",
                       "metric": "OldestJobAgeSeconds" if queue else "TaskFailures",
                       "dimensions": [{"Name": "Queue" if queue else "ServiceName",
                                       "Value": name.rsplit("-", 2)[0]}],
                       "statistic": "Maximum", "period": 300, "evaluation_periods": 3,
                       "threshold": 1800 if queue else 3})
    admin.post(sb.endpoint_url, "volumes/alarms", {"alarms": alarms})


def seed_services(sb) -> None:
    ecs = sb.client("ecs")
    have = set()
    for page in ecs.get_paginator("list_services").paginate(cluster=ECS_CLUSTER):
        have |= {arn.rsplit("/", 1)[-1] for arn in page["serviceArns"]}
    for n in range(EXTRA_SERVICES):
        name = f"render-shard-{n:02d}"
        if name not in have:
            ecs.create_service(cluster=ECS_CLUSTER, serviceName=name, taskDefinition="worker", desiredCount=1,
                               launchType="FARGATE")


def seed_fleet(sb) -> None:
    ec2 = sb.client("ec2")
    running = ec2.describe_instances(Filters=[{"Name": "tag:Patch Group", "Values": [FLEET_GROUP]},
                                              {"Name": "instance-state-name", "Values": ["running"]}])
    if any(r["Instances"] for r in running["Reservations"]):
        return
    tags = [{"Key": "Patch Group", "Value": FLEET_GROUP}, {"Key": "Name", "Value": "batch-worker"},
            {"Key": "Role", "Value": "batch-worker"}]
    ec2.run_instances(ImageId="ami-0fb23f2d720767b7a", InstanceType="t3.large", MinCount=FLEET_SIZE,
                      MaxCount=FLEET_SIZE, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
