"""Hosts after patching (runbook: "Manual Patching": update, "reboot if kernel updated", "verify instance returns
healthy"), through pytest-testinfra: each check runs once per host of [hosts] specs (or --hosts, or an Ansible
inventory), in parallel with pytest -n. A host that does not answer fails its checks with one line, fast."""

import pytest

from opsproof import findings
from opsproof.probes import hosts
from opsproof.rules import infrastructure as rules

pytestmark = [pytest.mark.infrastructure]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_running_kernel_is_newest_installed(env, host, evidence):
    """The running kernel is the newest installed one: no reboot is pending after a kernel update."""
    k = hosts.kernel(host, env.hosts.command_timeout_s)
    evidence.value("newest installed kernel", f"{k.newest} (from {k.source})")
    evidence.table("installed kernels", [{"kernel": v} for v in k.installed])
    findings.expect_no_alarm(rules.kernel(k), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_required_services_running_and_enabled(env, host, evidence):
    """Every required service (hosts.services) is running and enabled."""
    found = hosts.services(host, env.hosts.services, env.hosts.command_timeout_s)
    findings.expect_no_alarm(rules.services(found, env.hosts), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_disk_usage_under_threshold(env, host, evidence):
    """Every watched mount point (hosts.disk_mounts) is used below hosts.disk_max_percent."""
    found, missing = hosts.disks(host, env.hosts.disk_mounts, env.hosts.command_timeout_s)
    evidence.table("disk usage", found)
    findings.expect_no_alarm(rules.disks(hosts.name(host), found, missing, env.hosts), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_clock_synchronised(env, host, evidence):
    """The clock is synchronised (chrony or systemd-timesyncd) and off by at most hosts.clock_max_offset_ms."""
    c = hosts.clock(host, env.hosts.command_timeout_s)
    evidence.table("clock", [c])
    findings.expect_no_alarm(rules.clock(c, env.hosts), evidence)
