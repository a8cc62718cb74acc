"""Refusals that keep a real environment off the sandbox.

A gate that is green on the wrong system is the worst thing this suite can do, so an environment whose kind is not
"sandbox" may not name a target on a sandbox's ports, nor run with the sandbox's throwaway AWS keys. Each refusal is a
ConfigError: one line naming the file, the key and why (exit 4).

    >>> refuse_sandbox_targets(config.load("prod"))     # raises ConfigError on the first sandbox target
"""

import ipaddress
import re
import socket
import tempfile
import urllib.parse
from pathlib import Path

from . import config
from .errors import ConfigError

SANDBOX_ACCESS_KEYS = frozenset({"opsproof-sandbox", "testing", "FOOBARKEY"})
"""The sandbox's own key and moto's documented test keys: no real account issues them."""


def sandbox_ports() -> dict[int, str]:
    """Every port a sandbox on this machine listens on (the default one and each private one): port -> which."""
    files = [config.ENV_DIR / "sandbox.toml", *Path(tempfile.gettempdir()).glob("opsproof-*/sandbox.toml")]
    ports: dict[int, str] = {}
    for f in files:
        text = f.read_text(errors="replace") if f.is_file() else ""
        m = re.search(r"^ports\s*=\s*\{([^}]*)\}", text, re.M)
        for part, port in re.findall(r"(\w+)\s*=\s*(\d+)", m.group(1) if m else ""):
            ports[int(port)] = f"{part} port of the sandbox in {f.parent}"
            if part == "postgres":  # its streaming replica listens one above
                ports[int(port) + 1] = f"replica port of the sandbox in {f.parent}"
    return ports


def targets(env: config.Environment) -> list[tuple[str, str, int]]:
    """(key, host, port) of every network target the file names."""
    found = []
    if env.database:
        found.append(("database.host", env.database.host, env.database.port))
        for i, r in enumerate(getattr(env.database.replication, "replica_hosts", []) or []):
            found.append((f"database.replication.replica_hosts[{i}]", *r))
    urls = [("aws.endpoint_url", env.aws.endpoint_url)]
    if env.services.api is not None:
        urls.append(("services.api.base_url", env.services.api.base_url))
    for key, url in urls:
        if url:
            u = urllib.parse.urlsplit(str(url))
            found.append((key, u.hostname or "", u.port or (443 if u.scheme == "https" else 80)))
    for i, ep in enumerate(env.certificates.endpoints):
        found.append((f"certificates.endpoints[{i}]", ep.host, ep.port))
    return found


def refuse_sandbox_targets(env: config.Environment) -> None:
    if env.is_sandbox:
        return
    ports = sandbox_ports()
    for key, host, port in targets(env):
        if port in ports and _is_local(host):
            raise ConfigError(f"{env.file}: {key}: {host}:{port} is the {ports[port]}; a kind \"{env.kind}\" "
                              "environment never checks the sandbox")


def refuse_sandbox_credentials(env: config.Environment, access_key: str | None, source: str) -> None:
    if not env.is_sandbox and access_key in SANDBOX_ACCESS_KEYS:
        raise ConfigError(f"{env.file}: aws: the credentials from {source} are the sandbox's throwaway key "
                          f"{access_key!r}; unset them (or `eval \"$(python -m sandbox status)\"` in another shell)")


def _is_local(host: str) -> bool:
    """This machine: a loopback or own address, or a name for it. Other names are not looked up (a production
    name must not cost a DNS round trip here, and cannot be the sandbox, which listens on loopback only)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain", socket.gethostname().lower()) or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified
