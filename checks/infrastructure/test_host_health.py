"""Hosts after patching (runbook: "Manual Patching": update, "reboot if kernel updated", "verify instance returns
healthy"), through pytest-testinfra: each check runs once per host of [hosts] specs (or --hosts, or an Ansible
inventory), in parallel with pytest -n. A host that does not answer fails its checks with one line, fast."""

import pytest

from opsproof.probes import hosts

pytestmark = [pytest.mark.infrastructure]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_running_kernel_is_newest_installed(env, host, evidence):
    """The running kernel is the newest installed one: no reboot is pending after a kernel update."""
    k = hosts.kernel(host, env.hosts.command_timeout_s)
    evidence.value("host", k.host)
    evidence.value("running kernel", k.running)
    evidence.value("newest installed kernel", f"{k.newest} (from {k.source})")
    evidence.table("installed kernels", [{"kernel": v} for v in k.installed])
    assert not k.reboot_pending, (
        f"{k.host}: reboot pending: runs kernel {k.running}, newest installed is {k.newest}"
        + (" (/var/run/reboot-required exists)" if k.reboot_required_file else "")
        + ". Reboot it inside a window: python -m actions patch-hosts --apply")


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_required_services_running_and_enabled(env, host, evidence):
    """Every required service (hosts.services) is running and enabled."""
    found = hosts.services(host, env.hosts.services, env.hosts.command_timeout_s)
    evidence.table("services", [{"host": s.host, "service": s.name, "state": s.state} for s in found])
    bad = [s for s in found if not s.ok]
    assert not bad, (f"{hosts.name(host)}: " + "; ".join(f"{s.name} {s.state}" for s in bad)
                     + " (required: hosts.services)")


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_disk_usage_under_threshold(env, host, evidence):
    """Every watched mount point (hosts.disk_mounts) is used below hosts.disk_max_percent."""
    limit = env.hosts.disk_max_percent
    found, missing = hosts.disks(host, env.hosts.disk_mounts, env.hosts.command_timeout_s)
    evidence.table("disk usage", found)
    full = [d for d in found if d.used_percent > limit]
    problems = [f"{d.mount} {d.used_percent}% used ({d.used_gb:g} of {d.size_gb:g} GiB)" for d in full]
    problems += [f"{m} not found" for m in missing]
    assert not problems, (f"{hosts.name(host)}: " + "; ".join(problems)
                          + f" (limit: hosts.disk_max_percent={limit:g}%)")


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_clock_synchronised(env, host, evidence):
    """The clock is synchronised (chrony or systemd-timesyncd) and off by at most hosts.clock_max_offset_ms."""
    limit = env.hosts.clock_max_offset_ms
    c = hosts.clock(host, env.hosts.command_timeout_s)
    evidence.table("clock", [c])
    assert c.synchronised, f"{c.host}: clock not synchronised ({c.source}: {c.detail})"
    assert c.offset_ms is None or c.offset_ms <= limit, (
        f"{c.host}: clock off by {c.offset_ms:g} ms (limit: hosts.clock_max_offset_ms={limit:g})")
