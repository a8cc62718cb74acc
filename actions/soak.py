"""soak: watch the API's health for a while (runbook post-maintenance: "Check monitoring dashboards (30 minutes)").

    python -m actions soak --minutes 30            # the plan
    python -m actions soak --minutes 30 --apply    # probe the health endpoint every 30 s; fail on the first bad answer

Changes nothing; like every action it only runs with --apply. A window plan uses it as a step that waits and watches
(and, with a few seconds, as the quickest real step a test can plan).
"""

import time

from opsproof.config.window import format_duration
from opsproof.errors import TargetUnreachable
from opsproof.probes import http

from . import action, param


@action("soak", help="watch the API's health endpoint for a while; fail on the first unhealthy answer",
        params=[param("--minutes", type=float, default=30.0, help="how long (default 30, the runbook's)"),
                param("--seconds", type=float, default=None, help="how long, in seconds (overrides --minutes)"),
                param("--every", type=float, default=30.0, help="seconds between probes (default 30)")])
def soak(ctx, minutes: float, seconds: float | None, every: float):
    api = ctx.env.services.api
    if api is None:
        raise TargetUnreachable(f"{ctx.env.file} has no [services.api] to watch")
    url = str(api.base_url).rstrip("/") + api.health_path
    total = seconds if seconds is not None else minutes * 60
    budget = api.health_budget_s
    import datetime as dt

    shown = format_duration(dt.timedelta(seconds=total))
    return ctx.step(f"watch {url} for {shown}, every {every:g}s: each answer 200 within {budget:g}s",
                    lambda: _watch(url, total, every, budget, ctx.env.timeouts.connect_s))


def _watch(url: str, total: float, every: float, budget: float, connect_s: float) -> str:
    end = time.monotonic() + total
    n, slowest = 0, 0.0
    while True:
        r = http.get(url, timeout=max(budget * 3, connect_s), connect_timeout=connect_s)
        n += 1
        slowest = max(slowest, r.elapsed_s)
        if r.status != 200:
            raise RuntimeError(f"{url} answered {r.status} (probe {n}): {r.body[:100]}")
        if r.elapsed_s > budget:
            raise RuntimeError(f"{url} took {r.elapsed_s:.2f}s (probe {n}), over its budget of {budget:g}s")
        left = end - time.monotonic()
        if left <= 0:
            return f"{n} probe(s), all 200, slowest {slowest * 1000:.0f} ms"
        time.sleep(min(every, left))
