"""The patch-hosts action on a fleet of the sandbox's own hosts: a plan without --apply changes nothing; with --apply
it updates, reboots only when the kernel changed and only inside a window (or with --outside-window), and waits
until the host is back healthy, bounded."""

import datetime as dt
import os

import pytest

import actions
from actions import StepFailed
from opsproof import config
from opsproof.config.window import Schedule
from opsproof.probes import hosts as probe
from sandbox import hosts

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's hosts need chroot (root)")
SANDBOX_ENV = os.environ.get("OPSPROOF_ENV") or "sandbox"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def schedule(inside: bool) -> Schedule:
    """A window schedule that holds now (inside) or that is three days away."""
    now = dt.datetime.now(dt.timezone.utc)
    if inside:
        start = (now - dt.timedelta(minutes=5))
        return Schedule(weekday=DAYS[start.weekday()], weeks=[1, 2, 3, 4, 5], start=start.time().replace(
            second=0, microsecond=0), end=(now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0))
    return Schedule(weekday=DAYS[(now.weekday() + 3) % 7], weeks=[1, 2, 3, 4, 5])


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    """Two hosts with a kernel update and an openssl update pending."""
    root = tmp_path / "hosts"
    for name in ("h1", "h2"):
        hosts.build(root / name, hosts.HostState(name, updates=[["kernel", hosts.KERNEL_NEXT],
                                                                ["openssl-libs", "1.0.2k-24.amzn2.0.12"]]))
    monkeypatch.setenv(hosts.ROOTS_ENV, str(root))
    yield root
    probe.forget_unreachable()


def env_for(tmp_path, inside: bool, **host_changes):
    env = config.load(SANDBOX_ENV)
    h = env.hosts.model_copy(update={"specs": ["sandbox://h1", "sandbox://h2"], "reboot_timeout_s": 5,
                                     "reboot_poll_s": 0.05, **host_changes})
    w = env.window.model_copy(update={"schedule": schedule(inside)})
    sb = env.sandbox.model_copy(update={"state_dir": tmp_path})
    return env.model_copy(update={"hosts": h, "window": w, "sandbox": sb})


def test_the_plan_changes_nothing(tmp_path, fleet):
    report = actions.run("patch-hosts", env_for(tmp_path, inside=False))
    assert not report.applied and report.ok
    text = report.as_text()
    assert "[done] sandbox://h1: list pending updates" in text
    assert f"[planned] sandbox://h1: yum update -y (2 update(s), kernel {hosts.KERNEL_NEXT})" in text
    assert "[planned] sandbox://h2: reboot (kernel update) - NOT outside a maintenance window" in text
    for name in ("h1", "h2"):
        s = hosts.read(fleet / name)
        assert len(s.updates) == 2 and s.kernel_running == hosts.KERNEL_CURRENT and len(s.kernels) == 2


def test_outside_a_window_it_updates_but_does_not_reboot(tmp_path, fleet):
    report = actions.run("patch-hosts", env_for(tmp_path, inside=False), apply=True, hosts=["h1"])
    assert report.ok
    assert any(s.status == "skipped" and "reboot into" in s.description and "outside a maintenance window"
               in s.output for s in report.steps)
    s1, s2 = hosts.read(fleet / "h1"), hosts.read(fleet / "h2")
    assert s1.updates == [] and s1.kernels[-1] == hosts.KERNEL_NEXT and s1.kernel_running == hosts.KERNEL_CURRENT
    assert len(s2.updates) == 2  # not selected: untouched


def test_inside_a_window_it_reboots_into_the_new_kernel_and_waits_until_healthy(tmp_path, fleet):
    report = actions.run("patch-hosts", env_for(tmp_path, inside=True), apply=True)
    assert report.ok, report.as_text()
    rows = {r["host"]: r for r in report.result["hosts"]}
    for name in ("h1", "h2"):
        assert rows[f"sandbox://{name}"]["rebooted"] and rows[f"sandbox://{name}"]["kernel"] == hosts.KERNEL_NEXT
        assert hosts.read(fleet / name).kernel_running == hosts.KERNEL_NEXT
    assert sum(1 for s in report.steps if s.description.endswith("(at most 5s)") and s.status == "done") == 2


def test_outside_window_flag_and_no_update_no_reboot(tmp_path, fleet):
    hosts.update(fleet / "h2", updates=[["openssl-libs", "1.0.2k-24.amzn2.0.12"]])
    report = actions.run("patch-hosts", env_for(tmp_path, inside=False), apply=True, outside_window=True)
    assert report.ok
    assert hosts.read(fleet / "h1").kernel_running == hosts.KERNEL_NEXT
    assert hosts.read(fleet / "h2").kernel_running == hosts.KERNEL_CURRENT  # no kernel update: no reboot
    assert any(s.status == "skipped" and s.description == "sandbox://h2: reboot" for s in report.steps)


def test_a_host_that_does_not_come_back_stops_the_action(tmp_path, fleet):
    hosts.update(fleet / "h1", reboot_downtime=10 ** 6)  # refuses connections after its reboot for good
    env = env_for(tmp_path, inside=True, reboot_timeout_s=1)
    with pytest.raises(StepFailed, match=r"sandbox://h1 not healthy 1s after the reboot: did not answer"):
        actions.run("patch-hosts", env, apply=True)
    assert hosts.read(fleet / "h2").kernel_running == hosts.KERNEL_CURRENT  # the next host was left alone


def test_unknown_hosts_are_refused(tmp_path, fleet):
    with pytest.raises(StepFailed, match="not in hosts.specs: nosuch"):
        actions.run("patch-hosts", env_for(tmp_path, inside=False), hosts=["nosuch"])
