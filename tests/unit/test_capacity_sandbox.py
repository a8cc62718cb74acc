"""The capacity area's sandbox pieces and probes over real boto3 calls on a real (unseeded) sandbox AWS server: the
CloudWatch overlay's GetMetricData (statistics, AWS's paging), its fault routes, the scaling-activity overlay, the
capacity seed, and the probes that read them."""

import datetime as dt
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config

from opsproof import ROOT, config
from opsproof.connect import SANDBOX_CREDENTIALS
from opsproof.errors import TargetUnreachable
from opsproof.probes import capacity as cap
from opsproof.probes import cloudwatch
from sandbox.aws import admin
from sandbox.aws.cloudwatch_metrics import load_series, read_points, replace_points, restore_points
from sandbox.aws.scaling_activities import add_activities

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.aws.server", "--port", str(port), "--state-dir",
                             str(tmp_path_factory.mktemp("aws"))], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        admin.wait_ready(endpoint, timeout=15)
    except admin.AdminError:
        proc.kill()
        raise AssertionError(proc.communicate()[0].decode()[-3000:]) from None
    yield endpoint
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def client(url):
    def make(service):
        return boto3.client(service, region_name="us-east-1", endpoint_url=url, **SANDBOX_CREDENTIALS,
                            config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 1}))
    return make


def metric(name, **kw):
    return config.capacity.Metric(label=name, kind="cpu", namespace="Test", name=name,
                                  dimensions={"Host": "a"}, **kw)


def stat_query(name, stat, period=3600, unit=None, qid="q"):
    q = {"Id": qid, "MetricStat": {"Metric": {"Namespace": "Test", "MetricName": name,
                                              "Dimensions": [{"Name": "Host", "Value": "a"}]},
                                   "Period": period, "Stat": stat}}
    if unit:
        q["MetricStat"]["Unit"] = unit
    return q


# ---- GetMetricData ---------------------------------------------------------------------------------------------------
def test_statistics_per_period(client):
    """Two hours of 5-minute datapoints 1..24 put through PutMetricData; hourly statistics as CloudWatch's."""
    cw = client("cloudwatch")
    data = [{"MetricName": "stats", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": float(i + 1),
             "Timestamp": T0 + dt.timedelta(minutes=5 * i), "Unit": "Percent"} for i in range(24)]
    cw.put_metric_data(Namespace="Test", MetricData=data)
    cw.put_metric_data(Namespace="Test", MetricData=[{"MetricName": "stats", "Dimensions": [
        {"Name": "Host", "Value": "a"}], "Value": 1000.0, "Timestamp": T0, "Unit": "Count"}])
    want = {"Average": [6.5, 18.5], "Sum": [78, 222], "Minimum": [1, 13], "Maximum": [12, 24], "SampleCount": [12, 12]}
    for stat, values in want.items():
        got = cw.get_metric_data(MetricDataQueries=[stat_query("stats", stat, unit="Percent")], StartTime=T0,
                                 EndTime=T0 + dt.timedelta(hours=2), ScanBy="TimestampAscending")
        r = got["MetricDataResults"][0]
        assert r["Values"] == values and r["StatusCode"] == "Complete", stat
        assert r["Timestamps"] == [T0, T0 + dt.timedelta(hours=1)]
    p90 = cw.get_metric_data(MetricDataQueries=[stat_query("stats", "p90", unit="Percent")], StartTime=T0,
                             EndTime=T0 + dt.timedelta(hours=2))["MetricDataResults"][0]
    assert p90["Values"] == pytest.approx([22.9, 10.9])  # newest first: ScanBy's default is TimestampDescending
    any_unit = cw.get_metric_data(MetricDataQueries=[stat_query("stats", "Maximum")], StartTime=T0,
                                  EndTime=T0 + dt.timedelta(hours=1))["MetricDataResults"][0]
    assert any_unit["Values"] == [1000.0]


def test_paging_like_aws(client, url):
    """MaxDatapoints caps a call; the rest comes behind NextToken, results cut short say PartialData; fetch()
    follows the tokens and makes exactly the calls calls_needed() predicts."""
    cw = client("cloudwatch")
    load_series(url, [{"namespace": "Test", "name": f"page{i}", "dimensions": {"Host": "a"}, "unit": "Count",
                       "start": T0.timestamp(), "step": 300, "values": [float(v) for v in range(288)]}
                      for i in range(3)])
    queries = [stat_query(f"page{i}", "Average", 300, qid=f"m{i}") for i in range(3)]
    kwargs = {"MetricDataQueries": queries, "StartTime": T0, "EndTime": T0 + dt.timedelta(days=1),
              "MaxDatapoints": 200, "ScanBy": "TimestampAscending"}
    first = cw.get_metric_data(**kwargs)
    assert [(r["Id"], len(r["Values"]), r["StatusCode"]) for r in first["MetricDataResults"]] == \
        [("m0", 200, "PartialData")]
    pages = list(cw.get_paginator("get_metric_data").paginate(**kwargs))
    assert len(pages) == 5  # 864 datapoints / 200
    merged = {}
    for page in pages:
        for r in page["MetricDataResults"]:
            merged.setdefault(r["Id"], []).extend(r["Values"])
    assert {k: len(v) for k, v in merged.items()} == {"m0": 288, "m1": 288, "m2": 288}
    assert merged["m2"] == [float(v) for v in range(288)]
    with pytest.raises(cw.exceptions.ClientError, match="InvalidNextToken"):
        cw.get_metric_data(**{**kwargs, "StartTime": T0 + dt.timedelta(hours=1), "NextToken": first["NextToken"]})
    metrics = {f"page{i}": metric(f"page{i}", unit="Count") for i in range(3)}
    got = cloudwatch.fetch(cw, metrics, T0, T0 + dt.timedelta(days=1), 300, page_size=200)
    assert got.calls == cloudwatch.calls_needed(3, 1, 300, page_size=200) == 5
    assert got.datapoints == 864 and not got.partial and got.coverage("page0") == 1.0
    assert got.series["page1"].values.tolist() == [float(v) for v in range(288)]
    assert got.series["page1"].times[0] == T0.timestamp()
    # fetch reads timestamps as sent (epoch seconds) only while it runs: the shared client is left as it was
    after = cw.get_metric_data(**{k: v for k, v in kwargs.items() if k != "MaxDatapoints"})
    assert after["MetricDataResults"][0]["Timestamps"][0] == T0


def test_metric_math_is_moto_s(client):
    cw = client("cloudwatch")
    got = cw.get_metric_data(MetricDataQueries=[stat_query("stats", "Sum", qid="a"),
                                                {"Id": "b", "Expression": "a * 2"}],
                             StartTime=T0, EndTime=T0 + dt.timedelta(hours=2))
    assert {r["Id"] for r in got["MetricDataResults"]} >= {"b"}


def test_validation_like_aws(client):
    cw = client("cloudwatch")
    with pytest.raises(cw.exceptions.ClientError, match="Period"):
        cw.get_metric_data(MetricDataQueries=[stat_query("stats", "Average", period=90)], StartTime=T0,
                           EndTime=T0 + dt.timedelta(hours=2))
    with pytest.raises(cw.exceptions.ClientError, match="500"):
        cw.get_metric_data(MetricDataQueries=[stat_query("stats", "Average", qid=f"q{i}") for i in range(501)],
                           StartTime=T0, EndTime=T0 + dt.timedelta(hours=2))


def test_a_fault_replaces_history_and_heals(client, url):
    cw = client("cloudwatch")
    load_series(url, [{"namespace": "Test", "name": "fault", "dimensions": {"Host": "a"}, "start": T0.timestamp(),
                       "step": 3600, "values": [10.0] * 48}])
    day2 = T0 + dt.timedelta(days=1)
    points = read_points(url, "Test", "fault", {"Host": "a"}, day2, day2 + dt.timedelta(days=1))
    assert len(points) == 24
    replace_points(url, "Test", "fault", {"Host": "a"}, day2, day2 + dt.timedelta(days=1),
                   [(t, v + 80) for t, v in points[:12]])

    def values():
        return cw.get_metric_data(MetricDataQueries=[stat_query("fault", "Maximum", 86400)], StartTime=T0,
                                  EndTime=T0 + dt.timedelta(days=2), ScanBy="TimestampAscending")[
            "MetricDataResults"][0]["Values"]

    assert values() == [10.0, 90.0]
    assert "Test fault Host=a" in admin.state(url)["cloudwatch-metrics"]["replaced"]
    restore_points(url, "Test", "fault", {"Host": "a"})
    assert values() == [10.0, 10.0]
    replace_points(url, "Test", "fault", {"Host": "a"}, T0, T0 + dt.timedelta(days=2), [])
    assert values() == []
    admin.reset(url)  # reset heals every overlay, this one included
    assert values() == [10.0, 10.0] and not admin.state(url)["cloudwatch-metrics"]["replaced"]


def test_ninety_days_of_twenty_metrics_answer_fast(client, url):
    """The capacity review's shape (hourly, 90 days) at the benchmark's width: one call, well under a second."""
    load_series(url, [{"namespace": "Speed", "name": f"m{i}", "dimensions": {"Host": "a"}, "start": T0.timestamp(),
                       "step": 3600, "values": [float(i)] * 2160} for i in range(20)])
    metrics = {f"m{i}": config.capacity.Metric(label="x", kind="cpu", namespace="Speed", name=f"m{i}",
                                               dimensions={"Host": "a"}) for i in range(20)}
    t = time.monotonic()
    got = cloudwatch.fetch(client("cloudwatch"), metrics, T0, T0 + dt.timedelta(days=90), 3600)
    assert time.monotonic() - t < 3
    assert got.calls == 1 and got.datapoints == 20 * 2160


# ---- scaling activities ----------------------------------------------------------------------------------------------
def test_scaling_activities_page_newest_first(client, url):
    aas = client("application-autoscaling")
    res = "service/c/s"
    add_activities(url, [{"resource_id": res, "start": (T0 + dt.timedelta(hours=i)).timestamp(),
                          "from": 2 + i % 2, "to": 3 - i % 2} for i in range(120)])
    add_activities(url, [{"resource_id": "service/c/other", "start": T0.timestamp(), "to": 2}])
    first = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=res)
    assert len(first["ScalingActivities"]) == 50 and "NextToken" in first
    assert first["ScalingActivities"][0]["StartTime"] == T0 + dt.timedelta(hours=119)
    acts = cap.scaling_activities(aas, "ecs", res, since=T0 + dt.timedelta(hours=20))
    assert len(acts) == 100 and acts[0].start == T0 + dt.timedelta(hours=20) and acts[0].desired == 3
    add_activities(url, [{"resource_id": res, "start": (T0 + dt.timedelta(days=10)).timestamp(), "to": 9}],
                   kind="fault")
    assert len(cap.scaling_activities(aas, "ecs", res, since=T0)) == 121
    admin.reset(url)
    assert len(cap.scaling_activities(aas, "ecs", res, since=T0)) == 120  # the history stays, the fault goes
    with pytest.raises(aas.exceptions.ClientError, match="ValidationException"):
        aas.describe_scaling_activities(ServiceNamespace="")


# ---- RDS facts -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [("300", 300), ("LEAST({DBInstanceClassMemory/9531392},5000)", 3604)])
def test_database_size(client, value, expected):
    rds = client("rds")
    group = f"cap-{expected}"
    rds.create_db_parameter_group(DBParameterGroupName=group, DBParameterGroupFamily="postgres15", Description="t")
    rds.modify_db_parameter_group(DBParameterGroupName=group, Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": value, "ApplyMethod": "pending-reboot"}])
    rds.create_db_instance(DBInstanceIdentifier=group, Engine="postgres", DBInstanceClass="db.r6g.xlarge",
                           AllocatedStorage=750, MasterUsername="admin", MasterUserPassword="not-a-secret-1",
                           DBParameterGroupName=group, MultiAZ=True)
    size = cap.database_size(rds, group, {"db.r6g.xlarge": 32})
    assert (size.allocated_gb, size.max_connections, size.multi_az) == (750, expected, True)
    assert group in size.max_connections_source
    assert cap.database_size(rds, "no-such-db", {}) is None


# ---- the seed and a dead endpoint ------------------------------------------------------------------------------------
def test_capacity_seed_is_fast_and_idempotent(client, url):
    from sandbox.aws import seed_capacity

    class Box:
        endpoint_url = url

        @staticmethod
        def client(service, region=None):
            return client(service)

    t = time.monotonic()
    first = seed_capacity.seed(Box)
    assert time.monotonic() - t < 3
    assert first["datapoints"] == len(seed_capacity.SERIES) * 90 * 24
    assert first["scalable_targets"] == 0  # an unseeded server has no ECS services to scale: skipped, not failed
    assert "datapoints" not in seed_capacity.seed(Box)


def test_a_dead_endpoint_is_one_line_fast():
    env = config.load("sandbox")
    dead_url = f"http://127.0.0.1:{free_port()}"
    dead = env.model_copy(update={"aws": env.aws.model_copy(update={"endpoint_url": dead_url})})
    from opsproof import connect

    t = time.monotonic()
    with pytest.raises(TargetUnreachable, match="cloudwatch get-metric-data .* refused or could not be reached"):
        cloudwatch.fetch(connect.aws_client(dead, "cloudwatch"), {"x": metric("x")}, T0, T0 + dt.timedelta(days=1),
                         3600)
    assert time.monotonic() - t < 15
