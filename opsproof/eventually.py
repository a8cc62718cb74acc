"""`eventually`: retry a look at a target until it passes or time runs out, for anything that settles after a
change (goss's --retry-timeout/--sleep), on tenacity.

    >>> outcome = eventually(lambda: probe(), ok=lambda r: r.status == 200, timeout_s=60, every_s=2)
    >>> outcome.value, outcome.ok, outcome.attempts, round(outcome.waited_s)
    (Response(...), True, 3, 4)

Unlike a bare retry loop it never raises because the target stayed bad: the caller gets the LAST value and decides
(a check asserts on it, naming the culprit). Exceptions listed in ``retry_on`` (a target still restarting) are
retried too; when the time runs out the last one is raised. Anything else is raised at once. A timeout of 0 is one
attempt, so the same code serves "look once" and "wait for it".
"""

import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt, \
    stop_after_delay, wait_fixed

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    value: T
    ok: bool
    attempts: int
    waited_s: float


def eventually(fn: Callable[[], T], *, ok: Callable[[T], bool] = lambda v: bool(v), timeout_s: float = 0.0,
               every_s: float = 1.0, retry_on: tuple[type[BaseException], ...] = (),
               sleep: Callable[[float], Any] = time.sleep) -> Outcome[T]:
    """Call fn until ok(value) is true or timeout_s has passed (waiting every_s between attempts)."""
    started = time.monotonic()
    attempts = 0
    last: list = []

    def attempt():
        nonlocal attempts
        attempts += 1
        value = fn()
        last[:] = [value]
        return value

    stop = stop_after_attempt(1) if timeout_s <= 0 else stop_after_delay(timeout_s)
    retry = retry_if_result(lambda v: not ok(v))
    if retry_on:
        retry = retry | retry_if_exception_type(retry_on)
    try:
        value = Retrying(stop=stop, wait=wait_fixed(every_s), retry=retry, sleep=sleep, reraise=True)(attempt)
    except RetryError:
        # the result stayed not ok: hand back the last value, not an exception
        value = last[0]
    good = ok(value)
    return Outcome(value, good, attempts, round(time.monotonic() - started, 3))
