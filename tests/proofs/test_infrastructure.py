"""Proofs of the infrastructure checks: each passes on the healthy sandbox and fails under its fault, naming the
baseline, window, instance, host, image or Terraform directory. (test_database_port_is_listening's proof is in
test_foundation.py.)"""

import shutil

import pytest

from sandbox import faults

faults.all_faults()  # imported before pytester's sys.modules snapshot: a fault module imports numpy, which cannot be
#                      imported twice in one process (tests/conftest.py's sandbox fixture should do this)

HOSTS = "checks/infrastructure/test_host_health.py"
PATCHING = "checks/infrastructure/test_patching.py"
IMAGES = "checks/infrastructure/test_images.py"
TERRAFORM = "checks/infrastructure/test_terraform.py"
HOST_CHECKS = ("test_running_kernel_is_newest_installed", "test_required_services_running_and_enabled",
               "test_disk_usage_under_threshold", "test_clock_synchronised")


def _outcomes(run, check):
    return {c["nodeid"].split("[")[-1].rstrip("]"): c for c in run.record["checks"]
            if c["nodeid"].split("::")[-1].startswith(check + "[")}


# ---- SSM patching ----------------------------------------------------------------------------------------------------
def test_patch_baseline_matches_runbook(healthy, broken):
    healthy.assert_passed("test_patch_baseline_matches_runbook")
    run = broken("patch-baseline-drift", PATCHING)
    run.assert_failed("test_patch_baseline_matches_runbook", "AI-Film-Studio-Baseline",
                      "approves Security Critical after 14 days", "expected Security Critical/Important after 7 days",
                      "infrastructure.patching.baseline")


def test_patch_window_matches_runbook(healthy, broken):
    healthy.assert_passed("test_patch_window_matches_runbook")
    run = broken("patch-window-drift", PATCHING)
    run.assert_failed("test_patch_window_matches_runbook", "AI-Film-Studio-Patching", "duration 2 h, expected 4 h",
                      "cutoff 0 h, expected 1 h")


def test_patch_group_instances_compliant(healthy, broken):
    healthy.assert_passed("test_patch_group_instances_compliant")
    run = broken("instance-noncompliant", PATCHING)
    msg = run.assert_failed("test_patch_group_instances_compliant", "gpu-workers", "gpu-worker-2 (i-", "3 missing",
                            "1 failed")
    assert "gpu-worker-1" not in msg


def test_patch_group_patched_in_last_window(healthy, broken):
    healthy.assert_passed("test_patch_group_patched_in_last_window")
    run = broken("patch-run-missed", PATCHING)
    msg = run.assert_failed("test_patch_group_patched_in_last_window", "not patched in the window that started",
                            "gpu-worker-1 (i-", "cron(0 4 ? * SUN *)")
    assert "gpu-worker-2" not in msg


def test_patch_group_patched_in_last_window_scanned_since(broken):
    """A Scan after the window's Install (Operation Scan, its own end time) is judged by the last install time."""
    run = broken("patch-scan-after-install", PATCHING)
    run.assert_passed("test_patch_group_patched_in_last_window")
    run.assert_passed("test_patch_group_instances_compliant")


def test_patch_group_patched_in_last_window_scan_is_not_install(broken):
    run = broken("patch-scan-without-install", PATCHING)
    msg = run.assert_failed("test_patch_group_patched_in_last_window", "gpu-worker-1 (i-", "last Install ended",
                            "latest operation: Scan")
    assert "gpu-worker-2" not in msg
    run.assert_passed("test_patch_group_instances_compliant")


# ---- the hosts -------------------------------------------------------------------------------------------------------
def test_running_kernel_is_newest_installed(healthy, broken):
    healthy.assert_passed("test_running_kernel_is_newest_installed")
    run = broken("reboot-pending", HOSTS)
    run.assert_failed("test_running_kernel_is_newest_installed", "sandbox://gpu-worker-2", "reboot pending",
                      "runs kernel 5.10.215-203.850.amzn2.x86_64", "newest installed is 5.10.217-205.860.amzn2.x86_64")
    assert _outcomes(run, "test_running_kernel_is_newest_installed")["sandbox://gpu-worker-1"]["outcome"] == "passed"


def test_required_services_running_and_enabled(healthy, broken):
    healthy.assert_passed("test_required_services_running_and_enabled")
    run = broken("service-stopped", HOSTS)
    run.assert_failed("test_required_services_running_and_enabled",
                      "amazon-ssm-agent on sandbox://gpu-worker-1: NOT running", "hosts.services")
    assert _outcomes(run, "test_required_services_running_and_enabled")["sandbox://gpu-worker-2"]["outcome"] \
        == "passed"


def test_disk_usage_under_threshold(healthy, broken):
    healthy.assert_passed("test_disk_usage_under_threshold")
    run = broken("disk-nearly-full", HOSTS)
    msg = run.assert_failed("test_disk_usage_under_threshold", "/ on sandbox://gpu-worker-2: 93% used",
                            "over 85% (hosts.disk_max_percent)")
    assert "/data" not in msg


def test_clock_synchronised(healthy, broken):
    healthy.assert_passed("test_clock_synchronised")
    run = broken("clock-unsynchronised", HOSTS)
    run.assert_failed("test_clock_synchronised", "sandbox://gpu-worker-1", "clock not synchronised",
                      "Not synchronised")


def test_an_unreachable_host_fails_its_checks_with_one_line_fast(broken):
    run = broken("host-unreachable", HOSTS)
    for check in HOST_CHECKS:
        by_host = _outcomes(run, check)
        down, up = by_host["sandbox://gpu-worker-2"], by_host["sandbox://gpu-worker-1"]
        assert up["outcome"] == "passed", (check, up)
        assert down["outcome"] == "failed", (check, down)
        assert down["message"].startswith("TargetUnreachable: host sandbox://gpu-worker-2: unreachable"), down
        assert "\n" not in down["message"] and "Traceback" not in run.output
        assert down["duration_s"] < 2, down


# ---- images ----------------------------------------------------------------------------------------------------------
def test_deployed_images_rebuilt_on_current_base(healthy, broken):
    healthy.assert_passed("test_deployed_images_rebuilt_on_current_base")
    run = broken("stale-base-image", IMAGES)
    msg = run.assert_failed("test_deployed_images_rebuilt_on_current_base", "backend:v1.2.0: built 75",
                            "over 30 (infrastructure.images.max_age_days)", "built on python:3.11.4-slim",
                            "not python:3.11.8-slim")
    assert "worker:v1.2.0" not in msg


def test_deployed_images_scanned(healthy, broken):
    healthy.assert_passed("test_deployed_images_scanned")
    run = broken("image-scan-incomplete", IMAGES)
    msg = run.assert_failed("test_deployed_images_scanned", "worker:v1.2.0", "NOT_SCANNED")
    assert "backend:v1.2.0" not in msg


def test_deployed_images_scanned_enhanced_scanning(broken):
    """Enhanced scanning's ACTIVE (continuous) status is a finished scan."""
    run = broken("image-enhanced-scanning", IMAGES)
    run.assert_passed("test_deployed_images_scanned")
    rows = [r for e in run.evidence("test_deployed_images_scanned") if e["title"] == "scans" for r in e["payload"]]
    assert {r["scan"] for r in rows} == {"ACTIVE"}, rows


# ---- Terraform -------------------------------------------------------------------------------------------------------
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None,
                                     reason="terraform is not installed (the checks skip: when_missing = skip); "
                                            "the missing case is proven in tests/unit/test_infrastructure_terraform.py")


@needs_terraform
def test_terraform_plan_has_no_drift(healthy, broken):
    healthy.assert_passed("test_terraform_plan_has_no_drift")
    run = broken("terraform-drift", TERRAFORM)
    run.assert_failed("test_terraform_plan_has_no_drift", "terraform/prod", "drift",
                      "Plan: 0 to add, 1 to change, 0 to destroy", "terraform_data.backend_service will be updated")
    plan = [e for e in run.evidence("test_terraform_plan_has_no_drift") if e["kind"] == "text"]
    assert plan and "desired_count" in plan[0]["payload"]


@needs_terraform
def test_terraform_versions_within_constraints(healthy, broken):
    healthy.assert_passed("test_terraform_versions_within_constraints")
    run = broken("terraform-provider-outdated", TERRAFORM)
    run.assert_failed("test_terraform_versions_within_constraints", "hashicorp/aws 4.67.0 is outside '~> 5.0'",
                      "infrastructure.terraform.versions")
