"""Seed the sandbox's AWS like the runbook's production, through the AWS API (boto3) and, for history moto cannot
make (past automated snapshots), the admin API.

    from sandbox.aws.seed import seed
    summary = seed(sb)          # sb: sandbox.state.Sandbox with the AWS server running

Safe on a fresh server and idempotent on a seeded one (existing resources are found and kept). The names below are
the runbook's; checks and faults import them from here rather than repeating strings.
"""

import base64
import datetime as dt
import json
import logging
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from .. import tls
from . import admin

log = logging.getLogger("sandbox.aws.seed")

# ---- names (the runbook's production) --------------------------------------------------------------------------
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
DR_REGION = "us-west-2"

DB_INSTANCE = "prod-db"
DB_NAME = "aifilmstudio"
DB_INSTANCE_CLASS = "db.r6g.xlarge"
DB_ENGINE_VERSION = "15.5"
DB_PARAMETER_GROUP = "prod-params"
DB_PARAMETER_FAMILY = "postgres15"
DB_PARAMETERS = {  # the runbook's "Recommended Settings for Production" (db.r6g.xlarge) as RDS takes them: base units
    # (kB for work_mem/maintenance_work_mem) or a formula (effective_cache_size in 8kB pages: 3/4 of the memory);
    # shared_buffers stays RDS's own {DBInstanceClassMemory/32768} (1/4: 8GB on 32 GiB). RDS refuses "8GB".
    "effective_cache_size": "{DBInstanceClassMemory*3/32768}",
    "work_mem": "51200",
    "maintenance_work_mem": "2097152",
    "max_connections": "200",
    "random_page_cost": "1.1",
}
DB_BACKUP_RETENTION_DAYS = 7
DB_BACKUP_WINDOW = "03:00-03:30"
DB_ALLOCATED_STORAGE_GB = 1000
DB_MANUAL_SNAPSHOT = "prod-db-pre-maintenance"

PROD_BUCKET = "ai-film-studio-media-prod"
DR_BUCKET = "ai-film-studio-media-dr-usw2"
REPLICATION_ROLE = "ai-film-studio-s3-replication"
REPLICATION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{REPLICATION_ROLE}"
REPLICATION_RULE_ID = "prod-to-dr"
MEDIA_PREFIX = "media/"
MEDIA_OBJECT_COUNT = 1100  # past ListObjectsV2's page of 1,000 keys (issue 12; seed_volumes.py)

API_CERT_DOMAIN = "api.aifilmstudio.test"
CDN_ALIAS = "cdn.aifilmstudio.test"
ALB_NAME = "prod-alb"
ALB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
TARGET_GROUP = "backend-tg"
BACKEND_PORT = 8000
BACKEND_TARGETS = ("172.31.1.10", "172.31.17.10")
CLOUDFRONT_MIN_TLS = "TLSv1.2_2021"
CLOUDFRONT_CALLER_REFERENCE = "opsproof-sandbox-cdn"

ECS_CLUSTER = "prod-cluster"
IMAGE_TAG = "v1.2.0"
BASE_IMAGE = "python:3.11.8-slim"  # runbook: FROM python:3.11-slim -> FROM python:3.11.8-slim
IMAGE_BUILT_DAYS_AGO = 3
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ECR_REPOSITORIES = ("backend", "worker")
ECS_SERVICES = {"backend-service": ("backend", 2), "worker-service": ("worker", 1)}  # service: (task family, desired)
ECR_REGISTRY = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"

SECRET_DATABASE_URL = "ai-film-studio/prod/database-url"
SECRET_OPENAI = "ai-film-studio/prod/openai-api-key"
SECRET_STRIPE = "ai-film-studio/prod/stripe-api-key"
SECRET_ROTATION_DAYS = 90
SECRET_LAST_ROTATED_DAYS = 31

PATCH_BASELINE = "AI-Film-Studio-Baseline"
PATCH_GROUP = "gpu-workers"
MAINTENANCE_WINDOW = "AI-Film-Studio-Patching"
MAINTENANCE_SCHEDULE = "cron(0 4 ? * SUN *)"
GPU_INSTANCE_TYPE = "g4dn.xlarge"
GPU_WORKERS = ("gpu-worker-1", "gpu-worker-2")  # Name tags
GPU_WORKER_TAGS = {"Patch Group": PATCH_GROUP, "Role": "gpu-worker", "Environment": "prod"}
GPU_AMI_NAME = "amzn2-ami-kernel-5.10-hvm-*-x86_64-gp2"

RENDER_QUEUE = "render-jobs"
RENDER_DLQ = "render-jobs-dlq"
ALERT_TOPIC = "ops-alerts"
ALARMS = ("prod-db-cpu-high", "backend-5xx", "alb-unhealthy-hosts")
METRIC_DAYS = 90


@dataclass
class Seeded:
    """What seed() made: ARNs and ids a check or fault would otherwise look up, and how long each part took."""

    api_cert_arn: str = ""
    cdn_cert_arn: str = ""
    alb_arn: str = ""
    https_listener_arn: str = ""
    target_group_arn: str = ""
    distribution_id: str = ""
    gpu_instance_ids: list[str] = field(default_factory=list)
    patch_baseline_id: str = ""
    maintenance_window_id: str = ""
    media_keys: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def seed(sb) -> Seeded:
    """Seed everything; independent parts run in parallel (the whole takes a few seconds)."""
    out = Seeded()
    started = time.monotonic()
    clients = Clients(sb)

    def timed(name, fn, *args):
        t = time.monotonic()
        fn(*args)
        out.timings[name] = round(time.monotonic() - t, 3)

    # EC2 first touches moto's EC2 backend (about a second); run the rest beside it.
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [
            pool.submit(timed, "acm+alb+cloudfront+ecs+ec2+ssm", _network_chain, clients, sb, out),
            pool.submit(timed, "s3", seed_s3, clients, out),
            pool.submit(timed, "rds", seed_rds, clients, sb),
            pool.submit(timed, "secrets+sqs+metrics", _misc_chain, clients, sb),
        ]
        for job in jobs:
            job.result()
    out.timings["total"] = round(time.monotonic() - started, 3)
    log.info("seeded the sandbox's AWS in %.2f s (%s)", out.timings["total"], out.timings)
    return out


def _network_chain(c, sb, out: Seeded) -> None:
    seed_certificates(c, sb, out)
    seed_alb(c, out)
    seed_alarms(c, out)
    seed_cloudfront(c, out)
    seed_ecs(c, out)
    seed_gpu_workers(c, out)
    seed_patching(c, out)
    seed_worker_metrics(c, out)


def _misc_chain(c, sb) -> None:
    seed_secrets(c, sb)
    seed_sqs(c)
    seed_metrics(c)


class Clients:
    """boto3 clients on the sandbox, one per (service, region), all made up front: creating clients from several
    threads at once is not safe with boto3's default session."""

    NEEDED = (("rds", REGION), ("iam", REGION), ("s3", REGION), ("s3", DR_REGION), ("acm", REGION),
              ("ec2", REGION), ("elbv2", REGION), ("cloudfront", REGION), ("ecr", REGION), ("ecs", REGION),
              ("ssm", REGION), ("secretsmanager", REGION), ("sqs", REGION), ("sns", REGION), ("cloudwatch", REGION))

    def __init__(self, sb):
        self.sb = sb
        self._made = {key: sb.client(key[0], region=key[1]) for key in self.NEEDED}

    def __call__(self, service: str, region: str = REGION):
        return self._made[(service, region)]


def _exists_ok(fn, *codes, **kwargs):
    """Call fn; an 'already exists' ClientError (one of codes) returns None."""
    try:
        return fn(**kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] in codes:
            return None
        raise


# ---- RDS -----------------------------------------------------------------------------------------------------------
def seed_rds(c, sb) -> None:
    rds = c("rds")
    _exists_ok(rds.create_db_parameter_group, "DBParameterGroupAlreadyExists", DBParameterGroupName=DB_PARAMETER_GROUP,
               DBParameterGroupFamily=DB_PARAMETER_FAMILY, Description="ai-film-studio production (runbook values)")
    rds.modify_db_parameter_group(DBParameterGroupName=DB_PARAMETER_GROUP, Parameters=[
        {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in DB_PARAMETERS.items()])
    created = _exists_ok(
        rds.create_db_instance, "DBInstanceAlreadyExists",
        DBInstanceIdentifier=DB_INSTANCE, Engine="postgres", EngineVersion=DB_ENGINE_VERSION,
        DBInstanceClass=DB_INSTANCE_CLASS, DBName=DB_NAME, MasterUsername="admin",
        MasterUserPassword=sb.password("rds-master"), AllocatedStorage=DB_ALLOCATED_STORAGE_GB, StorageType="gp3",
        BackupRetentionPeriod=DB_BACKUP_RETENTION_DAYS, PreferredBackupWindow=DB_BACKUP_WINDOW,
        PreferredMaintenanceWindow="sun:04:00-sun:05:00", StorageEncrypted=True, MultiAZ=True,
        DeletionProtection=True, CopyTagsToSnapshot=True, DBParameterGroupName=DB_PARAMETER_GROUP,
        Tags=[{"Key": "Environment", "Value": "prod"}, {"Key": "Application", "Value": "ai-film-studio"}])
    if created is None:
        return  # seeded before: its snapshots are there
    url = sb.endpoint_url
    admin.set_instance_age(url, DB_INSTANCE, 400)
    # moto took one automated snapshot "now"; real ones are taken daily in the backup window.
    for snap in rds.describe_db_snapshots(DBInstanceIdentifier=DB_INSTANCE, SnapshotType="automated")["DBSnapshots"]:
        admin.put_snapshot(url, DB_INSTANCE, snapshot=snap["DBSnapshotIdentifier"], delete=True)
    now = dt.datetime.now(dt.timezone.utc)
    latest = now.replace(hour=3, minute=7, second=0, microsecond=0)
    if latest > now - dt.timedelta(minutes=30):
        latest -= dt.timedelta(days=1)
    for day in range(DB_BACKUP_RETENTION_DAYS):
        taken = latest - dt.timedelta(days=day)
        admin.put_snapshot(url, DB_INSTANCE, age_hours=(now - taken).total_seconds() / 3600)
    manual = now - dt.timedelta(days=13, hours=22)
    admin.put_snapshot(url, DB_INSTANCE, snapshot=f"{DB_MANUAL_SNAPSHOT}-{manual:%Y-%m-%d}", type="manual",
                       age_hours=(now - manual).total_seconds() / 3600)


# ---- S3 ------------------------------------------------------------------------------------------------------------
def seed_s3(c, out: Seeded) -> None:
    iam = c("iam")
    _exists_ok(iam.create_role, "EntityAlreadyExists", RoleName=REPLICATION_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    for bucket, region in ((PROD_BUCKET, REGION), (DR_BUCKET, DR_REGION)):
        s3 = c("s3", region)
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        _exists_ok(s3.create_bucket, "BucketAlreadyOwnedByYou", "BucketAlreadyExists", Bucket=bucket, **kwargs)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]})
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
    c("s3").put_bucket_replication(Bucket=PROD_BUCKET, ReplicationConfiguration={
        "Role": REPLICATION_ROLE_ARN,
        "Rules": [{"ID": REPLICATION_RULE_ID, "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{DR_BUCKET}", "StorageClass": "STANDARD"}}]})
    objects = media_objects()
    out.media_keys = [o["key"] for o in objects]
    existing = c("s3").list_objects_v2(Bucket=PROD_BUCKET, Prefix=MEDIA_PREFIX, MaxKeys=1).get("KeyCount", 0)
    if not existing:
        # Straight into the backend, replicated by the overlay exactly as a PutObject is (a PUT per key takes ~5x
        # longer; the PUT path is proven in tests/unit/test_sandbox_aws.py).
        admin.put_objects(c.sb.endpoint_url, PROD_BUCKET, objects)


def media_objects(count: int = MEDIA_OBJECT_COUNT) -> list[dict]:
    """Deterministic media keys: media/<user>/<project>/<asset>, small bodies, content types, metadata, uploaded
    over the last 90 days (oldest first)."""
    rng = random.Random(20251227)
    now = dt.datetime.now(dt.timezone.utc)
    kinds = (("renders/shot-{n:03d}.mp4", "video/mp4"), ("stills/frame-{n:04d}.png", "image/png"),
             ("audio/take-{n:02d}.wav", "audio/wav"), ("script/draft-{n}.txt", "text/plain"),
             ("thumbs/thumb-{n:03d}.jpg", "image/jpeg"))
    objects = []
    i = 0
    while len(objects) < count:
        user, project = f"user-{1000 + i // 20}", f"project-{(i // 5) % 4 + 1:02d}"
        pattern, ctype = kinds[i % len(kinds)]
        key = f"{MEDIA_PREFIX}{user}/{project}/{pattern.format(n=i)}"
        body = f"{key}\n".encode() + bytes(rng.getrandbits(8) for _ in range(64 + rng.randrange(448)))
        uploaded = now - dt.timedelta(hours=METRIC_DAYS * 24 * (count - i) / count + rng.random())
        objects.append({"key": key, "body_b64": base64.b64encode(body).decode(), "content_type": ctype,
                        "metadata": {"user-id": user, "project-id": project}, "last_modified": uploaded.isoformat()})
        i += 1
    return objects


# ---- certificates, ALB, CloudFront ----------------------------------------------------------------------------------
def seed_certificates(c, sb, out: Seeded) -> None:
    acm = c("acm")
    have = {cert["DomainName"]: cert["CertificateArn"] for cert in acm.list_certificates(
        MaxItems=1000, Includes={"keyTypes": [
        "RSA_2048", "EC_prime256v1"]})["CertificateSummaryList"]}  # AWS lists RSA_1024/2048 only unless asked
    for name, domain in (("api", API_CERT_DOMAIN), ("cdn", CDN_ALIAS)):
        arn = have.get(domain) or acm.import_certificate(
            Certificate=tls.leaf_cert_pem(sb.tls_dir, name), PrivateKey=(sb.tls_dir / f"{name}.key").read_bytes(),
            CertificateChain=tls.chain_pem(sb.tls_dir, name),
            Tags=[{"Key": "Name", "Value": f"ai-film-studio-{name}"}])["CertificateArn"]
        setattr(out, f"{name}_cert_arn", arn)


def seed_alb(c, out: Seeded) -> None:
    ec2, elb = c("ec2"), c("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])[:2]
    try:
        lb = elb.describe_load_balancers(Names=[ALB_NAME])["LoadBalancers"][0]
    except ClientError:
        lb = elb.create_load_balancer(Name=ALB_NAME, Subnets=[s["SubnetId"] for s in subnets], Type="application",
                                      Scheme="internet-facing", IpAddressType="ipv4",
                                      Tags=[{"Key": "Environment", "Value": "prod"}])["LoadBalancers"][0]
    out.alb_arn = lb["LoadBalancerArn"]
    try:
        tg = elb.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]
    except ClientError:
        tg = elb.create_target_group(Name=TARGET_GROUP, Protocol="HTTP", Port=BACKEND_PORT, VpcId=vpc,
                                     TargetType="ip", HealthCheckPath="/health", HealthCheckProtocol="HTTP",
                                     HealthyThresholdCount=3, UnhealthyThresholdCount=2)["TargetGroups"][0]
    out.target_group_arn = tg["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=out.target_group_arn,
                         Targets=[{"Id": ip, "Port": BACKEND_PORT} for ip in BACKEND_TARGETS])
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=out.alb_arn, PageSize=400)["Listeners"]}
    if 443 not in listeners:
        listeners[443] = elb.create_listener(
            LoadBalancerArn=out.alb_arn, Protocol="HTTPS", Port=443, SslPolicy=ALB_TLS_POLICY,
            Certificates=[{"CertificateArn": out.api_cert_arn}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": out.target_group_arn}])["Listeners"][0]
    if 80 not in listeners:
        elb.create_listener(LoadBalancerArn=out.alb_arn, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    out.https_listener_arn = listeners[443]["ListenerArn"]


def seed_cloudfront(c, out: Seeded) -> None:
    cf = c("cloudfront")
    for d in cf.list_distributions().get("DistributionList", {}).get("Items", []) or []:
        if CDN_ALIAS in (d.get("Aliases", {}).get("Items") or []):
            out.distribution_id = d["Id"]
            return
    origin = f"{PROD_BUCKET}.s3.us-east-1.amazonaws.com"
    out.distribution_id = cf.create_distribution(DistributionConfig={
        "CallerReference": CLOUDFRONT_CALLER_REFERENCE, "Comment": "ai-film-studio media CDN", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [CDN_ALIAS]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "media-prod", "DomainName": origin,
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "media-prod", "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                  "Cookies": {"Forward": "none"}}},
        "ViewerCertificate": {"ACMCertificateArn": out.cdn_cert_arn, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": CLOUDFRONT_MIN_TLS, "CloudFrontDefaultCertificate": False},
        "HttpVersion": "http2and3", "PriceClass": "PriceClass_100",
    })["Distribution"]["Id"]


# ---- ECS and ECR -----------------------------------------------------------------------------------------------------
def seed_ecs(c, out: Seeded) -> None:
    ecr, ecs, ec2 = c("ecr"), c("ecs"), c("ec2")
    for repo in ECR_REPOSITORIES:
        _exists_ok(ecr.create_repository, "RepositoryAlreadyExistsException", repositoryName=repo,
                   imageScanningConfiguration={"scanOnPush": True}, imageTagMutability="IMMUTABLE")
        # An OCI manifest annotated like `docker buildx build --annotation` leaves it: base image and build time.
        built = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=IMAGE_BUILT_DAYS_AGO)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 7023,
                               "digest": "sha256:" + f"{repo}{IMAGE_TAG}".encode().hex().ljust(64, "0")[:64]},
                    "layers": [], "annotations": {"org.opencontainers.image.base.name": BASE_IMAGE,
                                                  "org.opencontainers.image.created": built.isoformat()}}
        _exists_ok(ecr.put_image, "ImageAlreadyExistsException", repositoryName=repo,
                   imageManifest=json.dumps(manifest), imageManifestMediaType=OCI_MANIFEST, imageTag=IMAGE_TAG)
    _exists_ok(ecs.create_cluster, "ClusterAlreadyExistsException", clusterName=ECS_CLUSTER,
               settings=[{"name": "containerInsights", "value": "enabled"}])
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"]
               for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                               {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    have = {s["serviceName"] for s in ecs.describe_services(cluster=ECS_CLUSTER, services=list(ECS_SERVICES))
            ["services"] if s["status"] == "ACTIVE"}
    for service, (family, desired) in ECS_SERVICES.items():
        if service in have:
            continue
        container = {"name": family, "image": f"{ECR_REGISTRY}/{family}:{IMAGE_TAG}", "essential": True,
                     "logConfiguration": {"logDriver": "awslogs", "options": {
                         "awslogs-group": f"/ecs/{family}", "awslogs-region": REGION,
                         "awslogs-stream-prefix": family}}}
        if family == "backend":
            container["portMappings"] = [{"containerPort": BACKEND_PORT, "protocol": "tcp"}]
            container["healthCheck"] = {"command": ["CMD-SHELL", f"curl -f http://localhost:{BACKEND_PORT}/health"],
                                        "interval": 30, "timeout": 5, "retries": 3}
        ecs.register_task_definition(family=family, containerDefinitions=[container], networkMode="awsvpc",
                                     requiresCompatibilities=["FARGATE"], cpu="1024", memory="2048")
        kwargs = {}
        if family == "backend":
            kwargs["loadBalancers"] = [{"targetGroupArn": out.target_group_arn, "containerName": family,
                                        "containerPort": BACKEND_PORT}]
        ecs.create_service(cluster=ECS_CLUSTER, serviceName=service, taskDefinition=family, desiredCount=desired,
                           launchType="FARGATE", deploymentConfiguration={
                               "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                               "maximumPercent": 200, "minimumHealthyPercent": 100},
                           networkConfiguration={"awsvpcConfiguration": {
                               "subnets": subnets, "securityGroups": [sg["GroupId"]], "assignPublicIp": "DISABLED"}},
                           **kwargs)


# ---- GPU workers and patching ----------------------------------------------------------------------------------------
def seed_gpu_workers(c, out: Seeded) -> None:
    ec2 = c("ec2")
    running = ec2.describe_instances(Filters=[{"Name": "tag:Role", "Values": ["gpu-worker"]},
                                              {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    have = {next(t["Value"] for t in i.get("Tags", []) if t["Key"] == "Name"): i["InstanceId"]
            for r in running["Reservations"] for i in r["Instances"]}
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [GPU_AMI_NAME]}])["Images"]
    ami = max(images, key=lambda i: i.get("CreationDate", ""))["ImageId"] if images else "ami-0fb23f2d720767b7a"
    for name in GPU_WORKERS:
        if name not in have:
            tags = [{"Key": k, "Value": v} for k, v in {**GPU_WORKER_TAGS, "Name": name}.items()]
            have[name] = ec2.run_instances(ImageId=ami, InstanceType=GPU_INSTANCE_TYPE, MinCount=1, MaxCount=1,
                                           TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])[
                "Instances"][0]["InstanceId"]
    out.gpu_instance_ids = [have[n] for n in GPU_WORKERS]


def seed_patching(c, out: Seeded) -> None:
    """Baseline, patch group and window through moto's SSM; the workers' patch states are the overlay's default
    (compliant, patched in the last window)."""
    ssm = c("ssm")
    found = ssm.describe_patch_baselines(MaxResults=100, Filters=[{"Key": "NAME_PREFIX", "Values": [PATCH_BASELINE]}])
    ids = [b["BaselineId"] for b in found["BaselineIdentities"] if b["BaselineName"] == PATCH_BASELINE]
    out.patch_baseline_id = ids[0] if ids else ssm.create_patch_baseline(
        Name=PATCH_BASELINE, OperatingSystem="AMAZON_LINUX_2", Description="ai-film-studio GPU workers",
        ApprovalRules={"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
            {"Key": "CLASSIFICATION", "Values": ["Security"]},
            {"Key": "SEVERITY", "Values": ["Critical", "Important"]}]}, "ApproveAfterDays": 7}]})["BaselineId"]
    _exists_ok(ssm.register_patch_baseline_for_patch_group, "AlreadyExistsException",
               BaselineId=out.patch_baseline_id, PatchGroup=PATCH_GROUP)
    windows = [w for w in ssm.describe_maintenance_windows()["WindowIdentities"] if w["Name"] == MAINTENANCE_WINDOW]
    if windows:
        out.maintenance_window_id = windows[0]["WindowId"]
        return
    out.maintenance_window_id = ssm.create_maintenance_window(
        Name=MAINTENANCE_WINDOW, Schedule=MAINTENANCE_SCHEDULE, Duration=4, Cutoff=1, ScheduleTimezone="UTC",
        AllowUnassociatedTargets=False)["WindowId"]
    target = ssm.register_target_with_maintenance_window(
        WindowId=out.maintenance_window_id, ResourceType="INSTANCE", Name="gpu-workers",
        Targets=[{"Key": "tag:Patch Group", "Values": [PATCH_GROUP]}])["WindowTargetId"]
    ssm.register_task_with_maintenance_window(
        WindowId=out.maintenance_window_id, TaskArn="AWS-RunPatchBaseline", TaskType="RUN_COMMAND",
        Targets=[{"Key": "WindowTargetIds", "Values": [target]}], Priority=1, MaxConcurrency="1", MaxErrors="1",
        Name="patch-gpu-workers",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Install"]}}})


# ---- secrets, queue, alarms, metrics -------------------------------------------------------------------------------
def seed_secrets(c, sb) -> None:
    sm = c("secretsmanager")
    dbname = getattr(getattr(sb.env, "database", None), "dbname", None) or DB_NAME
    db_url = f"postgresql://app:{sb.password('app')}@127.0.0.1:{sb.ports.postgres}/{dbname}"
    values = {
        SECRET_DATABASE_URL: db_url,
        SECRET_OPENAI: f"sk-sandbox-{sb.password('openai-api-key')}",
        SECRET_STRIPE: f"sk_test_sandbox_{sb.password('stripe-api-key')}",
    }
    for name, value in values.items():
        made = _exists_ok(sm.create_secret, "ResourceExistsException", Name=name, SecretString=value,
                          Tags=[{"Key": "Environment", "Value": "prod"}])
        if made is None:
            sm.put_secret_value(SecretId=name, SecretString=value)
    sm.rotate_secret(SecretId=SECRET_DATABASE_URL, RotationRules={"AutomaticallyAfterDays": SECRET_ROTATION_DAYS},
                     RotateImmediately=False)
    admin.set_secret_rotated(sb.endpoint_url, SECRET_DATABASE_URL, SECRET_LAST_ROTATED_DAYS)


def seed_sqs(c) -> None:
    sqs = c("sqs")
    dlq = sqs.create_queue(QueueName=RENDER_DLQ, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    sqs.create_queue(QueueName=RENDER_QUEUE, Attributes={"VisibilityTimeout": "900", "RedrivePolicy": redrive})


def seed_alarms(c, out: Seeded) -> None:
    sns, cw = c("sns"), c("cloudwatch")
    topic = sns.create_topic(Name=ALERT_TOPIC)["TopicArn"]
    alb_dim = out.alb_arn.split(":loadbalancer/", 1)[1]  # app/prod-alb/<id>, as CloudWatch names it
    tg_dim = out.target_group_arn.split(":", 5)[5]  # targetgroup/backend-tg/<id>
    common = {"AlarmActions": [topic], "OKActions": [topic], "ActionsEnabled": True, "TreatMissingData": "notBreaching"}
    cw.put_metric_alarm(AlarmName="prod-db-cpu-high", Namespace="AWS/RDS", MetricName="CPUUtilization",
                        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": DB_INSTANCE}], Statistic="Average",
                        Period=300, EvaluationPeriods=3, Threshold=80, ComparisonOperator="GreaterThanThreshold",
                        Unit="Percent", AlarmDescription="prod-db CPU above 80% for 15 minutes", **common)
    cw.put_metric_alarm(AlarmName="backend-5xx", Namespace="AWS/ApplicationELB",
                        MetricName="HTTPCode_Target_5XX_Count",
                        Dimensions=[{"Name": "LoadBalancer", "Value": alb_dim}], Statistic="Sum", Period=300,
                        EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanThreshold",
                        AlarmDescription="backend answering 5xx", **common)
    cw.put_metric_alarm(AlarmName="alb-unhealthy-hosts", Namespace="AWS/ApplicationELB",
                        MetricName="UnHealthyHostCount",
                        Dimensions=[{"Name": "LoadBalancer", "Value": alb_dim},
                                    {"Name": "TargetGroup", "Value": tg_dim}],
                        Statistic="Maximum", Period=60, EvaluationPeriods=2, Threshold=0,
                        ComparisonOperator="GreaterThanThreshold", AlarmDescription="ALB target unhealthy", **common)
    for name in ALARMS:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="Threshold Crossed: no datapoints breaching")


def metric_series(now: dt.datetime, days: int = METRIC_DAYS) -> list[dict]:
    """Hourly history for capacity planning: daily and weekly seasonality, mild growth, a little noise."""
    rng = random.Random(90)
    hours = days * 24
    start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours)

    def shape(t: dt.datetime, i: int) -> float:
        daily = 0.5 - 0.5 * math.cos(2 * math.pi * (t.hour - 3) / 24)  # trough 03:00, peak 15:00 UTC
        weekly = 0.78 if t.weekday() >= 5 else 1.0
        growth = 1 + 0.15 * i / hours  # +15% over the period
        return daily * weekly * growth

    gib = 1024 ** 3
    series = [
        ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": DB_INSTANCE}, "Percent", lambda s: 14 + 30 * s),
        ("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": DB_INSTANCE}, "Count", lambda s: 35 + 80 * s),
        ("AWS/ECS", "CPUUtilization", {"ClusterName": ECS_CLUSTER, "ServiceName": "backend-service"}, "Percent",
         lambda s: 18 + 35 * s),
        ("AWS/ECS", "MemoryUtilization", {"ClusterName": ECS_CLUSTER, "ServiceName": "backend-service"}, "Percent",
         lambda s: 42 + 18 * s),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": RENDER_QUEUE}, "Count", lambda s: 60 * s),
    ]
    out = []
    for ns, name, dims, unit, f in series:
        points = []
        for i in range(hours):
            t = start + dt.timedelta(hours=i)
            v = f(shape(t, i)) * (1 + rng.uniform(-0.06, 0.06))
            points.append((t, round(max(v, 0), 2)))
        out.append({"namespace": ns, "name": name, "dims": dims, "unit": unit, "points": points})
    # Free storage falls as media metadata and jobs grow: 480 GiB used -> ~545 GiB over the period.
    points = [(start + dt.timedelta(hours=i), float((DB_ALLOCATED_STORAGE_GB - 480 - 65 * i / hours
                                                     - rng.uniform(0, 0.3)) * gib)) for i in range(hours)]
    out.append({"namespace": "AWS/RDS", "name": "FreeStorageSpace", "dims": {"DBInstanceIdentifier": DB_INSTANCE},
                "unit": "Bytes", "points": points})
    return out


def seed_metrics(c) -> None:
    cw = c("cloudwatch")
    if cw.list_metrics(Namespace="AWS/RDS", MetricName="CPUUtilization").get("Metrics"):
        return  # seeded before
    _put_series(cw, metric_series(dt.datetime.now(dt.timezone.utc)))


def seed_worker_metrics(c, out: Seeded) -> None:
    """AWS/EC2 CPUUtilization for the GPU workers: render load follows the same daily/weekly shape."""
    cw = c("cloudwatch")
    if cw.list_metrics(Namespace="AWS/EC2", MetricName="CPUUtilization").get("Metrics"):
        return
    now = dt.datetime.now(dt.timezone.utc)
    rds_cpu = metric_series(now)[0]["points"]
    rng = random.Random(7)
    series = [{"namespace": "AWS/EC2", "name": "CPUUtilization", "dims": {"InstanceId": instance_id},
               "unit": "Percent",
               "points": [(t, round(min(30 + 1.2 * v + rng.uniform(-5, 5) + 4 * n, 98), 2)) for t, v in rds_cpu]}
              for n, instance_id in enumerate(out.gpu_instance_ids)]
    _put_series(cw, series)


def _put_series(cw, series: list[dict]) -> None:
    """PutMetricData in batches of 1,000 datapoints (the API's limit), three calls at a time."""
    batches = []
    for s in series:
        dims = [{"Name": k, "Value": v} for k, v in s["dims"].items()]
        data = [{"MetricName": s["name"], "Dimensions": dims, "Timestamp": t, "Value": v, "Unit": s["unit"]}
                for t, v in s["points"]]
        batches += [(s["namespace"], data[i:i + 1000]) for i in range(0, len(data), 1000)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda b: cw.put_metric_data(Namespace=b[0], MetricData=b[1]), batches))
