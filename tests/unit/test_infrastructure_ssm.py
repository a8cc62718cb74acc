"""The patching window's latest start from its SSM cron schedule (what "patched in the last window" is judged by)."""

import datetime as dt

import pytest

from opsproof.probes.ssm import last_start, utc


@pytest.mark.parametrize("schedule, now, start", [
    ("cron(0 4 ? * SUN *)", utc(2026, 1, 14, 12), utc(2026, 1, 11, 4)),        # a Wednesday: last Sunday
    ("cron(0 4 ? * SUN *)", utc(2026, 1, 11, 3, 59), utc(2026, 1, 4, 4)),      # just before this Sunday's start
    ("cron(0 4 ? * SUN *)", utc(2026, 1, 11, 4, 0), utc(2026, 1, 11, 4)),      # at it
    ("cron(30 2 ? * SAT,SUN *)", utc(2026, 1, 12, 1), utc(2026, 1, 11, 2, 30)),
    ("cron(0 4 ? * 1 *)", utc(2026, 1, 14), utc(2026, 1, 11, 4)),              # AWS: 1 = Sunday
    ("cron(15 23 * * ? *)", utc(2026, 1, 14, 12), utc(2026, 1, 13, 23, 15)),   # daily
])
def test_last_start(schedule, now, start):
    assert last_start(schedule, now) == start


@pytest.mark.parametrize("schedule", ["rate(7 days)", "cron(0 4 1 * ? *)", "cron(0 4 ? * FUNDAY *)"])
def test_schedules_it_cannot_read_are_named(schedule):
    with pytest.raises(ValueError, match=r"schedule 'c|schedule 'r"):
        last_start(schedule, dt.datetime.now(dt.timezone.utc))
