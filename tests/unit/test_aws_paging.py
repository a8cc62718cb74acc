"""AWS's page sizes on the sandbox (sandbox/aws/paging.py) and the probes that must read every page of them.

The sandbox fixture is the full sandbox, production volumes included (sandbox/aws/seed_volumes.py). Where AWS's page
is larger than the suite's listing (ELBv2's 400, Secrets Manager's 100), the probe's client is made to ask for pages
of 1 (a before-parameter-build hook), so its second page is read from the sandbox exactly as production's would be.
"""

import pytest
from botocore.exceptions import ClientError

from opsproof.probes import elbv2 as elbv2_probe
from opsproof.probes import secrets as secrets_probe
from sandbox.aws import paging
from sandbox.aws import seed as S
from sandbox.aws import seed_volumes as V


def _all(client, op, key, **kwargs):
    pages = list(client.get_paginator(op).paginate(**kwargs))
    return pages, [x for p in pages for x in p[key]]


def small_pages(client, operation: str, limit_key: str, size: int = 1):
    """Make every call of the operation on this client ask for pages of `size`."""
    service = client.meta.service_model.service_id.hyphenize()

    def ask(params, **_):
        params.setdefault(limit_key, size)

    client.meta.events.register(f"before-parameter-build.{service}.{operation}", ask)
    return client


def test_the_table_is_within_aws_limits():
    for (service, action), p in paging.TABLE.items():
        assert p.minimum <= p.page <= p.maximum, (service, action)
        assert p.source, (service, action)
        assert (service, action) not in paging.PAGED_ELSEWHERE


def test_snapshots_page_at_100_with_a_token_bound_to_the_request(sandbox):
    rds = sandbox.client("rds")
    first = rds.describe_db_snapshots(DBInstanceIdentifier=S.DB_INSTANCE)
    assert len(first["DBSnapshots"]) == 100 and first.get("Marker")
    pages, snaps = _all(rds, "describe_db_snapshots", "DBSnapshots", DBInstanceIdentifier=S.DB_INSTANCE)
    assert len(pages) >= 2 and len(snaps) > 100 >= V.SNAPSHOT_HISTORY
    assert len({s["DBSnapshotIdentifier"] for s in snaps}) == len(snaps)
    for bad in ({"MaxRecords": 101}, {"MaxRecords": 19}, {"Marker": "not-a-marker"}):
        with pytest.raises(ClientError) as e:
            rds.describe_db_snapshots(DBInstanceIdentifier=S.DB_INSTANCE, **bad)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue", bad
    with pytest.raises(ClientError):  # a marker from another request
        rds.describe_db_snapshots(SnapshotType="manual", Marker=first["Marker"])


def test_the_parameter_group_pages_at_100(sandbox):
    pages, params = _all(sandbox.client("rds"), "describe_db_parameters", "Parameters",
                         DBParameterGroupName=S.DB_PARAMETER_GROUP)
    assert [len(p["Parameters"]) for p in pages][:3] == [100, 100, 100] and len(params) > 300
    assert len({p["ParameterName"] for p in params}) == len(params)


def test_each_bucket_holds_more_than_a_page_of_keys(sandbox):
    for bucket, region in ((S.PROD_BUCKET, S.REGION), (S.DR_BUCKET, S.DR_REGION)):
        pages, keys = _all(sandbox.client("s3", region), "list_objects_v2", "Contents", Bucket=bucket)
        assert len(pages) >= 2 and len(pages[0]["Contents"]) == 1000 and len(keys) > 1000, bucket


def test_alarms_services_and_the_fleet_cross_aws_pages(sandbox):
    pages, alarms = _all(sandbox.client("cloudwatch"), "describe_alarms", "MetricAlarms",
                         PaginationConfig={"PageSize": 100})  # AWS's maximum (its default is undocumented)
    assert len(alarms) > 100 and len(pages) >= 2 and len(pages[0]["MetricAlarms"]) == 100
    small, again = _all(sandbox.client("cloudwatch"), "describe_alarms", "MetricAlarms")
    assert len(small[0]["MetricAlarms"]) == paging.SMALL and len(again) == len(alarms)
    pages, arns = _all(sandbox.client("ecs"), "list_services", "serviceArns", cluster=S.ECS_CLUSTER)
    assert len(arns) > 10 and len(pages[0]["serviceArns"]) == 10
    pages, infos = _all(sandbox.client("ssm"), "describe_instance_information", "InstanceInformationList")
    assert len(infos) > 10 and len(pages[0]["InstanceInformationList"]) == 10


def test_scalable_targets_next_token_goes_past_page_two(sandbox):
    aas = sandbox.client("application-autoscaling")
    everything = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    pages, targets = _all(aas, "describe_scalable_targets", "ScalableTargets", ServiceNamespace="ecs",
                          PaginationConfig={"PageSize": 1})
    assert len(targets) == len(everything) and len(pages) == len(everything)
    assert [t["ResourceId"] for t in targets] == [t["ResourceId"] for t in everything]


def test_listeners_probe_reads_every_page(sandbox):
    elb = sandbox.client("elbv2")
    alb = elbv2_probe.load_balancer_arn(elb, S.ALB_NAME)
    every = elb.describe_listeners(LoadBalancerArn=alb, PageSize=400)["Listeners"]
    assert len(every) >= 2
    small = small_pages(small_pages(sandbox.client("elbv2"), "DescribeListeners", "PageSize"),
                        "DescribeListenerCertificates", "PageSize")
    found = elbv2_probe.listeners(small, S.ALB_NAME)
    assert sorted(l.arn for l in found) == sorted(l["ListenerArn"] for l in every)


def test_secret_versions_probe_reads_every_page(sandbox):
    sm = sandbox.client("secretsmanager")
    every = sm.list_secret_version_ids(SecretId=S.SECRET_DATABASE_URL, MaxResults=100)["Versions"]
    assert len(every) >= 2
    small = small_pages(sandbox.client("secretsmanager"), "ListSecretVersionIds", "MaxResults")
    assert small.list_secret_version_ids(SecretId=S.SECRET_DATABASE_URL).get("NextToken")
    info = secrets_probe.describe(small, S.SECRET_DATABASE_URL)
    assert info.versions == len(every) and info.has_previous
    assert set(secrets_probe.version_ids(small, S.SECRET_DATABASE_URL)) >= {"AWSCURRENT", "AWSPREVIOUS"}
