"""Attach a run's evidence to its change record: ServiceNow's Attachment API or a Jira issue's attachments.

    >>> uploads = attach(env.window.attach, "CHG0030001", [Path("reports/change-request.html"), ...])
    >>> [u.line() for u in uploads]
    ['change-request.html → ServiceNow CHG0030001: attached (48213 bytes, sys_id 5f0c...)', ...]

Each file is one Upload: a failure (credentials refused, over the size limit, no answer within the timeout) is one
line naming the file and what to do, and the local file is never touched, so nothing is lost. Credentials come from
the environment variables the configuration names (the sandbox: a file), are registered as secrets, and appear in no
line.
"""

import json
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from . import secrets
from .config.change_record import Attach
from .errors import ConfigError, DeliveryFailed

SYSTEMS = {"servicenow": "ServiceNow", "jira": "Jira"}


@dataclass(frozen=True)
class Upload:
    file: str
    ok: bool
    detail: str
    size: int = 0

    def line(self) -> str:
        return f"{self.file}: {'attached' if self.ok else 'NOT attached'} ({self.detail})"


def credentials(what: str, user_env: str | None, password_env: str | None, file: Path | None) -> tuple[str, str]:
    """(user, password) from the named environment variables, else (sandbox) a JSON file {"user", "password"}."""
    user, password = os.environ.get(user_env or ""), os.environ.get(password_env or "")
    if (not user or not password) and file is not None:
        try:
            data = json.loads(Path(file).read_text())
            user, password = data["user"], data["password"]
        except (OSError, ValueError, KeyError):
            pass
    if not user or not password:
        raise ConfigError(f"no credentials for {what}: set ${user_env} and ${password_env}")
    secrets.register(password)
    return user, password


def attach(cfg: Attach, change_request: str, files: list[Path], transport=None) -> list[Upload]:
    """Upload files to the change record; returns one Upload per file (never raises for a refused upload)."""
    if cfg.system is None:
        raise ConfigError("window.attach.system: not set (servicenow or jira): nothing to attach to")
    target = getattr(cfg, cfg.system)
    if target is None:
        raise ConfigError(f"window.attach.{cfg.system}: missing (the system is {cfg.system})")
    name = SYSTEMS[cfg.system]
    if cfg.system == "servicenow":
        auth = credentials(name, target.user_env, target.password_env, cfg.credentials_file)
        base = str(target.instance_url).rstrip("/")
    else:
        auth = credentials(name, target.email_env, target.token_env, cfg.credentials_file)
        base = str(target.base_url).rstrip("/")
    shown = f"{name} at {urlsplit(base).hostname}"
    with httpx.Client(base_url=base, auth=auth, timeout=cfg.timeout_s, transport=transport,
                      headers={"Accept": "application/json"}) as client:
        try:
            if cfg.system == "servicenow":
                sys_id = _servicenow_sys_id(client, change_request, shown)
                send = lambda path, data: _servicenow_upload(client, shown, sys_id, path, data)  # noqa: E731
            else:
                send = lambda path, data: _jira_upload(client, shown, change_request, path, data)  # noqa: E731
        except _Refused as e:
            return [Upload(p.name, False, f"{e}; the local file is kept at {p}") for p in files]
        return [_one(p, cfg.max_bytes, shown, change_request, send) for p in files]


class _Refused(DeliveryFailed):
    pass


def _one(path: Path, max_bytes: int, shown: str, cr: str, send) -> Upload:
    try:
        data = path.read_bytes()
    except OSError as e:
        return Upload(path.name, False, f"cannot read {path}: {e.strerror or e}")
    if len(data) > max_bytes:
        return Upload(path.name, False, f"{len(data)} bytes, over window.attach.max_bytes ({max_bytes}): not sent; "
                                        f"the local file is kept at {path}", len(data))
    try:
        detail = send(path, data)
    except _Refused as e:
        return Upload(path.name, False, f"{e}; the local file is kept at {path}", len(data))
    return Upload(path.name, True, f"{len(data)} bytes to {shown} {cr}{detail}", len(data))


def _call(client: httpx.Client, shown: str, method: str, url: str, **kw) -> httpx.Response:
    """One request; every way it can fail is a _Refused with one line."""
    try:
        r = client.request(method, url, **kw)
    except httpx.TimeoutException:
        raise _Refused(f"no answer from {shown} within {client.timeout.read:g}s (window.attach.timeout_s)") from None
    except httpx.HTTPError as e:
        raise _Refused(f"{type(e).__name__} reaching {shown}") from None
    if r.status_code == 401:
        raise _Refused(f"{shown} refused the credentials (HTTP 401)")
    if r.status_code == 403:
        raise _Refused(f"{shown} denied it (HTTP 403): the account may not attach to this record")
    if r.status_code == 413:
        raise _Refused(f"over {shown}'s size limit (HTTP 413)")
    if r.status_code == 404:
        raise _Refused(f"{shown} has no such record (HTTP 404)")
    if r.status_code >= 400:
        raise _Refused(f"HTTP {r.status_code} from {shown}")
    return r


def _servicenow_sys_id(client: httpx.Client, number: str, shown: str) -> str:
    r = _call(client, shown, "GET", "/api/now/table/change_request",
              params={"sysparm_query": f"number={number}", "sysparm_fields": "sys_id,number", "sysparm_limit": "1"})
    rows = (r.json() or {}).get("result") or []
    if not rows:
        raise _Refused(f"{shown} has no change request {number}")
    return rows[0]["sys_id"]


def _servicenow_upload(client: httpx.Client, shown: str, sys_id: str, path: Path, data: bytes) -> str:
    r = _call(client, shown, "POST", "/api/now/attachment/file",
              params={"table_name": "change_request", "table_sys_id": sys_id, "file_name": path.name},
              content=data, headers={"Content-Type": _content_type(path)})
    return f" (attachment {r.json()['result']['sys_id']})"


def _jira_upload(client: httpx.Client, shown: str, key: str, path: Path, data: bytes) -> str:
    r = _call(client, shown, "POST", f"/rest/api/3/issue/{key}/attachments",
              files={"file": (path.name, data, _content_type(path))}, headers={"X-Atlassian-Token": "no-check"})
    return f" (attachment {r.json()[0]['id']})"


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
