"""AWS's page and batch limits, against the sandbox (as hard as AWS there): DescribeInstanceInformation answers 10
instances a page, so the SSM probe follows every page; DescribeServices takes at most 10 services, so the probes
and the window baseline describe them 10 at a time through one helper.

The extra instances live in their own patch group, made by the test and terminated after it (a terminated instance
is no SSM managed instance): the global seed and the other checks never see them."""

import uuid

import pytest
from botocore.exceptions import ClientError

from opsproof import baseline
from opsproof.probes import ecs as ecs_probe
from opsproof.probes import ssm as ssm_probe
from sandbox.aws import seed as S

EXTRA = 13  # past AWS's default page of 10, within one 50-id filter


@pytest.fixture
def crowded_group(sandbox):
    """A patch group of EXTRA running instances, terminated afterwards."""
    ec2 = sandbox.client("ec2")
    group = f"pages-{uuid.uuid4().hex[:8]}"
    tags = [{"Key": "Patch Group", "Value": group}, {"Key": "Name", "Value": f"{group}-worker"}]
    ids = [i["InstanceId"] for i in ec2.run_instances(
        ImageId="ami-0fb23f2d720767b7a", InstanceType="t3.micro", MinCount=EXTRA, MaxCount=EXTRA,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"]]
    try:
        yield group, ids
    finally:
        ec2.terminate_instances(InstanceIds=ids)


def test_the_sandbox_pages_instance_information_like_aws(sandbox, crowded_group):
    _, ids = crowded_group
    ssm = sandbox.client("ssm")
    first = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ids}])
    assert len(first["InstanceInformationList"]) == 10 and first.get("NextToken")
    rest = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ids}],
                                             NextToken=first["NextToken"])
    assert len(rest["InstanceInformationList"]) == EXTRA - 10 and not rest.get("NextToken")
    with pytest.raises(ClientError) as e:  # botocore checks only the minimum of 5
        ssm.describe_instance_information(MaxResults=51)
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_patch_group_states_reads_every_page_of_instance_information(sandbox, crowded_group):
    group, ids = crowded_group
    states = ssm_probe.patch_group_states(sandbox.client("ssm"), sandbox.client("ec2"), group)
    assert sorted(s.instance_id for s in states) == sorted(ids)
    assert {s.ping for s in states} == {"Online"}, [(s.instance_id, s.ping) for s in states]


def test_the_sandbox_refuses_more_than_ten_services_like_aws(sandbox):
    with pytest.raises(ClientError) as e:
        sandbox.client("ecs").describe_services(cluster=S.ECS_CLUSTER, services=[f"svc-{n}" for n in range(11)])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "at most 10" in e.value.response["Error"]["Message"]


class RecordingEcs:
    """DescribeServices as AWS answers it: at most 10 names, each known service described."""

    def __init__(self, known):
        self.known, self.calls = set(known), []

    def describe_services(self, cluster, services):
        self.calls.append(list(services))
        if len(services) > 10:
            raise ClientError({"Error": {"Code": "InvalidParameterException",
                                         "Message": "service names can have at most 10 items."}}, "DescribeServices")
        return {"services": [{"serviceName": s, "taskDefinition": f"arn:aws:ecs:::task-definition/{s}:1"}
                             for s in services if s in self.known],
                "failures": [{"arn": s, "reason": "MISSING"} for s in services if s not in self.known]}


def test_describe_services_batches_by_ten():
    names = [f"svc-{n:02d}" for n in range(25)]
    ecs = RecordingEcs(names[::2])
    found = ecs_probe.describe_services(ecs, "prod-cluster", names)
    assert [len(c) for c in ecs.calls] == [10, 10, 5]
    assert sum(ecs.calls, []) == names
    assert sorted(found) == names[::2]
    assert ecs_probe.describe_services(RecordingEcs([]), "prod-cluster", []) == {}


def test_baseline_task_definitions_with_more_than_ten_services(sandbox):
    absent = [f"pages-absent-{n}" for n in range(10)]
    env = sandbox.env
    cfg = env.window.baseline.model_copy(update={"ecs_cluster": S.ECS_CLUSTER,
                                                 "ecs_services": ["backend-service", *absent, "worker-service"]})
    env = env.model_copy(update={"window": env.window.model_copy(update={"baseline": cfg})})
    metrics = {m.key: m for m in baseline.task_definitions(env)}
    assert len(metrics) == 12
    assert metrics["ecs.backend-service"].error is None and metrics["ecs.backend-service"].value
    assert metrics["ecs.worker-service"].error is None and metrics["ecs.worker-service"].value
    assert all(f"no service {n}" in (metrics[f"ecs.{n}"].error or "") for n in absent)
