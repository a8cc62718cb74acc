"""Background processes of the sandbox: start detached, wait until their port answers, stop for good."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


class PortTaken(RuntimeError):
    pass


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_port_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise PortTaken(
                f"port {port} ({what}) is already in use by another program; stop it or change "
                f"[sandbox] ports.{what} in environments/sandbox.toml"
            ) from None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def start(name: str, argv: list[str], run_dir: Path, log_dir: Path, port: int, timeout: float = 15.0) -> int:
    """Start argv detached (own session, so a Ctrl-C in the caller's terminal does not reach it) and wait for port."""
    log_dir.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
    (run_dir / f"{name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited at start (code {proc.returncode}); see {log_dir / (name + '.log')}")
        if port_open(port):
            return proc.pid
        time.sleep(0.05)
    stop(name, run_dir)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout:.0f}s; see {log_dir / (name + '.log')}")


def stop(name: str, run_dir: Path, grace: float = 5.0) -> bool:
    pidfile = run_dir / f"{name}.pid"
    pid = read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        _reap(pid)
        time.sleep(0.05)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)
    pidfile.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def python() -> str:
    return sys.executable
