"""The sandbox's AWS server (sandbox/aws/): moto behind overlays that supply what moto lacks, proven over real boto3
calls on a real server process, seeded like production.

One server for the module (a free port, a temporary state folder), seeded once; tests that break something heal it
through the admin API's reset.
"""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from opsproof import ROOT
from sandbox import tls
from sandbox.aws import admin
from sandbox.aws import seed as S
from sandbox.state import Sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PortSandbox(Sandbox):
    """The sandbox environment, its AWS server on a port of this test's choosing."""

    aws_port: int = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = tmp_path_factory.mktemp("aws-state")
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.aws.server", "--port", str(port), "--state-dir",
                             str(state)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        startup = admin.wait_ready(url, timeout=10) and time.monotonic() - t0
    except admin.AdminError:
        proc.kill()
        raise AssertionError(proc.communicate()[0].decode()[-3000:]) from None
    print(f"\nsandbox AWS server answering after {startup:.2f} s")
    yield proc, url, state, startup
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def sb(server, tmp_path_factory):
    proc, url, _, _ = server
    folder = tmp_path_factory.mktemp("sandbox")
    old = os.environ.get("OPSPROOF_SANDBOX_DIR")
    os.environ["OPSPROOF_SANDBOX_DIR"] = str(folder)
    try:
        base = Sandbox.load("sandbox")
        box = PortSandbox(base.env, aws_port=int(url.rsplit(":", 1)[1]))
        tls.ensure(box.tls_dir)
        yield box
    finally:
        if old is None:
            os.environ.pop("OPSPROOF_SANDBOX_DIR", None)
        else:
            os.environ["OPSPROOF_SANDBOX_DIR"] = old


@pytest.fixture(scope="module")
def seeded(sb):
    t0 = time.monotonic()
    out = S.seed(sb)
    took = time.monotonic() - t0
    print(f"\nseed took {took:.2f} s: {out.timings}")
    out.timings["measured"] = took
    return out


@pytest.fixture
def healed(sb, seeded):
    """Every test starts and ends on healthy production."""
    admin.reset(sb.endpoint_url)
    yield
    admin.reset(sb.endpoint_url)


# ---- the server itself ---------------------------------------------------------------------------------------------
def test_server_answers_within_two_seconds(server):
    assert server[3] < 2.0, f"took {server[3]:.2f} s"


def test_admin_api_health_unknown_route_and_bad_payload(sb):
    url = sb.endpoint_url
    assert admin.get(url, "health")["ok"] is True
    with pytest.raises(admin.AdminError, match="404.*no admin route"):
        admin.post(url, "s3/nope", {})
    with pytest.raises(admin.AdminError, match="400.*missing field 'key'"):
        admin.post(url, "s3/replication-status", {"bucket": S.PROD_BUCKET})


def test_seed_is_fast_and_idempotent(sb, seeded):
    assert seeded.timings["measured"] < 8.0, seeded.timings
    again = S.seed(sb)  # a second run finds everything and changes nothing that matters
    assert again.distribution_id == seeded.distribution_id
    assert again.gpu_instance_ids == seeded.gpu_instance_ids
    assert again.api_cert_arn == seeded.api_cert_arn
    assert len(sb.client("ecs").list_services(cluster=S.ECS_CLUSTER)["serviceArns"]) == 2


# ---- S3 replication --------------------------------------------------------------------------------------------------
def _keys(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o for p in pages for o in p.get("Contents", [])}


def test_seeded_buckets_hold_the_same_objects_replicated(sb, seeded, healed):
    prod, dr = sb.client("s3"), sb.client("s3", S.DR_REGION)
    a, b = _keys(prod, S.PROD_BUCKET), _keys(dr, S.DR_BUCKET)
    assert len(a) == S.MEDIA_OBJECT_COUNT and a.keys() == b.keys()
    assert all(a[k]["ETag"] == b[k]["ETag"] and a[k]["Size"] == b[k]["Size"] for k in a)
    key = seeded.media_keys[7]
    src, dst = prod.head_object(Bucket=S.PROD_BUCKET, Key=key), dr.head_object(Bucket=S.DR_BUCKET, Key=key)
    assert src["ReplicationStatus"] == "COMPLETED" and dst["ReplicationStatus"] == "REPLICA"
    assert src["VersionId"] == dst["VersionId"] and src["Metadata"] == dst["Metadata"]
    assert src["ContentType"] == dst["ContentType"] and src["LastModified"] == dst["LastModified"]
    oldest = min(o["LastModified"] for o in a.values())
    assert dt.datetime.now(dt.timezone.utc) - oldest > dt.timedelta(days=80)  # uploaded over months, not at seed
    assert dr.get_bucket_location(Bucket=S.DR_BUCKET)["LocationConstraint"] == S.DR_REGION


def test_replication_configuration_reads_back_as_put(sb, seeded):
    config = sb.client("s3").get_bucket_replication(Bucket=S.PROD_BUCKET)["ReplicationConfiguration"]
    rule = config["Rules"][0]
    assert config["Role"] == S.REPLICATION_ROLE_ARN
    assert rule["Status"] == "Enabled" and rule["DeleteMarkerReplication"]["Status"] == "Enabled"
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{S.DR_BUCKET}"


def test_a_put_is_replicated_with_its_content_and_metadata(sb, seeded, healed):
    prod, dr = sb.client("s3"), sb.client("s3", S.DR_REGION)
    key = "media/user-9999/project-01/renders/new-shot.mp4"
    put = prod.put_object(Bucket=S.PROD_BUCKET, Key=key, Body=b"frame" * 100, ContentType="video/mp4",
                          Metadata={"user-id": "user-9999"}, Tagging="kind=render")
    got = dr.get_object(Bucket=S.DR_BUCKET, Key=key)
    assert got["Body"].read() == b"frame" * 100 and got["ReplicationStatus"] == "REPLICA"
    assert got["VersionId"] == put["VersionId"] and got["Metadata"] == {"user-id": "user-9999"}
    assert dr.get_object_tagging(Bucket=S.DR_BUCKET, Key=key)["TagSet"] == [{"Key": "kind", "Value": "render"}]
    assert prod.get_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "COMPLETED"
    # a copy and a multipart upload are replicated too
    prod.copy_object(Bucket=S.PROD_BUCKET, Key=key + ".copy", CopySource={"Bucket": S.PROD_BUCKET, "Key": key})
    assert dr.head_object(Bucket=S.DR_BUCKET, Key=key + ".copy")["ReplicationStatus"] == "REPLICA"
    mpu = prod.create_multipart_upload(Bucket=S.PROD_BUCKET, Key=key + ".mpu")
    part = prod.upload_part(Bucket=S.PROD_BUCKET, Key=key + ".mpu", UploadId=mpu["UploadId"], PartNumber=1,
                            Body=b"x" * (5 * 1024 * 1024))
    prod.complete_multipart_upload(Bucket=S.PROD_BUCKET, Key=key + ".mpu", UploadId=mpu["UploadId"],
                                   MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert dr.head_object(Bucket=S.DR_BUCKET, Key=key + ".mpu")["ContentLength"] == 5 * 1024 * 1024
    # a delete places a delete marker in DR too (DeleteMarkerReplication Enabled)
    prod.delete_object(Bucket=S.PROD_BUCKET, Key=key + ".copy")
    with pytest.raises(ClientError):
        dr.head_object(Bucket=S.DR_BUCKET, Key=key + ".copy")


def test_failed_override_reports_failed_and_drops_the_replica(sb, seeded, healed):
    prod, dr = sb.client("s3"), sb.client("s3", S.DR_REGION)
    key = seeded.media_keys[42]
    admin.set_replication_status(sb.endpoint_url, S.PROD_BUCKET, key, "FAILED")
    assert prod.head_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "FAILED"
    with pytest.raises(ClientError, match="404|Not Found"):
        dr.head_object(Bucket=S.DR_BUCKET, Key=key)
    prod.put_object(Bucket=S.PROD_BUCKET, Key=key, Body=b"retry")  # still failing for this key
    assert prod.head_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "FAILED"
    assert len(_keys(dr, S.DR_BUCKET)) == len(_keys(prod, S.PROD_BUCKET)) - 1
    admin.reset(sb.endpoint_url)  # heals: copied again
    assert prod.head_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "COMPLETED"
    assert dr.get_object(Bucket=S.DR_BUCKET, Key=key)["Body"].read() == b"retry"


def test_paused_replication_leaves_objects_pending_until_resumed(sb, seeded, healed):
    prod, dr = sb.client("s3"), sb.client("s3", S.DR_REGION)
    key = "media/user-9998/project-02/stills/late.png"
    admin.pause_replication(sb.endpoint_url, S.PROD_BUCKET)
    prod.put_object(Bucket=S.PROD_BUCKET, Key=key, Body=b"png")
    assert prod.head_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "PENDING"
    with pytest.raises(ClientError):
        dr.head_object(Bucket=S.DR_BUCKET, Key=key)
    assert admin.pause_replication(sb.endpoint_url, S.PROD_BUCKET, paused=False)["copied"] == 1
    assert prod.head_object(Bucket=S.PROD_BUCKET, Key=key)["ReplicationStatus"] == "COMPLETED"


def test_no_replication_without_an_enabled_rule(sb, seeded, healed):
    s3 = sb.client("s3")
    for bucket in ("repl-off-src", "repl-off-dst"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="repl-off-src", ReplicationConfiguration={
        "Role": S.REPLICATION_ROLE_ARN, "Rules": [{"ID": "off", "Priority": 1, "Status": "Disabled",
                                                   "Filter": {"Prefix": ""},
                                                   "DeleteMarkerReplication": {"Status": "Disabled"},
                                                   "Destination": {"Bucket": "arn:aws:s3:::repl-off-dst"}}]})
    s3.put_object(Bucket="repl-off-src", Key="a", Body=b"a")
    assert "ReplicationStatus" not in s3.head_object(Bucket="repl-off-src", Key="a")
    assert _keys(s3, "repl-off-dst") == {}
    s3.delete_bucket_replication(Bucket="repl-off-src")
    s3.put_object(Bucket="repl-off-src", Key="b", Body=b"b")
    assert "ReplicationStatus" not in s3.head_object(Bucket="repl-off-src", Key="b")
    assert _keys(s3, "repl-off-dst") == {}


# ---- ECS -----------------------------------------------------------------------------------------------------------
def _service(sb, name):
    return sb.client("ecs").describe_services(cluster=S.ECS_CLUSTER, services=[name])["services"][0]


def test_services_run_their_desired_count(sb, seeded, healed):
    for name, (family, desired) in S.ECS_SERVICES.items():
        svc = _service(sb, name)
        assert svc["runningCount"] == desired == svc["desiredCount"] and svc["pendingCount"] == 0
        [primary] = svc["deployments"]
        assert primary["status"] == "PRIMARY" and primary["rolloutState"] == "COMPLETED"
        assert primary["runningCount"] == desired and primary["taskDefinition"] == svc["taskDefinition"]
        image = sb.client("ecs").describe_task_definition(taskDefinition=svc["taskDefinition"])[
            "taskDefinition"]["containerDefinitions"][0]["image"]
        assert image == f"{S.ECR_REGISTRY}/{family}:{S.IMAGE_TAG}"
        assert "steady state" in svc["events"][0]["message"]
    cluster = sb.client("ecs").describe_clusters(clusters=[S.ECS_CLUSTER])["clusters"][0]
    assert (cluster["runningTasksCount"], cluster["pendingTasksCount"], cluster["activeServicesCount"]) == (3, 0, 2)


def test_ecs_overrides_show_a_stuck_rollout_and_a_rollback(sb, seeded, healed):
    url = sb.endpoint_url
    admin.set_ecs_service(url, S.ECS_CLUSTER, "backend-service", runningCount=1, rolloutState="IN_PROGRESS")
    svc = _service(sb, "backend-service")
    assert svc["runningCount"] == 1 and svc["pendingCount"] == 1
    assert svc["deployments"][0]["rolloutState"] == "IN_PROGRESS"

    admin.clear_ecs_service(url, S.ECS_CLUSTER, "backend-service")
    admin.set_ecs_service(url, S.ECS_CLUSTER, "backend-service", activeDeployment={"runningCount": 2},
                          runningCount=0)
    svc = _service(sb, "backend-service")
    assert [d["status"] for d in svc["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert svc["deployments"][0]["rolloutState"] == "IN_PROGRESS" and svc["runningCount"] == 2

    # a new revision whose rollout fails: the circuit breaker rolls back to the previous one
    ecs = sb.client("ecs")
    td = ecs.describe_task_definition(taskDefinition="backend")["taskDefinition"]
    new = ecs.register_task_definition(family="backend", containerDefinitions=td["containerDefinitions"],
                                       networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1024",
                                       memory="2048")["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=S.ECS_CLUSTER, service="backend-service", taskDefinition=new)
    admin.clear_ecs_service(url, S.ECS_CLUSTER, "backend-service")
    assert _service(sb, "backend-service")["deployments"][0]["taskDefinition"] == new
    admin.set_ecs_service(url, S.ECS_CLUSTER, "backend-service", circuitBreakerRollback=True)
    svc = _service(sb, "backend-service")
    failed = [d for d in svc["deployments"] if d["rolloutState"] == "FAILED"]
    assert failed and failed[0]["taskDefinition"] == new and failed[0]["failedTasks"] > 0
    assert "circuit breaker" in failed[0]["rolloutStateReason"]
    assert svc["taskDefinition"] == td["taskDefinitionArn"] and "rolling back" in svc["events"][0]["message"]

    admin.reset(url)
    svc = _service(sb, "backend-service")
    assert svc["runningCount"] == 2 and [d["rolloutState"] for d in svc["deployments"]] == ["COMPLETED"]


# ---- SSM -----------------------------------------------------------------------------------------------------------
def test_gpu_workers_are_managed_and_compliant(sb, seeded, healed):
    ssm = sb.client("ssm")
    ids = seeded.gpu_instance_ids
    assert len(ids) == 2
    info = ssm.describe_instance_information(Filters=[{"Key": "tag:Patch Group", "Values": [S.PATCH_GROUP]}])
    assert {i["InstanceId"] for i in info["InstanceInformationList"]} == set(ids)
    assert {i["PingStatus"] for i in info["InstanceInformationList"]} == {"Online"}
    states = ssm.describe_instance_patch_states(InstanceIds=ids)["InstancePatchStates"]
    assert [s["MissingCount"] + s["FailedCount"] for s in states] == [0, 0]
    assert all(s["PatchGroup"] == S.PATCH_GROUP and s["BaselineId"] == seeded.patch_baseline_id for s in states)
    age = dt.datetime.now(dt.timezone.utc) - states[0]["OperationEndTime"]
    assert dt.timedelta(0) <= age <= dt.timedelta(days=7), age
    group = ssm.describe_instance_patch_states_for_patch_group(PatchGroup=S.PATCH_GROUP)["InstancePatchStates"]
    assert len(group) == 2
    summary = ssm.list_compliance_summaries()["ComplianceSummaryItems"][0]
    assert summary["NonCompliantSummary"]["NonCompliantCount"] == 0
    baseline = ssm.get_patch_baseline(BaselineId=seeded.patch_baseline_id)
    assert baseline["Name"] == S.PATCH_BASELINE and baseline["PatchGroups"] == [S.PATCH_GROUP]
    assert baseline["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] == 7
    window = ssm.describe_maintenance_windows()["WindowIdentities"][0]
    assert (window["Name"], window["Schedule"], window["Duration"], window["Cutoff"]) == (
        S.MAINTENANCE_WINDOW, S.MAINTENANCE_SCHEDULE, 4, 1)


def test_patch_state_override_makes_a_worker_non_compliant(sb, seeded, healed):
    ssm = sb.client("ssm")
    bad = seeded.gpu_instance_ids[1]
    admin.set_patch_state(sb.endpoint_url, instance_id=bad, missing=3, failed=1, operationAgeHours=24 * 40)
    state = ssm.describe_instance_patch_states(InstanceIds=[bad])["InstancePatchStates"][0]
    assert (state["MissingCount"], state["FailedCount"]) == (3, 1)
    assert state["OperationEndTime"] < dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=39)
    missing = ssm.describe_instance_patches(InstanceId=bad, Filters=[{"Key": "State", "Values": ["Missing"]}])
    assert len(missing["Patches"]) == 3
    items = ssm.list_compliance_items(ResourceIds=[bad], ResourceTypes=["ManagedInstance"],
                                      Filters=[{"Key": "Status", "Values": ["NON_COMPLIANT"]}], MaxResults=50)
    assert len(items["ComplianceItems"]) == 4
    summaries = ssm.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
    assert {s["ResourceId"]: s["Status"] for s in summaries}[bad] == "NON_COMPLIANT"
    group = ssm.describe_instance_patch_states_for_patch_group(
        PatchGroup=S.PATCH_GROUP, Filters=[{"Key": "MissingCount", "Values": ["0"], "Type": "GreaterThan"}])
    assert [s["InstanceId"] for s in group["InstancePatchStates"]] == [bad]
    admin.reset(sb.endpoint_url)
    assert ssm.describe_instance_patch_states(InstanceIds=[bad])["InstancePatchStates"][0]["MissingCount"] == 0


# ---- ELBv2 -----------------------------------------------------------------------------------------------------------
def test_target_health_is_healthy_until_overridden(sb, seeded, healed):
    elb = sb.client("elbv2")

    def states():
        return {d["Target"]["Id"]: d["TargetHealth"]["State"]
                for d in elb.describe_target_health(TargetGroupArn=seeded.target_group_arn)["TargetHealthDescriptions"]}

    assert states() == {ip: "healthy" for ip in S.BACKEND_TARGETS}
    admin.set_target_health(sb.endpoint_url, S.TARGET_GROUP, S.BACKEND_TARGETS[0], "unhealthy")
    assert states() == {S.BACKEND_TARGETS[0]: "unhealthy", S.BACKEND_TARGETS[1]: "healthy"}
    desc = elb.describe_target_health(TargetGroupArn=seeded.target_group_arn)["TargetHealthDescriptions"]
    bad = next(d for d in desc if d["Target"]["Id"] == S.BACKEND_TARGETS[0])
    assert bad["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    admin.reset(sb.endpoint_url)
    assert set(states().values()) == {"healthy"}


# ---- the rest of production as seeded -------------------------------------------------------------------------------
def test_certificates_alb_and_cloudfront(sb, seeded):
    acm, elb, cf = sb.client("acm"), sb.client("elbv2"), sb.client("cloudfront")
    listener = elb.describe_listeners(ListenerArns=[seeded.https_listener_arn])["Listeners"][0]
    assert listener["SslPolicy"] == S.ALB_TLS_POLICY
    assert listener["Certificates"][0]["CertificateArn"] == seeded.api_cert_arn
    vc = cf.get_distribution(Id=seeded.distribution_id)["Distribution"]["DistributionConfig"]["ViewerCertificate"]
    assert vc["ACMCertificateArn"] == seeded.cdn_cert_arn and vc["MinimumProtocolVersion"] == S.CLOUDFRONT_MIN_TLS
    assert vc["CloudFrontDefaultCertificate"] is False and vc["CertificateSource"] == "acm"
    cdn = acm.describe_certificate(CertificateArn=seeded.cdn_cert_arn)["Certificate"]
    assert cdn["Status"] == "ISSUED" and any(":distribution/" in u for u in cdn["InUseBy"])
    assert acm.describe_certificate(CertificateArn=seeded.api_cert_arn)["Certificate"]["InUseBy"]


def test_rds_backups_parameters_and_secrets(sb, seeded):
    rds = sb.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier=S.DB_INSTANCE)["DBInstances"][0]
    assert (db["DBInstanceClass"], db["BackupRetentionPeriod"], db["StorageEncrypted"]) == (
        S.DB_INSTANCE_CLASS, 7, True)
    snaps = rds.describe_db_snapshots(DBInstanceIdentifier=S.DB_INSTANCE, SnapshotType="automated")["DBSnapshots"]
    now = dt.datetime.now(dt.timezone.utc)
    ages = sorted(now - s["SnapshotCreateTime"] for s in snaps)
    assert len(snaps) == 7 and ages[0] < dt.timedelta(hours=24) and ages[-1] > dt.timedelta(days=5)
    assert all(s["Status"] == "available" and s["Encrypted"] for s in snaps)
    params = {p["ParameterName"]: p["ParameterValue"]  # the group's own values (the family's are listed too)
              for p in rds.describe_db_parameters(DBParameterGroupName=S.DB_PARAMETER_GROUP, Source="user")
              ["Parameters"]}
    assert params == S.DB_PARAMETERS
    sm = sb.client("secretsmanager")
    url = sm.get_secret_value(SecretId=S.SECRET_DATABASE_URL)["SecretString"]
    assert url == f"postgresql://app:{sb.password('app')}@127.0.0.1:{sb.ports.postgres}/aifilmstudio"
    meta = sm.describe_secret(SecretId=S.SECRET_DATABASE_URL)
    assert meta["RotationEnabled"] and meta["RotationRules"]["AutomaticallyAfterDays"] == 90
    assert 30 <= (now - meta["LastRotatedDate"]).days <= 31
    admin.set_secret_rotated(sb.endpoint_url, S.SECRET_DATABASE_URL, 120)  # a fault: rotation overdue
    assert (now - sm.describe_secret(SecretId=S.SECRET_DATABASE_URL)["LastRotatedDate"]).days == 120
    admin.set_secret_rotated(sb.endpoint_url, S.SECRET_DATABASE_URL, S.SECRET_LAST_ROTATED_DAYS)


def test_ninety_days_of_metrics_and_alarms_ok(sb, seeded):
    cw = sb.client("cloudwatch")
    now = dt.datetime.now(dt.timezone.utc)
    for ns, name, dims in (
            ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": S.DB_INSTANCE}),
            ("AWS/RDS", "FreeStorageSpace", {"DBInstanceIdentifier": S.DB_INSTANCE}),
            ("AWS/ECS", "MemoryUtilization", {"ClusterName": S.ECS_CLUSTER, "ServiceName": "backend-service"}),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": S.RENDER_QUEUE}),
            ("AWS/EC2", "CPUUtilization", {"InstanceId": seeded.gpu_instance_ids[0]})):
        points = cw.get_metric_statistics(Namespace=ns, MetricName=name, StartTime=now - dt.timedelta(days=91),
                                          EndTime=now, Period=86400, Statistics=["Average"],
                                          Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])["Datapoints"]
        assert len(points) >= 89, (ns, name, len(points))
    alarms = cw.describe_alarms(AlarmNames=list(S.ALARMS), MaxRecords=100)["MetricAlarms"]
    assert {a["AlarmName"]: a["StateValue"] for a in alarms} == {n: "OK" for n in S.ALARMS}


# ---- stopping --------------------------------------------------------------------------------------------------------
def test_sigterm_stops_the_server_cleanly(server, sb, seeded):
    """Last in the file: it stops the module's server."""
    proc, url, state, _ = server
    admin.set_target_health(url, S.TARGET_GROUP, S.BACKEND_TARGETS[0], "draining")
    assert (state / "aws-overlays.json").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert not admin.health(url)
