"""Seed the real AWS states of issue 12 after seed.seed: what production has that the first seed did not.

    from sandbox.aws.seed_states import seed
    seed(sb)        # the AWS server running; seed.seed done

* Composite alarm ``worker-degraded`` (ALARM when either of its children is: the metric alarms
  ``worker-queue-age-high`` and ``worker-task-failures``, which no configuration names). DescribeAlarms and
  DescribeAlarmHistory show it only to a caller that asks for AlarmTypes CompositeAlarm, as AWS does.
* ECS services whose deployments are not ECS's own: ``backend-canary`` (deploymentController CODE_DEPLOY, blue/green
  by CodeDeploy) and ``render-service`` (EXTERNAL, a render pipeline's own controller). Neither has ``deployments``
  (so no rolloutState): each runs one PRIMARY task set (what CodeDeploy or the external controller made) on the
  backend and worker task definitions, steady.
"""

import time

from .seed import ECS_CLUSTER, ECS_SERVICES

OTHER_CONTROLLERS = {"backend-canary": ("CODE_DEPLOY", "backend", 2), "render-service": ("EXTERNAL", "worker", 2)}
"""service -> (deployment controller, task definition family, desired count)."""

COMPOSITE_ALARM = "worker-degraded"
COMPOSITE_CHILDREN = ("worker-queue-age-high", "worker-task-failures")


def seed(sb) -> dict:
    started = time.monotonic()
    seed_composite_alarm(sb)
    seed_other_controllers(sb)
    return {"composite_alarm": COMPOSITE_ALARM, "seconds": round(time.monotonic() - started, 2)}


def seed_composite_alarm(sb) -> None:
    cw = sb.client("cloudwatch")
    dims = [{"Name": "ClusterName", "Value": ECS_CLUSTER}, {"Name": "ServiceName", "Value": "worker-service"}]
    cw.put_metric_alarm(AlarmName=COMPOSITE_CHILDREN[0], Namespace="AIFilmStudio/Worker",
                        MetricName="OldestJobAgeSeconds", Dimensions=dims[1:], Statistic="Maximum", Period=300,
                        EvaluationPeriods=3, Threshold=1800, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching", AlarmDescription="the oldest queued job waits over 30 min")
    cw.put_metric_alarm(AlarmName=COMPOSITE_CHILDREN[1], Namespace="AWS/ECS", MetricName="TaskFailures",
                        Dimensions=dims, Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=3,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
                        AlarmDescription="worker tasks keep failing")
    for name in COMPOSITE_CHILDREN:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="Threshold Crossed: no datapoints breaching")
    cw.put_composite_alarm(AlarmName=COMPOSITE_ALARM,
                           AlarmRule=" OR ".join(f'ALARM("{c}")' for c in COMPOSITE_CHILDREN),
                           AlarmDescription="GPU workers degraded: jobs queue up or tasks keep failing")


def seed_other_controllers(sb) -> None:
    ecs, ec2 = sb.client("ecs"), sb.client("ec2")
    have = {s["serviceName"] for s in ecs.describe_services(cluster=ECS_CLUSTER, services=list(OTHER_CONTROLLERS))
            ["services"] if s["status"] == "ACTIVE"}
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                               {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg["GroupId"]],
                                       "assignPublicIp": "DISABLED"}}
    for service, (controller, family, desired) in OTHER_CONTROLLERS.items():
        if service in have:
            continue
        assert family in {f for f, _ in ECS_SERVICES.values()}
        td = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=ECS_CLUSTER, serviceName=service, taskDefinition=td, desiredCount=desired,
                           launchType="FARGATE", networkConfiguration=network,
                           deploymentController={"type": controller})
        # what CodeDeploy (or the external controller) does: a task set, then make it the PRIMARY one
        ts = ecs.create_task_set(cluster=ECS_CLUSTER, service=service, taskDefinition=td, launchType="FARGATE",
                                 networkConfiguration=network,  # scale: 100 % (moto runs tasks if given)
                                 externalId=f"{service}-deployment-1")["taskSet"]
        ecs.update_service_primary_task_set(cluster=ECS_CLUSTER, service=service, primaryTaskSet=ts["taskSetArn"])
