"""Smoke tests against the sandbox's API (sandbox/web.py): a request that settles passes after retries; a slow one
stops being sampled once its p95 is certain to be over budget; an API that does not answer fails at once."""

import threading
import time

import pytest

from opsproof.config.services import Api, Smoke, SmokeRequest
from opsproof.errors import TargetUnreachable
from opsproof.probes import smoke


def config(sandbox, **kw):
    api = Api(base_url=f"http://127.0.0.1:{sandbox.ports.http}")
    return api, Smoke(**{"samples": 20, "eventually_s": 5, "retry_every_s": 0.2, **kw})


def test_a_request_that_settles_passes_after_retries(sandbox):
    api, cfg = config(sandbox)
    sandbox.set_web_state(routes={"/api/settling": {"status": 503, "body": {"error": "starting"}}})
    threading.Timer(0.7, lambda: sandbox.set_web_state(routes={"/api/settling": {"status": 200,
                                                                                 "body": {"ok": True}}})).start()
    try:
        [r] = smoke.run(api, cfg, sandbox.env.timeouts,
                        [SmokeRequest(name="settling", path="/api/settling", contains='"ok"')])
    finally:
        time.sleep(0.1)
        sandbox.set_web_state(routes=None)
    assert r.ok and r.attempts > 1 and 0.5 <= r.settled_after_s < 3 and len(r.samples_ms) == 20


def test_a_slow_request_stops_sampling_once_its_p95_is_over_budget(sandbox):
    api, cfg = config(sandbox)
    sandbox.set_web_state(routes={"/api/slow": {"status": 200, "delay_s": 0.2, "body": {}}})
    try:
        t0 = time.monotonic()
        [r] = smoke.run(api, cfg, sandbox.env.timeouts, [SmokeRequest(name="slow", path="/api/slow", budget_s=0.1)])
    finally:
        sandbox.set_web_state(routes=None)
    assert r.ok and not r.within_budget and r.stopped_early
    assert len(r.samples_ms) == 2 and time.monotonic() - t0 < 1.5  # 20 samples: the 2nd slow one settles it


def test_p95_is_nearest_rank():
    assert smoke.p95(list(range(1, 21))) == 19 and smoke.p95([5.0]) == 5.0


def test_an_api_that_does_not_answer_fails_at_once():
    api = Api(base_url="http://127.0.0.1:9")  # discard port: nothing listens
    t0 = time.monotonic()
    with pytest.raises(TargetUnreachable, match=r"API GET http://127.0.0.1:9/health: ConnectError"):
        smoke.run(api, Smoke(eventually_s=60), __import__("opsproof.config", fromlist=["Timeouts"]).Timeouts(),
                  [SmokeRequest(name="health", path="/health")])
    assert time.monotonic() - t0 < 2


def test_a_token_header_never_reaches_a_result(sandbox, monkeypatch):
    from opsproof import secrets

    monkeypatch.setenv("OPSPROOF_TEST_SMOKE_TOKEN", "Bearer s3cr3t-smoke-token")
    api, cfg = config(sandbox, samples=2)
    [r] = smoke.run(api, cfg, sandbox.env.timeouts, [SmokeRequest(
        name="status", path="/api/status", headers_env={"Authorization": "OPSPROOF_TEST_SMOKE_TOKEN"})])
    assert r.ok and "s3cr3t" not in repr(r)
    assert secrets.redact("Bearer s3cr3t-smoke-token") == "********"
