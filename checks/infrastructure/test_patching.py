"""Operating system patches through AWS Systems Manager (runbook: "Automated Patching with AWS Systems Manager":
create-patch-baseline AI-Film-Studio-Baseline, create-maintenance-window AI-Film-Studio-Patching)."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import ssm as probe
from opsproof.rules import infrastructure as rules

pytestmark = [pytest.mark.infrastructure]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_baseline_matches_runbook(env, aws, evidence):
    """The patch baseline exists, approves Security updates of Critical/Important severity after 7 days, and is the
    patch group's baseline."""
    cfg = env.infrastructure.patching
    ssm = aws("ssm", "infrastructure")
    b = probe.baseline(ssm, cfg.baseline.name)
    group_baseline = probe.baseline_for_group(ssm, cfg.patch_group, cfg.baseline.operating_system) if b else ""
    if b:
        evidence.table("baseline", [{"id": b.id, "name": b.name, "operating system": b.operating_system,
                                     "patch groups": ", ".join(b.patch_groups)}])
        evidence.table("approval rules", b.rules)
        evidence.value(f"baseline of patch group {cfg.patch_group}", group_baseline)
    findings.expect_no_alarm(rules.patch_baseline(b, group_baseline, cfg), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_window_matches_runbook(env, aws, evidence):
    """The patching maintenance window is cron(0 4 ? * SUN *), 4 hours, cutoff 1 hour, enabled."""
    cfg = env.infrastructure.patching
    w = probe.window(aws("ssm", "infrastructure"), cfg.window.name)
    evidence.table("maintenance window", [w] if w else [])
    findings.expect_no_alarm(rules.patch_window(w, cfg), evidence)


def _states(env, aws, evidence):
    cfg = env.infrastructure.patching
    states = probe.patch_group_states(aws("ssm", "infrastructure"), aws("ec2", "infrastructure"), cfg.patch_group)
    evidence.table(f"patch states of {cfg.patch_group}", states)
    return states


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_group_instances_compliant(env, aws, evidence):
    """Every instance in the GPU worker patch group is compliant: no missing or failed security patches (nor one
    waiting for a reboot), and its SSM agent reports."""
    findings.expect_no_alarm(rules.patch_compliance(_states(env, aws, evidence), env.infrastructure.patching),
                             evidence)


@pytest.mark.post_maintenance
def test_patch_group_patched_in_last_window(env, aws, evidence):
    """After a window, every instance's last Install ended after the window's latest start (a Scan since, e.g. a
    daily scan association, is not an install and does not hide one)."""
    cfg = env.infrastructure.patching
    started = probe.last_start(cfg.window.schedule, dt.datetime.now(dt.timezone.utc))
    evidence.value("latest window start", started.isoformat(timespec="minutes"))
    findings.expect_no_alarm(rules.patched_in_window(_states(env, aws, evidence), started, cfg), evidence)
