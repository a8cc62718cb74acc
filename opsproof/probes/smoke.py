"""Smoke tests against the product's API: each configured request answers the expected status and body fragment
(retried with `eventually` while services settle), then is sampled N times for its p95 latency. Requests run a few at
a time; each request's samples run one after another, so they measure the service, not our own queueing.

    >>> results = run(env.services.api, env.services.smoke, env.timeouts)
    >>> [(r.name, r.ok, r.p95_ms) for r in results]
    [('projects', True, 4.1), ('status', True, 3.2)]

An API that does not answer at all (refused, timed out) is not "settling": it raises TargetUnreachable at once (an
ALB in front of restarting tasks answers 502/503, which is retried). Header values named by headers_env are secrets:
registered for redaction, never returned in a result.
"""

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from .. import secrets
from ..errors import TargetUnreachable
from ..eventually import eventually


@dataclass
class Answer:
    status: int | None
    elapsed_ms: float
    body: str
    error: str | None = None


@dataclass
class SmokeResult:
    name: str
    method: str
    url: str
    expected_status: int
    contains: str | None
    budget_ms: float
    status: int | None = None
    problem: str | None = None
    """Why the answer was wrong after retrying (status, missing fragment, no answer)."""
    attempts: int = 0
    settled_after_s: float = 0.0
    samples_ms: list[float] = field(default_factory=list)
    p95_ms: float | None = None
    max_ms: float | None = None
    stopped_early: bool = False
    """Sampling stopped as soon as the p95 was certain to exceed the budget (its p95 is then a lower bound)."""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def within_budget(self) -> bool:
        return self.p95_ms is not None and self.p95_ms <= self.budget_ms

    def row(self) -> dict:
        return {"request": self.name, "method": self.method, "url": self.url, "status": self.status,
                "expected": self.expected_status, "ok": self.ok, "attempts": self.attempts,
                "p95_ms": self.p95_ms, "max_ms": self.max_ms, "budget_ms": self.budget_ms,
                "samples": len(self.samples_ms), "stopped early": self.stopped_early, "problem": self.problem or ""}


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile (the same definition as the window baseline's)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _headers(req) -> dict[str, str]:
    headers = dict(req.headers)
    for header, var in req.headers_env.items():
        value = os.environ.get(var)
        if value:
            headers[header] = secrets.register(value)
    return headers


def _send(client: httpx.Client, req, url: str, headers: dict) -> Answer:
    t0 = time.perf_counter()
    try:
        r = client.request(req.method, url, headers=headers, json=req.json_body)
    except httpx.TimeoutException:
        raise TargetUnreachable(f"API {req.method} {url}: no answer within {client.timeout.read:g}s") from None
    except httpx.HTTPError as e:
        raise TargetUnreachable(f"API {req.method} {url}: {type(e).__name__}: {e}") from None
    return Answer(r.status_code, (time.perf_counter() - t0) * 1000, r.text[:4000])


def problem(req, a: Answer) -> str | None:
    if a.error:
        return a.error
    if a.status != req.status:
        return f"answered {a.status}, expected {req.status}: {secrets.redact(a.body[:120])!r}"
    if req.contains is not None and req.contains not in a.body:
        return f"answered {a.status} without {req.contains!r} in its body: {secrets.redact(a.body[:120])!r}"
    return None


def run_one(api, smoke, timeouts, req, client: httpx.Client) -> SmokeResult:
    url = str(api.base_url).rstrip("/") + req.path
    headers = _headers(req)
    result = SmokeResult(req.name, req.method, url, req.status, req.contains, round(req.budget_s * 1000, 1))
    outcome = eventually(lambda: _send(client, req, url, headers), ok=lambda a: problem(req, a) is None,
                         timeout_s=smoke.eventually_s, every_s=smoke.retry_every_s)
    result.attempts, result.settled_after_s = outcome.attempts, outcome.waited_s
    result.status = outcome.value.status
    result.problem = problem(req, outcome.value)
    if result.problem:
        return result
    samples = [outcome.value.elapsed_ms]
    budget_ms = req.budget_s * 1000
    # Nearest-rank p95 of N samples is the k-th largest, k = N - ceil(0.95 N) + 1: once k samples are over budget
    # the verdict is certain, and a slow endpoint need not be waited for N times.
    allowed_over = smoke.samples - math.ceil(0.95 * smoke.samples)
    while len(samples) < smoke.samples and sum(1 for x in samples if x > budget_ms) <= allowed_over:
        a = _send(client, req, url, headers)
        samples.append(a.elapsed_ms)
        why = problem(req, a)
        if why:  # a service that fails between samples is not healthy
            result.problem, result.status = f"failed while sampling: {why}", a.status
            break
    if len(samples) < smoke.samples and not result.problem:
        result.stopped_early = True
    result.samples_ms = [round(s, 2) for s in samples]
    result.p95_ms = round(p95(samples) if not result.stopped_early else max(samples), 1)
    result.max_ms = round(max(samples), 1)
    return result


def run(api, smoke, timeouts, requests=None) -> list[SmokeResult]:
    """Every smoke request (or the given ones), `smoke.concurrency` at a time."""
    requests = list(requests if requests is not None else smoke.requests)
    if not requests:
        return []
    read = max(timeouts.read_s, max(r.budget_s for r in requests) * 3)
    limits = httpx.Limits(max_connections=smoke.concurrency, max_keepalive_connections=smoke.concurrency)
    with httpx.Client(timeout=httpx.Timeout(read, connect=timeouts.connect_s), limits=limits,
                      follow_redirects=False) as client:
        with ThreadPoolExecutor(max_workers=min(smoke.concurrency, len(requests))) as pool:
            return list(pool.map(lambda r: run_one(api, smoke, timeouts, r, client), requests))
