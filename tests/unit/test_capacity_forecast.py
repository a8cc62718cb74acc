"""The capacity forecast (opsproof/forecast.py): it recovers known growth rates from noisy, seasonal history, says
how wrong it is, and finds the day a threshold is crossed."""

import math

import numpy as np
import pytest

from opsproof import forecast as F
from opsproof.capacity import scaling_summary, undrained_stretches
from opsproof.probes.capacity import ScalingActivity

DAY0 = 20300  # an epoch day number (2025-07-31, a Thursday)


def hourly(days: int, level, weekly=(1, 1, 1, 1, 1, 0.78, 0.78), noise: float = 0.05, seed: int = 1):
    """Hourly values: level(day) × daily shape (trough 03:00, peak 15:00) × weekday factor × (1 ± noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(DAY0 * F.DAY_S, (DAY0 + days) * F.DAY_S, 3600.0)
    day = t / F.DAY_S
    hour = (t / 3600) % 24
    weekday = ((np.floor(day).astype(int) + 3) % 7)
    shape = 0.6 + 0.4 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 3) / 24))
    y = level(day - DAY0) * shape * np.take(weekly, weekday) * (1 + rng.uniform(-noise, noise, len(t)))
    return t, y


@pytest.mark.parametrize("monthly", [0.02, 0.05, 0.15])
def test_compound_growth_is_recovered(monthly):
    """90 days of hourly history growing `monthly` per month (the runbook's 15 % among them), weekly seasonality and
    ±5 % noise: the fitted monthly rate is within one percentage point."""
    t, y = hourly(90, lambda d: 40 * (1 + monthly) ** (d / F.MONTH_DAYS))
    d = F.daily(t, y, "p95")
    fit = F.fit_trend(d.days, d.values, "compound")
    assert fit.growth_per_month == pytest.approx(monthly, abs=0.01)
    assert fit.error_percent < 3 and fit.backtest_percent < 5


@pytest.mark.parametrize("per_day", [0.25, 2.0])
def test_linear_growth_is_recovered(per_day):
    """A linear trend (per_day units a day at the daily peak) is recovered within 5 %."""
    t, y = hourly(60, lambda d: 100 + per_day * d, weekly=(1,) * 7, noise=0.02)
    d = F.daily(t, y, "max")
    fit = F.fit_trend(d.days, d.values, "linear")
    assert fit.per_day == pytest.approx(per_day, rel=0.05)


def test_the_better_model_is_chosen():
    d = np.arange(DAY0, DAY0 + 90.0)
    straight = 200 + 3 * (d - DAY0)
    growing = 50 * 1.15 ** ((d - DAY0) / F.MONTH_DAYS)
    assert F.fit_best(d, straight).model == "linear"
    assert F.fit_best(d, growing).model == "compound"
    assert F.fit_best(d, growing, "linear").model == "linear"


def test_weekly_pattern_is_taken_out_of_the_trend():
    """Weekends at 78 %: the weekday effects say so, and the trend is not bent by where the series ends."""
    t, y = hourly(56, lambda d: 50 + 0 * d, noise=0.0)
    d = F.daily(t, y, "max")
    fit = F.fit_trend(d.days, d.values, "compound")
    effects = fit.weekday_effects()
    assert effects[5] < -0.15 and effects[6] < -0.15 and all(abs(e) < 0.1 for e in effects[:5])
    assert abs(fit.growth_per_month) < 0.005


def test_a_series_with_zeros_has_no_compound_fit():
    d = np.arange(DAY0, DAY0 + 30.0)
    assert F.fit_trend(d, np.where(d % 2 == 0, 0.0, 5.0), "compound") is None
    assert F.fit_best(d, np.where(d % 2 == 0, 0.0, 5.0)).model == "linear"


def test_crossing_day_matches_the_arithmetic():
    """Linear 500 + 2/day crosses 800 on day 150; compound 100 × 1.05^m crosses 200 at m = log 2 / log 1.05."""
    d = np.arange(DAY0, DAY0 + 30.0)
    lin = F.fit_trend(d, 500 + 2 * (d - DAY0), "linear", seasonal=False)
    assert F.crossing_day(lin, 800, after=d[-1]) == DAY0 + 150
    comp = F.fit_trend(d, 100 * 1.05 ** ((d - DAY0) / F.MONTH_DAYS), "compound", seasonal=False)
    expected = DAY0 + math.log(2) / math.log(1.05) * F.MONTH_DAYS
    assert abs(F.crossing_day(comp, 200, after=d[-1]) - expected) <= 1
    # a floor: free space 1000 − 5/day falls to 200 on day 160
    free = F.fit_trend(d, 1000 - 5 * (d - DAY0), "linear", seasonal=False)
    assert F.crossing_day(free, 200, after=d[-1], lower_is_worse=True) == DAY0 + 160
    assert F.crossing_day(lin, 1e9, after=d[-1]) is None


def test_projection_interval_covers_the_future():
    """Fitted on 90 days, the ~95 % interval holds at least 90 % of the next 30 days' actual daily values."""
    t, y = hourly(120, lambda d: 40 * 1.04 ** (d / F.MONTH_DAYS))
    d = F.daily(t, y, "p95")
    past, future = d.days < DAY0 + 90, d.days >= DAY0 + 90
    fit = F.fit_trend(d.days[past], d.values[past], "compound")
    lo, hi = fit.interval(d.days[future])
    inside = (lo <= d.values[future]) & (d.values[future] <= hi)
    assert inside.mean() >= 0.9
    assert np.all(hi - lo < d.values[future] * 0.3)


def test_daily_summary_drops_partial_days():
    t = np.arange(0, 2.5 * F.DAY_S, 3600.0)  # two whole days and half of a third
    d = F.daily(t, np.ones(len(t)), "max")
    assert d.days.tolist() == [0.0, 1.0]


def test_beyond_since_is_the_current_run():
    d = F.Daily(np.arange(6.0), np.array([70, 20, 61, 65, 62, 70.0]))
    assert F.beyond_since(d, 60) == 2.0
    assert F.beyond_since(F.Daily(np.arange(3.0), np.array([70, 70, 50.0])), 60) is None
    assert F.beyond_since(F.Daily(np.arange(3.0), np.array([300, 190, 180.0])), 200, lower_is_worse=True) == 1.0


def test_the_runbooks_planning_arithmetic():
    """The runbook: 5,000 users at 15 % a month are 11,565 in 6 months; at 0.1 GB each, 1,157 GB."""
    users = F.users_projection(5000, 15, 6)
    assert round(users) == 11565 and round(users * 0.1) == 1157
    months = F.users_crossing_months(500, 15, 800)
    assert F.users_projection(5000, 15, months) * 0.1 == pytest.approx(800)


def test_undrained_stretches():
    hour = 3600
    t = [i * hour for i in range(10)]
    v = [0, 50, 40, 30, 5, 60, 70, 80, 90, 100]
    assert undrained_stretches(t, v, 10, hour) == [(1 * hour, 4 * hour), (5 * hour, 10 * hour)]
    assert undrained_stretches(t, [0] * 10, 10, hour) == []


def test_flaps_are_reversals_within_the_window():
    import datetime as dt

    t0 = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)

    def act(minutes, desired):
        return ScalingActivity("r", t0 + dt.timedelta(minutes=minutes), "Successful", desired, "")

    daily_cycle = [act(0, 3), act(180, 4), act(720, 3), act(900, 2)]
    assert scaling_summary("r", daily_cycle, 1, 30).flaps == 0
    flapping = [act(12 * i, 5 if i % 2 == 0 else 4) for i in range(10)]
    s = scaling_summary("r", [act(-600, 4)] + flapping, 1, 30)
    assert s.flaps == 9 and s.activities == 11 and s.first_flap == t0


def test_a_recent_change_of_trend_counts_and_noise_does_not():
    """Over a quarter, the last 30 days' trend decides the crossing only when it differs from the quarter's by more
    than twice its standard error: a storage spike three weeks ago does; a noisy but steady month does not."""
    from opsproof import config
    from opsproof.capacity import analyse
    from opsproof.probes.cloudwatch import Series

    free = config.capacity.Metric(label="free", kind="storage", namespace="AWS/RDS", name="FreeStorageSpace",
                                  daily="min", lower_is_worse=True)
    t = np.arange(DAY0 * F.DAY_S, (DAY0 + 90) * F.DAY_S, 3600.0)
    day = (t / F.DAY_S) - DAY0
    steady = 500 - 0.7 * day
    spiked = steady - 7 * np.clip(day - 69, 0, None)
    calm = analyse("free", free, Series("free", t, steady, 3600), 1.0, "best", [3, 6, 12], recent_days=30)
    calm.set_threshold(200, "k")
    assert calm.judged_by is calm.fit
    spike = analyse("free", free, Series("free", t, spiked, 3600), 1.0, "best", [3, 6, 12], recent_days=30)
    spike.set_threshold(200, "k")
    assert spike.judged_by is spike.recent and "last 30 days' trend" in spike.crossing_text()
    assert spike.crossing - (DAY0 + 90) < 30  # ~350 GiB free at 7.7 GiB a day: about three weeks
    noisy = analyse("cpu", config.capacity.Metric(label="cpu", kind="cpu", namespace="n", name="c"),
                    Series("cpu", *hourly(90, lambda d: 40 * 1.04 ** (d / F.MONTH_DAYS), noise=0.08, seed=5),
                           3600), 1.0, "best", [3, 6, 12], recent_days=30)
    noisy.set_threshold(60, "k")
    assert noisy.judged_by is noisy.fit
