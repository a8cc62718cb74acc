"""The status page's scheduled maintenances, read through a Statuspage-compatible API (GET only).

    >>> [m.name for m in maintenances(env)]
    ['Scheduled maintenance 2026-01-11']

A maintenance is a Statuspage incident with scheduled_for / scheduled_until; opsproof keeps the window's id and its
change requests in the incident's metadata (``metadata.opsproof``) when it announces one.
"""

import datetime as dt
from dataclasses import dataclass, field

import httpx

from .. import config, secrets
from ..errors import ConfigError, TargetUnreachable


@dataclass(frozen=True)
class Api:
    base: str
    page_id: str
    headers: dict = field(repr=False)
    timeout: float = 5.0

    @property
    def incidents(self) -> str:
        return f"{self.base}/pages/{self.page_id}/incidents"

    @property
    def shown(self) -> str:
        """What a message may show: the API's address and page, never its token."""
        return f"{self.base}/pages/{self.page_id}"


@dataclass(frozen=True)
class Maintenance:
    id: str
    name: str
    status: str  # scheduled | in_progress | verifying | completed
    created_at: dt.datetime | None
    scheduled_for: dt.datetime | None
    scheduled_until: dt.datetime | None
    window: str | None = None
    change_requests: tuple[str, ...] = ()
    last_update: str = ""

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        return bool(self.scheduled_for and self.scheduled_until and self.scheduled_for <= start
                    and self.scheduled_until >= end)


def api(env: config.Environment) -> Api:
    """The configured status page API with its token (from the environment, or the sandbox's file)."""
    sp = env.window.notify.status_page
    if sp is None:
        raise ConfigError(f"{env.file}: window.notify.status_page: section is missing")
    file = env.path(sp.token_file) if sp.token_file else None
    token = secrets.resolve("the status page API", sp.token_env, file)
    return Api(str(sp.api_url).rstrip("/"), sp.page_id,
               {"Authorization": f"OAuth {token}", "Accept": "application/json"},
               env.window.notify.timeout_s)


def _time(v) -> dt.datetime | None:
    if not v:
        return None
    return dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))


def parse(item: dict) -> Maintenance:
    meta = (item.get("metadata") or {}).get("opsproof") or {}
    updates = item.get("incident_updates") or []
    latest = max(updates, key=lambda u: u.get("created_at") or "", default={})
    return Maintenance(
        id=str(item.get("id")), name=item.get("name", ""), status=item.get("status", ""),
        created_at=_time(item.get("created_at")), scheduled_for=_time(item.get("scheduled_for")),
        scheduled_until=_time(item.get("scheduled_until")), window=meta.get("window"),
        change_requests=tuple(meta.get("change_requests") or ()), last_update=(latest.get("body") or "")[:300])


def get(a: Api, url: str, params: dict | None = None) -> httpx.Response:
    try:
        r = httpx.get(url, headers=a.headers, params=params, timeout=a.timeout)
    except httpx.TimeoutException:
        raise TargetUnreachable(f"status page {a.shown}: no answer within {a.timeout:g}s") from None
    except httpx.HTTPError as e:
        raise TargetUnreachable(f"status page {a.shown}: {type(e).__name__}: {secrets.redact(str(e))}") from None
    if r.status_code in (401, 403):
        raise TargetUnreachable(f"status page {a.shown}: the API token was refused (HTTP {r.status_code})")
    if r.status_code >= 400:
        raise TargetUnreachable(f"status page {a.shown}: HTTP {r.status_code} {secrets.redact(r.text[:120])}")
    return r


def maintenances(env: config.Environment, a: Api | None = None) -> list[Maintenance]:
    """Every scheduled maintenance the page lists (upcoming, in progress and past), newest first."""
    a = a or api(env)
    r = get(a, f"{a.incidents}/scheduled", {"per_page": 100})
    return sorted((parse(i) for i in r.json()), key=lambda m: m.scheduled_for or dt.datetime.min.replace(
        tzinfo=dt.timezone.utc), reverse=True)


def for_window(items: list[Maintenance], window_id: str, start: dt.datetime, end: dt.datetime) -> Maintenance | None:
    """The maintenance announcing a window: tagged with its id, else the first that covers it."""
    tagged = [m for m in items if m.window == window_id]
    if tagged:
        return tagged[0]
    covering = [m for m in items if m.covers(start, end)]
    return covering[0] if covering else None
