"""Faults of the infrastructure area: SSM patching, the sandbox's hosts, container images, Terraform.

Host and Terraform faults live in files under the sandbox's state folder, which the AWS part's seeding rebuilds
(sandbox/aws/seed_infrastructure.py): they are registered with part="aws" so a restarted AWS part forgets them
together with the other AWS faults.
"""

import datetime as dt

from .. import hosts
from ..aws import admin, seed_infrastructure
from ..aws.seed import GPU_WORKERS, MAINTENANCE_SCHEDULE, MAINTENANCE_WINDOW, PATCH_BASELINE
from . import fault

RUNBOOK_RULES = {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
    {"Key": "CLASSIFICATION", "Values": ["Security"]}, {"Key": "SEVERITY", "Values": ["Critical", "Important"]}]},
    "ApproveAfterDays": 7}]}


def _instance(sb, name: str) -> str:
    ec2 = sb.client("ec2")
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]},
                                            {"Name": "instance-state-name", "Values": ["running", "pending"]}])
    ids = [i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]]
    if not ids:
        raise RuntimeError(f"no running instance named {name}")
    return ids[0]


def _baseline_id(sb) -> str:
    found = sb.client("ssm").describe_patch_baselines(
        MaxResults=100, Filters=[{"Key": "NAME_PREFIX", "Values": [PATCH_BASELINE]}])
    return next(b["BaselineId"] for b in found["BaselineIdentities"] if b["BaselineName"] == PATCH_BASELINE)


def _window_id(sb) -> str:
    found = sb.client("ssm").describe_maintenance_windows(Filters=[{"Key": "Name", "Values": [MAINTENANCE_WINDOW]}])
    return next(w["WindowId"] for w in found["WindowIdentities"] if w["Name"] == MAINTENANCE_WINDOW)


# ---- SSM -------------------------------------------------------------------------------------------------------------
@fault("patch-baseline-drift", area="infrastructure")
class PatchBaselineDrift:
    """AI-Film-Studio-Baseline was edited by hand: it approves only Critical security updates, after 14 days."""

    def apply(self, sb):
        sb.client("ssm").update_patch_baseline(BaselineId=_baseline_id(sb), ApprovalRules={"PatchRules": [{
            "PatchFilterGroup": {"PatchFilters": [{"Key": "CLASSIFICATION", "Values": ["Security"]},
                                                  {"Key": "SEVERITY", "Values": ["Critical"]}]},
            "ApproveAfterDays": 14}]})

    def heal(self, sb):
        sb.client("ssm").update_patch_baseline(BaselineId=_baseline_id(sb), ApprovalRules=RUNBOOK_RULES)


@fault("patch-window-drift", area="infrastructure")
class PatchWindowDrift:
    """The AI-Film-Studio-Patching window was shortened to 2 hours with no cutoff."""

    def apply(self, sb):
        sb.client("ssm").update_maintenance_window(WindowId=_window_id(sb), Duration=2, Cutoff=0)

    def heal(self, sb):
        sb.client("ssm").update_maintenance_window(WindowId=_window_id(sb), Duration=4, Cutoff=1,
                                                   Schedule=MAINTENANCE_SCHEDULE)


@fault("instance-noncompliant", area="infrastructure")
class InstanceNoncompliant:
    """gpu-worker-2 misses 3 approved security patches and 1 failed to install."""

    def apply(self, sb):
        admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, GPU_WORKERS[1]), missing=3, failed=1)

    def heal(self, sb):
        admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, GPU_WORKERS[1]), clear=True)


@fault("patch-run-missed", area="infrastructure")
class PatchRunMissed:
    """gpu-worker-1 was not patched in the latest run of the maintenance window: its last patch operation ended
    six days before that run started."""

    def apply(self, sb):
        from opsproof.probes.ssm import last_start

        start = last_start(MAINTENANCE_SCHEDULE, dt.datetime.now(dt.timezone.utc))
        admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, GPU_WORKERS[0]),
                              operationEndTime=(start - dt.timedelta(days=6)).isoformat())

    def heal(self, sb):
        admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, GPU_WORKERS[0]), clear=True)


def _window_start():
    from opsproof.probes.ssm import last_start

    return last_start(MAINTENANCE_SCHEDULE, dt.datetime.now(dt.timezone.utc))


def _scan_since(sb, name: str, installed: dt.datetime) -> None:
    """The instance's latest operation is a Scan 10 minutes ago (a daily scan association); its last Install ended
    at ``installed`` (what AWS reports then: Operation Scan, the scan's end time, patches' InstalledTime)."""
    scanned = max(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10), installed + dt.timedelta(minutes=1))
    admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, name), operation="Scan",
                          operationEndTime=scanned.isoformat(), lastInstallTime=installed.isoformat())


@fault("patch-scan-after-install", area="infrastructure")
class PatchScanAfterInstall:
    """Both GPU workers were patched by the window's Install, then scanned since (a daily scan association): their
    latest patch operation is a Scan. Healthy: the patching checks must still pass (judged by the last install)."""

    def apply(self, sb):
        for name in GPU_WORKERS:
            _scan_since(sb, name, _window_start() + dt.timedelta(minutes=35))

    def heal(self, sb):
        for name in GPU_WORKERS:
            admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, name), clear=True)


@fault("patch-scan-without-install", area="infrastructure")
class PatchScanWithoutInstall:
    """gpu-worker-1 missed the window's Install (its last one ended six days before the window started) and was
    only scanned since: its latest operation, a Scan, ended after the window started."""

    def apply(self, sb):
        _scan_since(sb, GPU_WORKERS[0], _window_start() - dt.timedelta(days=6))

    def heal(self, sb):
        admin.set_patch_state(sb.endpoint_url, instance_id=_instance(sb, GPU_WORKERS[0]), clear=True)


# ---- the sandbox's hosts ---------------------------------------------------------------------------------------------
def _root(sb, name: str):
    return hosts.hosts_dir(sb) / name


HEALTHY = hosts.HostState("healthy")


@fault("reboot-pending", area="infrastructure")
class RebootPending:
    """gpu-worker-2 installed kernel 5.10.217 but was not rebooted: it still runs 5.10.215."""

    def apply(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[1]), kernels=HEALTHY.kernels + [hosts.KERNEL_NEXT])

    def heal(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[1]), kernels=HEALTHY.kernels, kernel_running=HEALTHY.kernel_running)


@fault("service-stopped", area="infrastructure")
class ServiceStopped:
    """amazon-ssm-agent is stopped on gpu-worker-1 (still enabled: it would come back at the next boot)."""

    def apply(self, sb):
        root = _root(sb, GPU_WORKERS[0])
        services = dict(hosts.read(root).services)
        services["amazon-ssm-agent"] = ["inactive", "enabled"]
        hosts.update(root, services=services)

    def heal(self, sb):
        root = _root(sb, GPU_WORKERS[0])
        services = dict(hosts.read(root).services)
        services["amazon-ssm-agent"] = ["active", "enabled"]
        hosts.update(root, services=services)


@fault("disk-nearly-full", area="infrastructure")
class DiskNearlyFull:
    """The root filesystem of gpu-worker-2 is 93% full (render scratch files left behind)."""

    def apply(self, sb):
        root = _root(sb, GPU_WORKERS[1])
        disks = dict(hosts.read(root).disks)
        size = disks["/"][0]
        disks["/"] = [size, int(size * 0.93)]
        hosts.update(root, disks=disks)

    def heal(self, sb):
        root = _root(sb, GPU_WORKERS[1])
        disks = dict(hosts.read(root).disks)
        disks["/"] = HEALTHY.disks["/"]
        hosts.update(root, disks=disks)


@fault("clock-unsynchronised", area="infrastructure")
class ClockUnsynchronised:
    """chrony on gpu-worker-1 lost its time source: leap status 'Not synchronised', 2.5 s off."""

    def apply(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[0]), clock=["Not synchronised", 2.5])

    def heal(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[0]), clock=HEALTHY.clock)


@fault("host-unreachable", area="infrastructure")
class HostUnreachable:
    """gpu-worker-2 does not answer at all (ssh: No route to host)."""

    def apply(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[1]), down="forever")

    def heal(self, sb):
        hosts.update(_root(sb, GPU_WORKERS[1]), down="0")


# ---- container images ------------------------------------------------------------------------------------------------
@fault("stale-base-image", area="infrastructure")
class StaleBaseImage:
    """The deployed backend:v1.2.0 was built 75 days ago on python:3.11.4-slim, not rebuilt on the current base."""

    def apply(self, sb):
        built = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=seed_infrastructure.PREVIOUS_BUILT_DAYS_AGO)
        admin.post(sb.endpoint_url, "ecr/image", {"repository": "backend", "tag": "v1.2.0",
                                                  "base": seed_infrastructure.PREVIOUS_BASE,
                                                  "created": built.isoformat()})

    def heal(self, sb):
        admin.post(sb.endpoint_url, "ecr/image", {"repository": "backend", "tag": "v1.2.0", "clear": True})


@fault("image-scan-incomplete", area="infrastructure")
class ImageScanIncomplete:
    """The deployed worker:v1.2.0 has no finished ECR scan (scan on push never completed)."""

    def apply(self, sb):
        admin.post(sb.endpoint_url, "ecr/findings", {"repository": "worker", "tag": "v1.2.0", "findings": None,
                                                     "baseline": True})

    def heal(self, sb):
        from ..aws.seed_security import IMAGE_FINDINGS

        admin.post(sb.endpoint_url, "ecr/findings", {"repository": "worker", "tag": "v1.2.0", "baseline": True,
                                                     "findings": IMAGE_FINDINGS["worker"]})


# ---- Terraform -------------------------------------------------------------------------------------------------------
@fault("terraform-drift", area="infrastructure")
class TerraformDrift:
    """The Terraform of prod says backend_service runs 3 tasks; what was applied runs 2 (plan: 1 to change)."""

    def apply(self, sb):
        seed_infrastructure.write_terraform(sb, seed_infrastructure.TERRAFORM_MAIN.replace(
            "desired_count = 2", "desired_count = 3", 1))

    def heal(self, sb):
        seed_infrastructure.write_terraform(sb)


OUTDATED_LOCK = '''# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "4.67.0"
  constraints = "~> 4.0"
  hashes = [
    "h1:dCRc4GqsyfqHEMjgtlM1EympBcgTmcTkWaJmtd91+KA=",
  ]
}
'''


@fault("terraform-provider-outdated", area="infrastructure")
class TerraformProviderOutdated:
    """prod's dependency lock file pins hashicorp/aws 4.67.0, outside the runbook's '~> 5.0'."""

    def apply(self, sb):
        d = seed_infrastructure.terraform_dir(sb)
        d.mkdir(parents=True, exist_ok=True)
        (d / ".terraform.lock.hcl").write_text(OUTDATED_LOCK)

    def heal(self, sb):
        (seed_infrastructure.terraform_dir(sb) / ".terraform.lock.hcl").unlink(missing_ok=True)


# ---- AWS's own limits --------------------------------------------------------------------------------------------
@fault("aws-throttling", area="infrastructure")
class AwsThrottling:
    """Every AWS API throttles at a fifth of its published rate (token buckets per API, sandbox/aws/throttle.py): at
    half, a parallel run throttled only when its workers happened to burst together."""

    def apply(self, sb):
        admin.post(sb.endpoint_url, "throttle", {"mode": "aws", "scale": 0.2, "reset_count": True})

    def heal(self, sb):
        admin.post(sb.endpoint_url, "throttle", {"mode": "off", "scale": 1.0})
