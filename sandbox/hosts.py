"""The sandbox's own hosts: container-free stand-ins for the GPU workers that pytest-testinfra reaches like any host.

A host is a directory tree (a fake root) with a real shell and a small agent: commands run through
``chroot ROOT /bin/sh -c COMMAND``, so testinfra's own modules (``host.service``, ``host.file``, ``host.run``) work
unchanged, and the same checks run over ``ssh://`` against production. The agent is a handful of shell scripts
standing in for the tools a patched Amazon Linux 2 host answers with; they read and write the host's state under
``/var/lib/opsproof-host/`` inside the root:

    uname      -s / -r (the running kernel) / -n / -m / -a
    cat        files (testinfra reads /etc/os-release with it)
    systemctl  is-active / is-enabled / list-unit-files / show, from services/<name> ("active enabled")
    rpm        rpm -q kernel: the installed kernels
    df         df -P -k [MOUNT...], from df ("mount size_kb used_kb")
    chronyc    chronyc -c tracking, from chrony ("offset_s leap status")
    yum        check-update (exit 100 when updates are pending) / update -y (installs them: a kernel update adds
               an installed kernel, it does not change the running one)
    reboot     runs the newest installed kernel; the host refuses the next connections while it "boots"
    /bin/sh    the gate every command passes: while the host is down it answers like ssh does, exit 255

Nothing here touches this machine's services or packages: the hosts are files under the sandbox's state folder
(``<state>/hosts/<name>``), built by the sandbox's seeding and removed with ``python -m sandbox down --purge``. Only
chroot(2) is needed (root, CAP_SYS_CHROOT): no mounts, namespaces, containers or daemons.

In configuration a sandbox host is ``sandbox://NAME``; the backend finds roots under $OPSPROOF_SANDBOX_HOSTS_DIR
(set from the environment by opsproof.probes.hosts), else under the loaded environment's sandbox folder.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testinfra.backend import base

ROOTS_ENV = "OPSPROOF_SANDBOX_HOSTS_DIR"
LATENCY_ENV = "OPSPROOF_SANDBOX_HOST_LATENCY_MS"
"""Benchmarks only: a round trip added to every command, as a network between the checks and real hosts adds."""
STATE = "var/lib/opsproof-host"
SHELL = "bin/hostsh"
"""The real shell inside a root (a copy of dash); /bin/sh is the gate script in front of it."""

KERNEL_OLD = "5.10.210-201.852.amzn2.x86_64"
KERNEL_CURRENT = "5.10.215-203.850.amzn2.x86_64"
KERNEL_NEXT = "5.10.217-205.860.amzn2.x86_64"
SERVICES = ("sshd", "chronyd", "amazon-ssm-agent", "docker", "nvidia-persistenced")
OS_RELEASE = """NAME="Amazon Linux"
VERSION="2"
ID="amzn"
ID_LIKE="centos rhel fedora"
VERSION_ID="2"
PRETTY_NAME="Amazon Linux 2"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"
HOME_URL="https://amazonlinux.com/"
"""


@dataclass
class HostState:
    """What a sandbox host reports. The defaults are a healthy, patched GPU worker."""

    hostname: str
    kernel_running: str = KERNEL_CURRENT
    kernels: list[str] = field(default_factory=lambda: [KERNEL_OLD, KERNEL_CURRENT])
    """Installed kernels, oldest first (yum appends)."""
    services: dict[str, list[str]] = field(default_factory=lambda: {s: ["active", "enabled"] for s in SERVICES})
    disks: dict[str, list[int]] = field(default_factory=lambda: {"/": [104857600, 41943040],
                                                                 "/data": [524288000, 288358400]})
    """mount -> [size_kb, used_kb]: / is 40% used, /data 55%."""
    clock: list = field(default_factory=lambda: ["Normal", 0.000012])
    """[leap status, system time offset in seconds]."""
    updates: list[list[str]] = field(default_factory=list)
    """Pending package updates: [name, version]."""
    down: str = "0"
    """Connections refused before the host answers again ("forever": unreachable)."""
    reboot_downtime: int = 2
    """Connections refused after a reboot (the host is 'booting')."""


# ---- building a host -------------------------------------------------------------------------------------------------
def hosts_dir(sb) -> Path:
    return sb.dir / "hosts"


def names_from_specs(specs: list[str]) -> list[str]:
    return [s.removeprefix("sandbox://").split("?")[0] for s in specs if s.startswith("sandbox://")]


def ensure_fleet(sb, names: list[str] | None = None) -> list[str]:
    """Build the configured sandbox hosts that do not exist yet and make every one healthy."""
    names = names if names is not None else names_from_specs(sb.env.hosts.specs)
    for name in names:
        build(hosts_dir(sb) / name, HostState(name))
    return names


def build(root: Path, state: HostState) -> Path:
    """Make (or repair) a host's root and write its state."""
    userland = root.parent / ".userland"
    if not (userland / SHELL).exists():
        _userland(userland)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "lib/modules", "run/systemd/system", "tmp", "dev",
              f"{STATE}/services"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel in _files(userland):
        target = root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(userland / rel, target)
            except OSError:
                shutil.copy2(userland / rel, target)
    for name, script in AGENT.items():
        path = root / name
        path.write_text(script)
        path.chmod(0o755)
    (root / "etc/os-release").write_text(OS_RELEASE)
    if not (root / "dev/null").exists():
        try:
            os.mknod(root / "dev/null", 0o666 | 0o020000, os.makedev(1, 3))
        except OSError:
            (root / "dev/null").touch(mode=0o666)
    write(root, state)
    return root


def _userland(userland: Path) -> None:
    """A real shell and the libraries it links against, once per fleet (hosts hard-link them)."""
    shell = shutil.which("dash") or os.path.realpath("/bin/sh")
    files = {shell: userland / SHELL}
    out = subprocess.run(["ldd", shell], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        parts = line.split()
        lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
        if lib.startswith("/"):
            files[lib] = userland / lib.lstrip("/")
            real = os.path.realpath(lib)
            if real != lib:
                files[real] = userland / real.lstrip("/")
    for src, dst in files.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _files(userland: Path) -> list[Path]:
    return [p.relative_to(userland) for p in userland.rglob("*") if p.is_file()]


# ---- state -----------------------------------------------------------------------------------------------------------
def write(root: Path, state: HostState) -> None:
    """Write the agent's files from a HostState (atomic per file; a command in flight reads old or new)."""
    s = root / STATE
    (s / "services").mkdir(parents=True, exist_ok=True)
    files = {
        "state.json": json.dumps(dataclasses.asdict(state), indent=1),
        "hostname": state.hostname,
        "kernel.running": state.kernel_running,
        "kernels": "\n".join(state.kernels),
        "df": "\n".join(f"{m} {size} {used}" for m, (size, used) in state.disks.items()),
        "chrony": f"{state.clock[1]} {state.clock[0]}",
        "updates": "\n".join(f"{n} {v}" for n, v in state.updates),
        "down": str(state.down),
        "reboot.downtime": str(state.reboot_downtime),
    }
    for name, text in files.items():
        _atomic(s / name, text + "\n" if text else "")
    for old in (s / "services").iterdir():
        if old.name not in state.services:
            old.unlink()
    for name, (active, enabled) in state.services.items():
        _atomic(s / "services" / name, f"{active} {enabled}\n")
    (root / "etc/hostname").write_text(state.hostname + "\n")
    for k in state.kernels:
        (root / "lib/modules" / k).mkdir(parents=True, exist_ok=True)


def read(root: Path) -> HostState:
    """The host's state as its agent sees it now (yum and reboot change it from inside)."""
    s = root / STATE
    base_state = HostState(**json.loads((s / "state.json").read_text()))

    def lines(name):
        return [x.strip() for x in (s / name).read_text().splitlines() if x.strip()]

    services = {}
    for f in sorted((s / "services").iterdir()):
        parts = f.read_text().split()
        services[f.name] = parts if len(parts) == 2 else ["inactive", "disabled"]
    offset, leap = (lines("chrony") or ["0 Normal"])[0].split(None, 1)
    return dataclasses.replace(
        base_state, kernel_running=(lines("kernel.running") or [""])[0], kernels=lines("kernels"),
        services=services, clock=[leap, float(offset)],
        updates=[x.split(None, 1) for x in lines("updates")], down=(lines("down") or ["0"])[0],
        disks={m: [int(a), int(b)] for m, a, b in (x.split() for x in lines("df"))})


def update(root: Path, **changes) -> HostState:
    """Change some of a host's facts (faults and tests): update(root, kernels=[...], down="forever")."""
    state = dataclasses.replace(read(root), **changes)
    write(root, state)
    return state


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


# ---- the testinfra backend -------------------------------------------------------------------------------------------
class SandboxHostBackend(base.BaseBackend):
    """``sandbox://NAME``: run commands in the sandbox host NAME (chroot into its root), bounded by ``timeout``."""

    NAME = "sandbox"

    def __init__(self, name: str, *args, timeout: str | float | None = None, **kwargs):
        self.name = name
        self.timeout = float(timeout) if timeout else 30.0
        super().__init__(name, *args, **kwargs)

    @property
    def root(self) -> Path:
        return roots_dir() / self.name

    def get_encoding(self) -> str:
        return "utf-8"

    def run(self, command: str, *args: str, **kwargs) -> base.CommandResult:
        cmd = self.get_command(command, *args)
        root = self.root
        if not (root / "bin/sh").exists():
            return self.result(255, self.encode(cmd), b"",
                               f"sandbox host {self.name}: no such host (no root at {root})".encode())
        latency = float(os.environ.get(LATENCY_ENV) or 0) / 1000
        if latency:
            time.sleep(latency)
        try:
            p = subprocess.run(["chroot", str(root), "/bin/sh", "-c", cmd], capture_output=True,
                               timeout=self.timeout, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
        except subprocess.TimeoutExpired:
            return self.result(255, self.encode(cmd), b"",
                               f"sandbox host {self.name}: no answer within {self.timeout:g}s".encode())
        return self.result(p.returncode, self.encode(cmd), p.stdout, p.stderr)


def roots_dir() -> Path:
    explicit = os.environ.get(ROOTS_ENV)
    if explicit:
        return Path(explicit)
    from opsproof import config

    return config.load(config.env_name()).sandbox_dir / "hosts"


# ---- the agent -------------------------------------------------------------------------------------------------------
_S = f"/{STATE}"
AGENT = {
    "bin/sh": f"""#!/{SHELL}
# The gate: while the host is down (rebooting, or unreachable for good) it answers like ssh does, exit 255.
if [ -s {_S}/down ]; then
  read n < {_S}/down
  read h < {_S}/hostname
  if [ "$n" = forever ]; then
    echo "ssh: connect to host $h port 22: No route to host" >&2
    exit 255
  fi
  case "$n" in ''|*[!0-9]*) n=0;; esac
  if [ "$n" -gt 0 ]; then
    echo $((n - 1)) > {_S}/down
    echo "ssh: connect to host $h port 22: Connection refused (rebooting)" >&2
    exit 255
  fi
fi
exec /{SHELL} "$@"
""",
    "usr/bin/uname": f"""#!/{SHELL}
S={_S}
case "${{1:--s}}" in
  -s) echo Linux ;;
  -r) read k < $S/kernel.running; echo "$k" ;;
  -n) read h < $S/hostname; echo "$h" ;;
  -m|-p|-i) echo x86_64 ;;
  -a) read k < $S/kernel.running; read h < $S/hostname; echo "Linux $h $k #1 SMP x86_64 x86_64 x86_64 GNU/Linux" ;;
  *) echo "uname: invalid option -- '$1'" >&2; exit 1 ;;
esac
""",
    "usr/bin/cat": f"""#!/{SHELL}
rc=0
[ "$1" = -- ] && shift
for f in "$@"; do
  if [ -f "$f" ]; then
    while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < "$f"
  else
    echo "cat: $f: No such file or directory" >&2; rc=1
  fi
done
exit $rc
""",
    "usr/bin/systemctl": f"""#!/{SHELL}
S={_S}/services
cmd=$1; [ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
name=${{1%.service}}
if [ -n "$name" ] && [ -f "$S/$name" ]; then read a e < "$S/$name"; else a=; e=; fi
case "$cmd" in
  is-active)
    if [ "$a" = active ]; then echo active; exit 0; fi
    echo "${{a:-inactive}}"; exit 3 ;;
  is-enabled)
    if [ -z "$e" ]; then
      echo "Failed to get unit file state for $name.service: No such file or directory" >&2; exit 1
    fi
    echo "$e"; [ "$e" = enabled ] && exit 0; exit 1 ;;
  list-unit-files)
    for f in $S/*; do read a e < "$f"; echo "${{f##*/}}.service $e"; done ;;
  show)
    first=1
    for u in "$@"; do
      case "$u" in -*) continue ;; esac
      n=${{u%.service}}
      [ $first = 1 ] || echo
      first=0
      if [ -f "$S/$n" ]; then
        read a e < "$S/$n"
        echo "Id=$n.service"; echo "LoadState=loaded"; echo "ActiveState=$a"; echo "UnitFileState=$e"
      else
        echo "Id=$n.service"; echo "LoadState=not-found"; echo "ActiveState=inactive"; echo "UnitFileState="
      fi
    done ;;
  reboot) exec /usr/sbin/reboot ;;
  *) echo "systemctl: $cmd is not supported by the sandbox host" >&2; exit 1 ;;
esac
""",
    "usr/bin/rpm": f"""#!/{SHELL}
# rpm -q [--qf FORMAT] kernel: the installed kernels as VERSION-RELEASE.ARCH
S={_S}
pkg=
while [ $# -gt 0 ]; do
  case "$1" in --qf|--queryformat) shift 2 ;; -*) shift ;; *) pkg=$1; shift ;; esac
done
if [ "$pkg" = kernel ]; then
  while read -r k; do [ -n "$k" ] && echo "$k"; done < $S/kernels
  exit 0
fi
echo "package $pkg is not installed"
exit 1
""",
    "usr/bin/df": f"""#!/{SHELL}
# df -P -k [MOUNT...]
S={_S}
want=
for a in "$@"; do case "$a" in -*) ;; *) want="$want $a" ;; esac; done
echo "Filesystem     1024-blocks      Used Available Capacity Mounted on"
rc=0
for m in ${{want:-ALL}}; do
  found=0
  while read -r mnt size used; do
    [ -z "$mnt" ] && continue
    if [ "$m" = ALL ] || [ "$m" = "$mnt" ]; then
      found=1
      avail=$((size - used)); pct=$(( (used * 100 + size - 1) / size ))
      echo "/dev/nvme0n1p1 $size $used $avail $pct% $mnt"
    fi
  done < $S/df
  if [ $found = 0 ]; then echo "df: $m: No such file or directory" >&2; rc=1; fi
done
exit $rc
""",
    "usr/bin/chronyc": f"""#!/{SHELL}
# chronyc -c tracking
S={_S}
read offset leap < $S/chrony
if [ "$leap" = Normal ]; then ref=A9FEA97B; name=169.254.169.123; stratum=4; else ref=00000000; name=; stratum=0; fi
rest="0.000001,0.000010,-2.345,-0.001,0.050,0.000512,0.000210,64.2"
echo "$ref,$name,$stratum,1764300000.000000000,$offset,$rest,$leap"
""",
    "usr/bin/yum": f"""#!/{SHELL}
# yum [-q] [-y] check-update | update [-y]
S={_S}
cmd=
for a in "$@"; do case "$a" in -*) ;; *) [ -z "$cmd" ] && cmd=$a ;; esac; done
case "$cmd" in
  check-update)
    n=0
    while read -r pkg ver; do
      [ -z "$pkg" ] && continue
      echo "$pkg.x86_64    $ver    amzn2-core"; n=$((n + 1))
    done < $S/updates
    [ $n -gt 0 ] && exit 100
    exit 0 ;;
  update|upgrade)
    while read -r pkg ver; do
      [ -z "$pkg" ] && continue
      echo "Updated: $pkg-$ver"
      [ "$pkg" = kernel ] && echo "$ver" >> $S/kernels
    done < $S/updates
    : > $S/updates
    echo "Complete!"
    exit 0 ;;
  *) echo "yum: '$cmd' is not supported by the sandbox host" >&2; exit 1 ;;
esac
""",
    "usr/sbin/reboot": f"""#!/{SHELL}
# Boot the newest installed kernel; refuse connections for a while.
S={_S}
newest=
while read -r k; do [ -n "$k" ] && newest=$k; done < $S/kernels
echo "$newest" > $S/kernel.running
read d < $S/reboot.downtime
echo "$d" > $S/down
exit 0
""",
}
