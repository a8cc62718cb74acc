"""Operating system patches through AWS Systems Manager (runbook: "Automated Patching with AWS Systems Manager":
create-patch-baseline AI-Film-Studio-Baseline, create-maintenance-window AI-Film-Studio-Patching)."""

import datetime as dt

import pytest

from opsproof.probes import ssm as probe

pytestmark = [pytest.mark.infrastructure]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_baseline_matches_runbook(env, aws, evidence):
    """The patch baseline exists, approves Security updates of Critical/Important severity after 7 days, and is the
    patch group's baseline."""
    cfg = env.infrastructure.patching
    want = cfg.baseline
    ssm = aws("ssm", "infrastructure")
    b = probe.baseline(ssm, want.name)
    assert b is not None, f"patch baseline {want.name} does not exist (infrastructure.patching.baseline.name)"
    group_baseline = probe.baseline_for_group(ssm, cfg.patch_group, want.operating_system)
    evidence.table("baseline", [{"id": b.id, "name": b.name, "operating system": b.operating_system,
                                 "patch groups": ", ".join(b.patch_groups)}])
    evidence.table("approval rules", b.rules)
    evidence.value(f"baseline of patch group {cfg.patch_group}", group_baseline)
    problems = []
    if b.operating_system != want.operating_system:
        problems.append(f"operating system {b.operating_system}, expected {want.operating_system}")
    match = [r for r in b.rules if sorted(r.classifications) == sorted(want.classifications)
             and sorted(r.severities) == sorted(want.severities) and r.approve_after_days == want.approve_after_days]
    if not match:
        shown = "; ".join(f"{'/'.join(r.classifications) or 'any'} {'/'.join(r.severities) or 'any'} after "
                          f"{r.approve_after_days} days" for r in b.rules) or "no rules"
        problems.append(f"approves {shown}, expected {'/'.join(want.classifications)} "
                        f"{'/'.join(want.severities)} after {want.approve_after_days} days")
    if group_baseline.rsplit("/", 1)[-1] != b.id:
        problems.append(f"patch group {cfg.patch_group} uses baseline {group_baseline or 'none'}, not {b.id}")
    assert not problems, f"patch baseline {want.name}: " + "; ".join(problems) \
        + " (infrastructure.patching.baseline)"


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_window_matches_runbook(env, aws, evidence):
    """The patching maintenance window is cron(0 4 ? * SUN *), 4 hours, cutoff 1 hour, enabled."""
    want = env.infrastructure.patching.window
    w = probe.window(aws("ssm", "infrastructure"), want.name)
    assert w is not None, f"maintenance window {want.name} does not exist (infrastructure.patching.window.name)"
    evidence.table("maintenance window", [w])
    problems = []
    if w.schedule.replace(" ", "") != want.schedule.replace(" ", ""):
        problems.append(f"schedule {w.schedule}, expected {want.schedule}")
    if w.duration_h != want.duration_h:
        problems.append(f"duration {w.duration_h} h, expected {want.duration_h} h")
    if w.cutoff_h != want.cutoff_h:
        problems.append(f"cutoff {w.cutoff_h} h, expected {want.cutoff_h} h")
    if not w.enabled:
        problems.append("disabled")
    assert not problems, f"maintenance window {want.name}: " + "; ".join(problems) \
        + " (infrastructure.patching.window)"


def _states(env, aws, evidence):
    cfg = env.infrastructure.patching
    states = probe.patch_group_states(aws("ssm", "infrastructure"), aws("ec2", "infrastructure"), cfg.patch_group)
    evidence.table(f"patch states of {cfg.patch_group}", states)
    assert len(states) >= cfg.min_instances, (
        f"patch group {cfg.patch_group} has {len(states)} managed instance(s), fewer than "
        f"infrastructure.patching.min_instances={cfg.min_instances}")
    return states


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_patch_group_instances_compliant(env, aws, evidence):
    """Every instance in the GPU worker patch group is compliant: no missing or failed security patches (nor one
    waiting for a reboot), and its SSM agent reports."""
    cfg = env.infrastructure.patching
    states = _states(env, aws, evidence)
    bad = []
    for s in states:
        why = []
        if s.missing:
            why.append(f"{s.missing} missing")
        if s.failed:
            why.append(f"{s.failed} failed")
        if s.pending_reboot and cfg.pending_reboot_fails:
            why.append(f"{s.pending_reboot} installed pending reboot")
        if s.ping != "Online":
            why.append(f"SSM agent {s.ping}")
        if why:
            bad.append(f"{s.name} ({s.instance_id}): {', '.join(why)}")
    assert not bad, f"patch group {cfg.patch_group} not compliant: " + "; ".join(bad) \
        + " (baseline: infrastructure.patching.baseline)"


@pytest.mark.post_maintenance
def test_patch_group_patched_in_last_window(env, aws, evidence):
    """After a window, every instance's last Install ended after the window's latest start (a Scan since, e.g. a
    daily scan association, is not an install and does not hide one)."""
    cfg = env.infrastructure.patching
    started = probe.last_start(cfg.window.schedule, dt.datetime.now(dt.timezone.utc))
    evidence.value("latest window start", started.isoformat(timespec="minutes"))
    states = _states(env, aws, evidence)
    bad = [f"{s.name} ({s.instance_id}): last Install ended {s.last_install or 'never'}"
           + (f" (latest operation: {s.operation} ended {s.operation_end})" if s.operation != "Install" else "")
           for s in states if not s.patched_since(started)]
    assert not bad, (f"not patched in the window that started {started:%Y-%m-%d %H:%M} UTC "
                     f"(infrastructure.patching.window.schedule={cfg.window.schedule}): " + "; ".join(bad))
