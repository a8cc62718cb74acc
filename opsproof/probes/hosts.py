"""Host probes over pytest-testinfra: kernel, services, disks, clock, pending updates. Read-only, and bounded: every
look at a host runs under a deadline, and a host that does not answer raises TargetUnreachable with one line.

    >>> host = get_host("sandbox://gpu-worker-1", env)        # or testinfra's `host` fixture in a check
    >>> kernel(host, timeout_s=30).reboot_pending
    False

The same functions work on any testinfra backend (ssh, paramiko, ansible, local, the sandbox's own hosts): they use
testinfra's modules where they cost no extra round trips (services on non-systemd hosts, files) and plain commands
otherwise (uname, df -P, rpm/dpkg-query, systemctl show, chronyc/timedatectl, yum check-update): a round trip to a
real host costs milliseconds, and a fleet multiplies them.
"""

import concurrent.futures
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import TargetUnreachable

SANDBOX_BACKEND = "sandbox.hosts.SandboxHostBackend"
UNREACHABLE_RC = 255
"""ssh's exit status when it could not connect (the sandbox's hosts answer the same way)."""
_DOWN_TTL_S = 60.0
_down: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


# ---- reaching hosts --------------------------------------------------------------------------------------------------
def register_backends(env=None) -> None:
    """Teach testinfra the sandbox's hosts (sandbox://NAME) and where their roots are for this environment."""
    import testinfra.backend

    testinfra.backend.BACKENDS.setdefault("sandbox", SANDBOX_BACKEND)
    if env is not None and env.is_sandbox:
        os.environ["OPSPROOF_SANDBOX_HOSTS_DIR"] = str(env.sandbox_dir / "hosts")


def fleet(env) -> list:
    """The environment's hosts as testinfra Host objects (specs, or ansible://... with the inventory)."""
    import testinfra

    register_backends(env)
    kwargs = {"ansible_inventory": env.hosts.ansible_inventory} if env.hosts.ansible_inventory else {}
    return sorted(testinfra.get_hosts(env.hosts.specs, **kwargs), key=name)


def get_host(spec: str, env=None):
    import testinfra

    register_backends(env)
    return testinfra.get_host(spec)


def name(host) -> str:
    """How a host is named in evidence and messages: its testinfra id (sandbox://gpu-worker-1, ssh://10.0.1.23)."""
    return host.backend.get_pytest_id()


def bounded(host, what: str, fn: Callable[[], Any], timeout_s: float) -> Any:
    """Run fn (testinfra calls on host) under a deadline; a host that does not answer, or answers like a dropped
    connection, raises TargetUnreachable naming it. A host found unreachable stays so for a minute, so its other
    checks fail at once instead of each waiting for the same timeout."""
    key = name(host)
    with _lock:
        seen = _down.get(key)
    if seen and time.monotonic() - seen[0] < _DOWN_TTL_S:
        raise TargetUnreachable(seen[1])
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"host-{key}")
    future = pool.submit(fn)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise _unreachable(key, f"no answer within {timeout_s:g}s ({what}; hosts.command_timeout_s)") from None
    except Unreachable as e:
        raise _unreachable(key, str(e)) from None
    except TargetUnreachable:
        raise
    except (OSError, EOFError) as e:  # paramiko and friends: the connection itself failed
        raise _unreachable(key, f"{type(e).__name__}: {e}") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


class Unreachable(TargetUnreachable):
    pass


def _unreachable(key: str, why: str) -> TargetUnreachable:
    msg = f"host {key}: unreachable: {why}"
    with _lock:
        _down[key] = (time.monotonic(), msg)
    return TargetUnreachable(msg)


def forget_unreachable() -> None:
    """Forget hosts found unreachable (an action waiting for a reboot looks again)."""
    with _lock:
        _down.clear()


def run(host, command: str, *args: str, ok: tuple[int, ...] = (0,)):
    """host.run, with a dropped connection (exit 255) raised as Unreachable; other exit codes are the caller's."""
    out = host.run(command, *args)
    if out.rc == UNREACHABLE_RC:
        raise Unreachable(_first_line(out.stderr) or f"exit {out.rc} running {command.split()[0]}")
    return out


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def reachable(host, timeout_s: float) -> bool:
    """Does the host answer a trivial command now (no cache: for waiting on a reboot)?"""
    def look():
        return run(host, "true").rc == 0

    try:
        with _lock:
            _down.pop(name(host), None)
        return bool(bounded(host, "true", look, timeout_s))
    except TargetUnreachable:
        with _lock:
            _down.pop(name(host), None)
        return False


# ---- kernel ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kernel:
    host: str
    running: str
    installed: list[str]
    newest: str
    source: str
    """How the installed kernels were found: rpm, dpkg or /lib/modules."""
    reboot_required_file: bool = False

    @property
    def reboot_pending(self) -> bool:
        return self.running != self.newest or self.reboot_required_file


def version_key(v: str) -> tuple:
    """'5.10.215-203.850.amzn2.x86_64' → (5, 10, 215, 203, 850, 2, 86, 64): numbers compare as numbers."""
    return tuple(int(n) for n in re.findall(r"\d+", v))


KERNEL_SCRIPT = (
    "uname -r; "
    "if command -v rpm >/dev/null 2>&1; then echo '#rpm'; rpm -q --qf '%{VERSION}-%{RELEASE}.%{ARCH}\\n' kernel; "
    "elif command -v dpkg-query >/dev/null 2>&1; then echo '#dpkg'; "
    "dpkg-query -W -f '${Status}\\t${Package}\\n' 'linux-image-[0-9]*'; "
    "else echo '#/lib/modules'; ls -1 /lib/modules; fi; "
    "if [ -e /var/run/reboot-required ]; then echo '#reboot-required'; fi")


def kernel(host, timeout_s: float) -> Kernel:
    """The running kernel against the newest installed one (a kernel update waits for a reboot otherwise). One round
    trip: rpm (Amazon Linux, RHEL), dpkg (Debian, Ubuntu: also /var/run/reboot-required), else /lib/modules."""
    def look() -> Kernel:
        out = run(host, KERNEL_SCRIPT)  # no args: testinfra does no %-formatting
        lines = [ln.rstrip() for ln in out.stdout.splitlines()]
        if not lines or not any(ln.startswith("#") for ln in lines):
            raise RuntimeError(f"unexpected answer (exit {out.rc}): {_first_line(out.stderr) or out.stdout[:120]}")
        running, source = lines[0].strip(), next(ln[1:] for ln in lines if ln.startswith("#"))
        body = [ln for ln in lines[1:] if ln and not ln.startswith("#")]
        if source == "rpm":
            installed = [ln.strip() for ln in body if "not installed" not in ln]
        elif source == "dpkg":
            installed = [ln.split("\t")[1].removeprefix("linux-image-") for ln in body
                         if ln.startswith("install ok installed\t")]
        else:
            installed = [ln.strip() for ln in body]
        installed = sorted(set(installed), key=version_key) or [running]
        return Kernel(name(host), running, installed, installed[-1], source, "#reboot-required" in lines)

    return bounded(host, "kernel", look, timeout_s)


# ---- services --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    host: str
    name: str
    running: bool | None
    enabled: bool | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.running and self.enabled)

    @property
    def state(self) -> str:
        if self.running is None:
            return self.note or "not found"
        parts = ["running" if self.running else "NOT running", "enabled" if self.enabled else "NOT enabled"]
        return ", ".join(parts)


ENABLED = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "transient"}
"""UnitFileStates for which `systemctl is-enabled` succeeds."""


def services(host, names: list[str], timeout_s: float) -> list[Service]:
    """Each service's running/enabled state. On systemd hosts one `systemctl show` answers for all of them (one
    round trip, not two per service); elsewhere testinfra's service module (SysV, OpenRC, ...) is asked."""
    def look() -> list[Service]:
        if run(host, "test -d /run/systemd/system").rc == 0:
            units = [n if "." in n else f"{n}.service" for n in names]
            out = run(host, "systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -- "
                      + " ".join(units))
            if out.rc == 0:
                blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
                          for block in out.stdout.strip().split("\n\n")]
                by_id = {b.get("Id"): b for b in blocks}
                found = []
                for n, unit in zip(names, units):
                    b = by_id.get(unit, {})
                    if not b or b.get("LoadState") == "not-found":
                        found.append(Service(name(host), n, None, None, "not found"))
                    else:
                        found.append(Service(name(host), n, b.get("ActiveState") == "active",
                                             b.get("UnitFileState") in ENABLED))
                return found
        return _services_testinfra(host, names)

    return bounded(host, "services", look, timeout_s)


def _services_testinfra(host, names: list[str]) -> list[Service]:
    found = []
    for n in names:
        svc = host.service(n)
        try:
            running = svc.is_running
        except AssertionError as e:
            _reraise_if_dropped(e)
            found.append(Service(name(host), n, None, None, "not found"))
            continue
        try:
            enabled = bool(svc.is_enabled)
        except (AssertionError, RuntimeError) as e:
            _reraise_if_dropped(e)
            if not running:
                found.append(Service(name(host), n, None, None, "not found"))
                continue
            enabled = False
        found.append(Service(name(host), n, bool(running), enabled))
    return found


def _reraise_if_dropped(e: Exception) -> None:
    if f"exit code {UNREACHABLE_RC}" in str(e) or f"exit_status={UNREACHABLE_RC}" in str(e):
        raise Unreachable(f"connection dropped ({str(e).splitlines()[0][:160]})")


# ---- disks -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Disk:
    host: str
    mount: str
    size_gb: float
    used_gb: float
    used_percent: int
    """As df's Capacity column: used / (used + available), rounded up."""


def disks(host, mounts: list[str], timeout_s: float) -> tuple[list[Disk], list[str]]:
    """Usage of each mount point (df -P -k); returns (disks, mounts that were not found)."""
    def look():
        out = run(host, "df -P -k " + " ".join(mounts))
        found = {}
        for ln in out.stdout.splitlines()[1:]:
            parts = ln.split()
            if len(parts) < 6:
                continue
            size, used, avail, mount = int(parts[1]), int(parts[2]), int(parts[3]), " ".join(parts[5:])
            pct = math.ceil(100 * used / (used + avail)) if used + avail else 0
            found[mount] = Disk(name(host), mount, round(size / 1024 ** 2, 1), round(used / 1024 ** 2, 1), pct)
        return [found[m] for m in mounts if m in found], [m for m in mounts if m not in found]

    return bounded(host, "df", look, timeout_s)


# ---- clock -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clock:
    host: str
    synchronised: bool
    offset_ms: float | None
    source: str
    detail: str = ""


CLOCK_SCRIPT = ("if command -v chronyc >/dev/null 2>&1; then echo '#chrony'; chronyc -c tracking; "
                "elif command -v timedatectl >/dev/null 2>&1; then echo '#timedatectl'; "
                "timedatectl show -p NTPSynchronized --value; else echo '#none'; fi")


def clock(host, timeout_s: float) -> Clock:
    """chrony's tracking (leap status and system time offset), else systemd's NTPSynchronized. One round trip."""
    def look() -> Clock:
        out = run(host, CLOCK_SCRIPT)
        lines = out.stdout.strip().splitlines()
        source = lines[0][1:] if lines and lines[0].startswith("#") else "none"
        answer = lines[1].strip() if len(lines) > 1 else ""
        if source == "chrony":
            fields = answer.split(",")
            if len(fields) < 14:
                return Clock(name(host), False, None, "chrony", _first_line(out.stderr) or answer[:120] or "no answer")
            leap = fields[13].strip()
            return Clock(name(host), leap == "Normal", round(abs(float(fields[4])) * 1000, 3), "chrony",
                         f"leap status {leap}")
        if source == "timedatectl":
            return Clock(name(host), answer == "yes", None, "timedatectl", f"NTPSynchronized={answer or '?'}")
        return Clock(name(host), False, None, "none", "neither chronyc nor timedatectl is installed")

    return bounded(host, "clock", look, timeout_s)


# ---- pending updates (patch-hosts) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Update:
    package: str
    version: str


def pending_updates(host, timeout_s: float) -> list[Update]:
    """`yum -q check-update` (exit 100: updates pending) or apt's simulation; read-only."""
    def look() -> list[Update]:
        if host.exists("yum"):
            out = run(host, "yum -q check-update")
            if out.rc not in (0, 100):
                raise RuntimeError(f"yum check-update failed (exit {out.rc}): {_first_line(out.stderr)}")
            rows = [ln.split() for ln in out.stdout.splitlines() if len(ln.split()) == 3]
            return [Update(r[0].rsplit(".", 1)[0], r[1]) for r in rows]
        if host.exists("apt-get"):
            out = run(host, "apt-get -s -q upgrade")
            return [Update(m.group(1), m.group(2)) for m in re.finditer(r"^Inst (\S+) (?:\[[^]]*\] )?\((\S+)",
                                                                        out.stdout, re.M)]
        raise RuntimeError("neither yum nor apt-get is installed")

    return bounded(host, "check-update", look, timeout_s)
