"""The infrastructure rules on hand-built facts: the SSM baseline, window and patch states, each host's kernel,
services, disks and clock, the deployed images and the Terraform plans and versions. One test per way to fail; no
sandbox."""

import pytest

from opsproof import findings
from opsproof.config.hosts import Hosts
from opsproof.config.infrastructure import Patching, Terraform
from opsproof.probes.hosts import Clock, Disk, Kernel, Service
from opsproof.probes.ssm import Baseline, PatchState, Rule, Window, utc
from opsproof.probes.terraform import Plan, Versions
from opsproof.rules import infrastructure as rules

HOST = "ssh://gpu-worker-1"


def alarms(found) -> list[str]:
    return [f.line() for f in findings.failing(found)]


def only_alarm(found) -> str:
    bad = alarms(found)
    assert len(bad) == 1, bad
    return bad[0]


# ---- the patch baseline ----------------------------------------------------------------------------------------------
GOOD_RULE = Rule(["Security"], ["Critical", "Important"], 7)


def baseline(**kw) -> Baseline:
    return Baseline(**{**dict(id="pb-1", name="AI-Film-Studio-Baseline", operating_system="AMAZON_LINUX_2",
                              rules=[GOOD_RULE], patch_groups=["gpu-workers"]), **kw})


def test_a_baseline_as_the_runbook_says_has_no_alarm():
    found = rules.patch_baseline(baseline(), "arn:aws:ssm:us-east-1:1:patchbaseline/pb-1", Patching())
    assert not alarms(found) and len(found) == 3


def test_severities_in_another_order_are_the_same_rule():
    b = baseline(rules=[Rule(["Security"], ["Important", "Critical"], 7)])
    assert not alarms(rules.patch_baseline(b, "pb-1", Patching()))


@pytest.mark.parametrize("b, group, expected", [
    (None, "", "patch baseline AI-Film-Studio-Baseline: does not exist (infrastructure.patching.baseline.name)"),
    (baseline(operating_system="UBUNTU"), "pb-1", "operating system UBUNTU, expected AMAZON_LINUX_2"),
    (baseline(rules=[Rule(["Security"], ["Critical"], 14)]), "pb-1",
     "approves Security Critical after 14 days, expected Security Critical/Important after 7 days "
     "(infrastructure.patching.baseline)"),
    (baseline(rules=[]), "pb-1", "approves no rules, expected"),
    (baseline(rules=[Rule(["Security", "Bugfix"], ["Critical", "Important"], 7)]), "pb-1", "approves "
     "Security/Bugfix Critical/Important after 7 days"),
    (baseline(), "pb-other", "patch group gpu-workers: uses baseline pb-other, not pb-1"),
    (baseline(), "", "patch group gpu-workers: uses baseline none, not pb-1"),
], ids=["missing", "operating system", "severities and days", "no rules", "classifications", "other baseline",
        "no group baseline"])
def test_each_way_the_baseline_is_wrong_is_one_alarm(b, group, expected):
    assert expected in only_alarm(rules.patch_baseline(b, group, Patching()))


# ---- the maintenance window ------------------------------------------------------------------------------------------
def window(**kw) -> Window:
    return Window(**{**dict(id="mw-1", name="AI-Film-Studio-Patching", schedule="cron(0 4 ? * SUN *)",
                            duration_h=4, cutoff_h=1, enabled=True), **kw})


def test_the_runbook_window_has_no_alarm_and_spaces_in_the_schedule_do_not_count():
    assert not alarms(rules.patch_window(window(schedule="cron(0 4 ? * SUN *) "), Patching()))


@pytest.mark.parametrize("w, expected", [
    (None, "maintenance window AI-Film-Studio-Patching: does not exist (infrastructure.patching.window.name)"),
    (window(schedule="cron(0 2 ? * SAT *)"), "schedule cron(0 2 ? * SAT *), expected cron(0 4 ? * SUN *) "
                                             "(infrastructure.patching.window.schedule)"),
    (window(duration_h=2), "duration 2 h, expected 4 h (infrastructure.patching.window.duration_h)"),
    (window(cutoff_h=0), "cutoff 0 h, expected 1 h (infrastructure.patching.window.cutoff_h)"),
    (window(enabled=False), "AI-Film-Studio-Patching: disabled; fix: aws ssm update-maintenance-window"),
], ids=["missing", "schedule", "duration", "cutoff", "disabled"])
def test_each_way_the_window_is_wrong_is_one_alarm(w, expected):
    assert expected in only_alarm(rules.patch_window(w, Patching()))


# ---- the patch group's instances -------------------------------------------------------------------------------------
def state(name="gpu-worker-1", **kw) -> PatchState:
    base = dict(instance_id=f"i-{name[-1]}", name=name, ping="Online", missing=0, failed=0, pending_reboot=0,
                installed=400, security_noncompliant=0, critical_noncompliant=0, operation="Install",
                operation_end="2026-01-11T04:40:00+00:00", baseline_id="pb-1",
                last_install="2026-01-11T04:40:00+00:00")
    return PatchState(**{**base, **kw})


def test_compliant_instances_each_have_an_ok_finding():
    found = rules.patch_compliance([state(), state("gpu-worker-2")], Patching())
    assert not alarms(found)
    assert {f.subject for f in found} == {"patch group gpu-workers", "gpu-worker-1 (i-1)", "gpu-worker-2 (i-2)"}


@pytest.mark.parametrize("s, expected", [
    (state(missing=3), "3 missing"),
    (state(failed=1), "1 failed"),
    (state(pending_reboot=2), "2 installed pending reboot"),
    (state(ping="ConnectionLost"), "SSM agent ConnectionLost"),
    (state(ping="not reporting"), "SSM agent not reporting"),
], ids=["missing", "failed", "pending reboot", "agent lost", "agent not reporting"])
def test_each_way_an_instance_is_not_compliant(s, expected):
    line = only_alarm(rules.patch_compliance([s, state("gpu-worker-2")], Patching()))
    assert line.startswith("gpu-worker-1 (i-1): not compliant in patch group gpu-workers") and expected in line
    assert "gpu-worker-2" not in line


def test_every_reason_of_one_instance_is_in_its_one_alarm():
    line = only_alarm(rules.patch_compliance([state(missing=3, failed=1)], Patching()))
    assert "3 missing, 1 failed" in line


def test_a_pending_reboot_passes_when_configured_so():
    assert not alarms(rules.patch_compliance([state(pending_reboot=2)], Patching(pending_reboot_fails=False)))


@pytest.mark.parametrize("rule", [rules.patch_compliance,
                                  lambda s, p: rules.patched_in_window(s, utc(2026, 1, 11, 4), p)])
def test_too_few_instances_in_the_group_is_an_alarm(rule):
    line = only_alarm(rule([], Patching()))
    assert "patch group gpu-workers: has 0 managed instance(s), fewer than 1 (infrastructure.patching.min_instances)" \
        == line
    assert not alarms(rule([], Patching(min_instances=0)))


WINDOW_START = utc(2026, 1, 11, 4)


def test_an_install_after_the_window_started_passes_even_when_a_scan_followed():
    s = state(operation="Scan", operation_end="2026-01-11T09:00:00+00:00")
    assert not alarms(rules.patched_in_window([s], WINDOW_START, Patching()))


def test_an_install_exactly_at_the_start_counts():
    assert not alarms(rules.patched_in_window([state(last_install="2026-01-11T04:00:00+00:00")], WINDOW_START,
                                              Patching()))


@pytest.mark.parametrize("s, expected", [
    (state(last_install="2026-01-04T04:30:00+00:00", operation_end="2026-01-04T04:30:00+00:00"),
     "last Install ended 2026-01-04T04:30:00+00:00"),
    (state(last_install="", operation="Scan", operation_end="2026-01-11T09:00:00+00:00"),
     "last Install ended never (latest operation: Scan ended 2026-01-11T09:00:00+00:00)"),
], ids=["before the window", "never, a scan since"])
def test_an_instance_not_patched_in_the_window(s, expected):
    line = only_alarm(rules.patched_in_window([s], WINDOW_START, Patching()))
    assert line.startswith("gpu-worker-1 (i-1): not patched in the window that started 2026-01-11 04:00 UTC "
                           "(cron(0 4 ? * SUN *))") and expected in line
    assert "(infrastructure.patching.window.schedule)" in line and "patch-hosts" in line


# ---- the hosts -------------------------------------------------------------------------------------------------------
def test_the_newest_kernel_running_passes():
    assert not alarms(rules.kernel(Kernel(HOST, "5.10.217", ["5.10.215", "5.10.217"], "5.10.217", "rpm")))


def test_an_older_kernel_running_is_a_pending_reboot():
    line = only_alarm(rules.kernel(Kernel(HOST, "5.10.215", ["5.10.215", "5.10.217"], "5.10.217", "rpm")))
    assert line.startswith(f"{HOST}: reboot pending: runs kernel 5.10.215, newest installed is 5.10.217")
    assert "python -m actions patch-hosts --apply" in line


def test_the_reboot_required_file_is_a_pending_reboot_at_the_newest_kernel():
    line = only_alarm(rules.kernel(Kernel(HOST, "6.1.0", ["6.1.0"], "6.1.0", "dpkg", reboot_required_file=True)))
    assert "(/var/run/reboot-required exists)" in line


@pytest.mark.parametrize("svc, expected", [
    (Service(HOST, "amazon-ssm-agent", False, True), "amazon-ssm-agent on ssh://gpu-worker-1: NOT running, enabled "
                                                     "(hosts.services); fix: systemctl enable --now amazon-ssm-agent"),
    (Service(HOST, "chronyd", True, False), "chronyd on ssh://gpu-worker-1: running, NOT enabled"),
    (Service(HOST, "docker", None, None, "not found"), "docker on ssh://gpu-worker-1: not found (hosts.services)"),
], ids=["stopped", "not enabled", "not installed"])
def test_each_way_a_service_is_wrong(svc, expected):
    found = rules.services([Service(HOST, "sshd", True, True), svc], Hosts())
    assert expected in only_alarm(found) and found[0].status == "ok"


def disk(mount="/", pct=50) -> Disk:
    return Disk(HOST, mount, 100.0, float(pct), pct)


def test_a_disk_at_the_limit_passes_and_one_above_fails():
    h = Hosts(disk_max_percent=85)
    assert not alarms(rules.disks(HOST, [disk(pct=85)], [], h))
    line = only_alarm(rules.disks(HOST, [disk(pct=93), disk("/data", 10)], [], h))
    assert line == ("/ on ssh://gpu-worker-1: 93% used (93 of 100 GiB), over 85% (hosts.disk_max_percent); fix: free "
                    "space or grow the volume (runbook: Manual Patching)")


def test_a_watched_mount_that_is_not_there_fails():
    assert only_alarm(rules.disks(HOST, [disk()], ["/data"], Hosts())) == \
        "/data on ssh://gpu-worker-1: not found (hosts.disk_mounts)"


def test_a_synchronised_clock_within_the_offset_passes():
    assert not alarms(rules.clock(Clock(HOST, True, 100.0, "chrony", "leap status Normal"),
                                  Hosts(clock_max_offset_ms=100)))
    assert not alarms(rules.clock(Clock(HOST, True, None, "timedatectl"), Hosts()))


def test_an_unsynchronised_clock_fails():
    line = only_alarm(rules.clock(Clock(HOST, False, None, "chrony", "leap status Not synchronised"), Hosts()))
    assert line.startswith(f"{HOST}: clock not synchronised (chrony: leap status Not synchronised)")


def test_a_clock_off_by_more_than_the_limit_fails():
    line = only_alarm(rules.clock(Clock(HOST, True, 250.5, "chrony"), Hosts(clock_max_offset_ms=100)))
    assert "clock off by 250.5 ms, over 100 ms (hosts.clock_max_offset_ms)" in line


def test_nothing_listening_on_the_database_port_fails():
    assert not alarms(rules.listening("local", "tcp://127.0.0.1:5432", True))
    assert "nothing listens on tcp://127.0.0.1:5432 on local" in only_alarm(
        rules.listening("local", "tcp://127.0.0.1:5432", False))


# ---- Terraform -------------------------------------------------------------------------------------------------------
def test_a_plan_without_changes_passes():
    assert not alarms(rules.terraform_plans([Plan("terraform/prod", 0, "No changes.")]))


def test_a_plan_with_changes_is_drift_naming_the_resources():
    p = Plan("terraform/prod", 2, "Plan: 0 to add, 1 to change, 0 to destroy.",
             ["terraform_data.backend_service will be updated in-place"])
    line = only_alarm(rules.terraform_plans([p, Plan("terraform/dr", 0, "No changes.")]))
    assert line.startswith("terraform/prod: drift: Plan: 0 to add, 1 to change, 0 to destroy. "
                           "(terraform_data.backend_service will be updated in-place)")


def test_a_plan_that_failed_is_an_alarm():
    line = only_alarm(rules.terraform_plans([Plan("terraform/prod", 1, "", error="no such directory x")]))
    assert line == "terraform/prod: plan failed: no such directory x (infrastructure.terraform.directories)"


TF = Terraform(versions={"terraform": ">= 1.6.0", "hashicorp/aws": "~> 5.0"})


def test_versions_within_the_constraints_pass_and_unconstrained_providers_are_listed():
    v = Versions("prod", "1.7.5", {"registry.terraform.io/hashicorp/aws": "5.40.0",
                                   "registry.terraform.io/hashicorp/random": "3.6.0"})
    found = rules.terraform_versions({"prod": v}, TF)
    assert not alarms(found) and len(found) == 3


@pytest.mark.parametrize("v, expected", [
    (Versions("prod", "1.7.5", {"registry.terraform.io/hashicorp/aws": "4.67.0"}),
     "prod: hashicorp/aws 4.67.0 is outside '~> 5.0' (infrastructure.terraform.versions)"),
    (Versions("prod", "1.5.7", {}), "prod: terraform 1.5.7 is outside '>= 1.6.0'"),
    (None, "prod: no such directory (infrastructure.terraform.directories)"),
], ids=["provider", "cli", "no directory"])
def test_each_way_a_version_is_outside(v, expected):
    assert expected in only_alarm(rules.terraform_versions({"prod": v}, TF))
