"""The sandbox's own hosts (sandbox/hosts.py) through pytest-testinfra, and the host probes on them: real chroot'ed
shells answering testinfra's own modules; unreachable and hanging hosts fail with one line, within their bound."""

import os
import time

import pytest
import testinfra

from opsproof.errors import TargetUnreachable
from opsproof.probes import hosts as probe
from sandbox import hosts

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's hosts need chroot (root)")


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    root = tmp_path / "hosts"
    for name in ("h1", "h2"):
        hosts.build(root / name, hosts.HostState(name))
    monkeypatch.setenv(hosts.ROOTS_ENV, str(root))
    probe.register_backends()
    yield root
    probe.forget_unreachable()


def get(name: str, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return testinfra.get_host(f"sandbox://{name}" + (f"?{q}" if q else ""))


def test_a_sandbox_host_answers_testinfra_like_an_amazon_linux_host(fleet):
    h = get("h1")
    assert h.backend.get_pytest_id() == "sandbox://h1"
    assert h.system_info.type == "linux" and h.system_info.distribution == "amzn"
    assert h.service("sshd").is_running and h.service("sshd").is_enabled
    assert "Amazon Linux 2" in h.file("/etc/os-release").content_string
    assert h.check_output("uname -r") == hosts.KERNEL_CURRENT
    assert not h.exists("dpkg-query") and h.exists("rpm")


def test_probes_read_a_healthy_host(fleet):
    h = get("h1")
    k = probe.kernel(h, 10)
    assert (k.running, k.newest, k.source, k.reboot_pending) == (hosts.KERNEL_CURRENT, hosts.KERNEL_CURRENT, "rpm",
                                                                  False)
    assert [s.ok for s in probe.services(h, ["sshd", "chronyd"], 10)] == [True, True]
    found, missing = probe.disks(h, ["/", "/data", "/nope"], 10)
    assert [(d.mount, d.used_percent) for d in found] == [("/", 40), ("/data", 55)] and missing == ["/nope"]
    c = probe.clock(h, 10)
    assert c.synchronised and c.offset_ms == pytest.approx(0.012) and c.source == "chrony"
    assert probe.pending_updates(h, 10) == []


def test_probes_see_what_a_host_reports(fleet):
    hosts.update(fleet / "h2", kernels=[hosts.KERNEL_CURRENT, hosts.KERNEL_NEXT],
                 services={"sshd": ["failed", "enabled"], "chronyd": ["active", "disabled"]},
                 clock=["Not synchronised", 1.5], updates=[["kernel", hosts.KERNEL_NEXT]])
    h = get("h2")
    k = probe.kernel(h, 10)
    assert k.reboot_pending and k.newest == hosts.KERNEL_NEXT
    states = {s.name: s.state for s in probe.services(h, ["sshd", "chronyd", "nosuch"], 10)}
    assert states == {"sshd": "NOT running, enabled", "chronyd": "running, NOT enabled", "nosuch": "not found"}
    c = probe.clock(h, 10)
    assert not c.synchronised and c.offset_ms == 1500 and "Not synchronised" in c.detail
    assert probe.pending_updates(h, 10) == [probe.Update("kernel", hosts.KERNEL_NEXT)]


def test_kernel_versions_compare_as_numbers():
    assert probe.version_key("5.10.215-203.850.amzn2.x86_64") > probe.version_key("5.10.99-1.amzn2.x86_64")


def test_an_unreachable_host_is_one_line_fast_and_remembered(fleet):
    hosts.update(fleet / "h2", down="forever")
    h = get("h2")
    t0 = time.monotonic()
    with pytest.raises(TargetUnreachable) as e:
        probe.kernel(h, 10)
    assert str(e.value) == "host sandbox://h2: unreachable: ssh: connect to host h2 port 22: No route to host"
    hosts.update(fleet / "h2", down="0")
    with pytest.raises(TargetUnreachable):  # remembered: the host's other checks do not wait again
        probe.clock(h, 10)
    assert time.monotonic() - t0 < 2
    assert probe.reachable(h, 10)  # an action waiting for it looks again


def test_a_host_that_does_not_exist_is_unreachable(fleet):
    with pytest.raises(TargetUnreachable, match=r"sandbox://nosuch: unreachable: sandbox host nosuch: no such host"):
        probe.disks(get("nosuch"), ["/"], 10)


def test_a_hanging_host_fails_within_its_bound(fleet):
    os.mkfifo(fleet / "h1" / hosts.STATE / "hang")  # reading a FIFO nobody writes blocks forever
    (fleet / "h1" / "usr/bin/uname").write_text(f"#!/{hosts.SHELL}\nread x < /{hosts.STATE}/hang\n")
    t0 = time.monotonic()
    with pytest.raises(TargetUnreachable, match=r"no answer within 1s"):
        probe.kernel(get("h1", timeout=1), 30)  # the backend's own bound (?timeout=1)
    probe.forget_unreachable()
    with pytest.raises(TargetUnreachable, match=r"no answer within 0.5s \(kernel; hosts.command_timeout_s\)"):
        probe.kernel(get("h1", timeout=30), 0.5)  # the probe's deadline
    assert time.monotonic() - t0 < 5


def test_a_reboot_runs_the_newest_kernel_after_refusing_connections(fleet):
    hosts.update(fleet / "h1", updates=[["kernel", hosts.KERNEL_NEXT]])
    h = get("h1")
    assert "kernel" in h.check_output("yum -y update")
    assert probe.kernel(h, 10).reboot_pending
    assert h.run("reboot").rc == 0
    assert [h.run("true").rc for _ in range(3)] == [255, 255, 0]
    assert probe.kernel(h, 10).running == hosts.KERNEL_NEXT
