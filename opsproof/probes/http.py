"""HTTP probes of the product's API: status, latency and a body excerpt, bounded by a timeout."""

import time
from dataclasses import dataclass

import httpx

from ..errors import TargetUnreachable


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    elapsed_s: float
    body: str


def get(url: str, timeout: float, connect_timeout: float = 3.0) -> Response:
    t0 = time.perf_counter()
    try:
        r = httpx.get(url, timeout=httpx.Timeout(timeout, connect=connect_timeout), follow_redirects=False)
    except httpx.TimeoutException:
        raise TargetUnreachable(f"{url}: no answer within {timeout:g}s") from None
    except httpx.HTTPError as e:
        raise TargetUnreachable(f"{url}: {e.__class__.__name__}: {e}") from None
    return Response(url, r.status_code, round(time.perf_counter() - t0, 4), r.text[:500])
