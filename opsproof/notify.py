"""Notifications of a maintenance window: a Slack-compatible webhook and a Statuspage-compatible API.

    >>> n = Notifier(env, journal=Path("reports/windows/2026-01-11/notifications.jsonl"))
    >>> n.send("start", window, "Maintenance started: 3 steps planned")
    [Delivery(channel='slack', event='start', ok=True, ...), Delivery(channel='status page', ...)]

Events: ``announce`` (T-7 days; creates the scheduled maintenance), ``starting-soon`` (T-1 h), ``start``
(in progress), ``progress`` (every 30 minutes), ``extension`` (extra time needed), ``complete``.

Every HTTP call is bounded by ``notify.timeout_s`` and retried (tenacity, exponential wait) on a connection error,
HTTP 429 or 5xx, at most ``notify.attempts`` times. ``send`` never raises: an undeliverable notification is a
``Delivery(ok=False)``, appended to the journal, and the window goes on. Tokens and webhook URLs come from the
environment and never appear in a delivery, the journal or a message.
"""

import datetime as dt
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from . import config, secrets
from .errors import DeliveryFailed, OpsproofError
from .probes import statuspage
from .schedule import MaintenanceWindow

EVENTS = ("announce", "starting-soon", "start", "progress", "extension", "complete")
STATUS_FOR = {"announce": "scheduled", "starting-soon": "scheduled", "start": "in_progress",
              "progress": "in_progress", "extension": "in_progress", "complete": "completed"}


@dataclass(frozen=True)
class Delivery:
    channel: str  # slack | status page
    event: str
    ok: bool
    attempts: int
    detail: str
    at: str

    def line(self) -> str:
        return f"{self.event} → {self.channel}: {'delivered' if self.ok else 'NOT delivered'} ({self.detail})"


class _Failed(DeliveryFailed):
    def __init__(self, message: str, attempts: int = 0):
        super().__init__(message)
        self.attempts = attempts


class _Transient(_Failed):
    """Worth another attempt: the connection failed, or the receiver answered 429 or 5xx."""


class _Refused(_Failed):
    """Not worth retrying: the receiver answered 4xx (bad token, wrong page), or nothing is configured."""


class Notifier:
    def __init__(self, env: config.Environment, journal: Path | None = None, clock=None, sleep=None):
        self.env = env
        self.cfg = env.window.notify
        self.journal = journal
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.sleep = sleep  # tenacity's default sleep unless a test gives one
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    # ---- public ------------------------------------------------------------------------------------------------
    def send(self, event: str, window: MaintenanceWindow, text: str, change_requests: tuple[str, ...] = ()) \
            -> list[Delivery]:
        """Deliver to every configured receiver; returns what happened (never raises)."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}: {', '.join(EVENTS)}")
        out = []
        with self._lock:
            if self.cfg.slack is not None:
                out.append(self._guard("slack", event, lambda: self._slack(event, window, text)))
            if self.cfg.status_page is not None:
                out.append(self._guard("status page", event,
                                       lambda: self._status_page(event, window, text, change_requests)))
            self.deliveries.extend(out)
            self._journal(out)
        return out

    # ---- Slack -------------------------------------------------------------------------------------------------
    def _slack(self, event: str, window: MaintenanceWindow, text: str) -> tuple[int, str]:
        s = self.cfg.slack
        url = str(s.webhook_url) if s.webhook_url else (os.environ.get(s.webhook_url_env or "") or None)
        if not url:
            raise _Refused(f"no webhook URL: set ${s.webhook_url_env}" if s.webhook_url_env
                           else "no webhook URL configured")
        if not s.webhook_url:
            secrets.register(url)  # a real webhook's URL is its credential
        channel = s.announce_channel if event == "announce" else s.channel
        payload = {"text": text, "username": "opsproof"}
        if channel:
            payload["channel"] = channel
        shown = f"webhook at {urlsplit(url).hostname}"
        r, attempts = self._call("POST", url, shown, json=payload)
        return attempts, f"HTTP {r.status_code} from the {shown}"

    # ---- status page -------------------------------------------------------------------------------------------
    def _status_page(self, event: str, window: MaintenanceWindow, text: str, crs: tuple[str, ...]) -> tuple[int, str]:
        try:
            a = statuspage.api(self.env)
        except OpsproofError as e:
            raise _Refused(str(e)) from None
        total = 0
        r, n = self._call("GET", f"{a.incidents}/scheduled", a.shown, headers=a.headers, params={"per_page": 100},
                          timeout=a.timeout)
        total += n
        existing = statuspage.for_window([statuspage.parse(i) for i in r.json()], window.id, window.start,
                                         window.end)
        status = STATUS_FOR[event]
        body = {"status": status, "body": text}
        if existing is None:
            body.update({"name": f"Scheduled maintenance {window.id}", "scheduled_for": _iso(window.start),
                         "scheduled_until": _iso(window.end), "impact_override": "maintenance",
                         "scheduled_remind_prior": True, "component_ids": self.cfg.status_page.component_ids,
                         "metadata": {"opsproof": {"window": window.id, "change_requests": list(crs)}}})
            r, n = self._call("POST", a.incidents, a.shown, headers=a.headers, json={"incident": body},
                              timeout=a.timeout)
            what = f"created maintenance {r.json().get('id', '?')} ({status})"
        else:
            if crs:
                body["metadata"] = {"opsproof": {"window": window.id, "change_requests": list(crs)}}
            r, n = self._call("PATCH", f"{a.incidents}/{existing.id}", a.shown, headers=a.headers,
                              json={"incident": body}, timeout=a.timeout)
            what = f"updated maintenance {existing.id} ({status})"
        return total + n, f"{what} on {a.shown}"

    # ---- plumbing ----------------------------------------------------------------------------------------------
    def _call(self, method: str, url: str, shown: str, timeout: float | None = None, **kwargs) \
            -> tuple[httpx.Response, int]:
        """One HTTP call with tenacity's retries; returns the response and the number of attempts."""
        timeout = timeout or self.cfg.timeout_s
        attempts = 0
        retrying = Retrying(stop=stop_after_attempt(self.cfg.attempts),
                            wait=wait_exponential(multiplier=self.cfg.retry_wait_s, max=10),
                            retry=retry_if_exception_type(_Transient), reraise=True,
                            **({"sleep": self.sleep} if self.sleep else {}))
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    try:
                        r = httpx.request(method, url, timeout=timeout, **kwargs)
                    except httpx.TimeoutException:
                        raise _Transient(f"no answer from the {shown} within {timeout:g}s") from None
                    except httpx.HTTPError as e:
                        raise _Transient(f"{type(e).__name__} reaching the {shown}") from None
                    if r.status_code == 429 or r.status_code >= 500:
                        raise _Transient(f"HTTP {r.status_code} from the {shown}")
                    if r.status_code >= 400:
                        raise _Refused(f"HTTP {r.status_code} from the {shown}")
                    return r, attempts
        except _Transient as e:
            raise _Transient(f"{e} after {attempts} attempt(s)", attempts) from None
        except _Refused as e:
            raise _Refused(f"{e} (not retried)", attempts) from None
        raise AssertionError("unreachable")

    def _guard(self, channel: str, event: str, fn) -> Delivery:
        at = self.clock().isoformat(timespec="seconds")
        try:
            attempts, detail = fn()
            return Delivery(channel, event, True, attempts, secrets.redact(detail), at)
        except _Failed as e:
            return Delivery(channel, event, False, e.attempts, secrets.redact(str(e)), at)
        except Exception as e:  # noqa: BLE001 - a notification never stops a window
            return Delivery(channel, event, False, 0, secrets.redact(f"{type(e).__name__}: {e}"), at)

    def _journal(self, deliveries: list[Delivery]) -> None:
        if not self.journal:
            return
        try:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            with self.journal.open("a") as f:
                for d in deliveries:
                    f.write(json.dumps(asdict(d)) + "\n")
        except OSError:
            pass  # the journal is evidence, not a reason to stop


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
