"""`eventually` (opsproof/eventually.py): retries until ok or the time is up, and hands back the last value."""

import pytest

from opsproof.eventually import eventually


def test_settles():
    seen = iter([503, 503, 200])
    out = eventually(lambda: next(seen), ok=lambda s: s == 200, timeout_s=5, every_s=0, sleep=lambda s: None)
    assert (out.value, out.ok, out.attempts) == (200, True, 3)


def test_never_settles_returns_the_last_value_not_an_exception():
    out = eventually(lambda: 503, ok=lambda s: s == 200, timeout_s=0.2, every_s=0.05)
    assert out.value == 503 and not out.ok and out.attempts >= 2 and 0.15 <= out.waited_s < 1


def test_zero_timeout_is_one_look():
    calls = []
    out = eventually(lambda: calls.append(1) or 500, ok=lambda s: s == 200, timeout_s=0)
    assert calls == [1] and not out.ok


def test_listed_exceptions_are_retried_others_raised_at_once():
    attempts = iter([ConnectionError("restarting"), 200])

    def probe():
        v = next(attempts)
        if isinstance(v, Exception):
            raise v
        return v

    assert eventually(probe, ok=lambda s: s == 200, timeout_s=5, every_s=0, retry_on=(ConnectionError,)).ok
    with pytest.raises(KeyError):
        eventually(lambda: {}["x"], timeout_s=5, every_s=0, retry_on=(ConnectionError,))
    with pytest.raises(ConnectionError):  # retried until the time is up, then the last one is raised
        eventually(lambda: (_ for _ in ()).throw(ConnectionError("down")), timeout_s=0.1, every_s=0.02,
                   retry_on=(ConnectionError,))
