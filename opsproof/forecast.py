"""Forecasts for capacity planning: a metric's daily history, a fitted trend (linear or compound growth) with a weekly
pattern, its error, projections with an interval, and the day it crosses a threshold. numpy only; no pytest.

    >>> import numpy as np
    >>> days = np.arange(20000, 20090)                       # 90 days (epoch day numbers)
    >>> fit = fit_trend(days, 100 * 1.05 ** ((days - days[0]) / MONTH_DAYS), "compound")
    >>> round(fit.growth_per_month * 100, 2), fit.error_percent < 0.01
    (5.0, True)
    >>> round(fit.level, 1)                                  # the last day: 100 × 1.05^(89 days / 30.44)
    115.3
    >>> int(crossing_day(fit, 200, after=days[-1]) - days[-1])  # 115.3 × 1.05^m = 200 → m = 11.29 months
    344

The model is the runbook's arithmetic made honest: the runbook projects users with compound growth
(``current × (1 + rate) ** months``); here the rate is fitted to the measured history instead of assumed, the weekly
pattern is taken out before the trend is judged, and the fit's error is measured twice: on the data it was fitted
to, and on the last quarter of the history held out of a fit on the rest (a backtest).
"""

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

DAY_S = 86400
MONTH_DAYS = 365.25 / 12
"""An average month (30.44 days): growth 'per month' and horizons in months use it."""
MODELS = ("linear", "compound")
MIN_DAYS_SEASONAL = 14
"""Fewer days than this: no weekly pattern is fitted (two weeks are the least that separate it from the trend)."""


# ---- daily summaries -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Daily:
    """One value per UTC day: days are epoch day numbers (day 0 = 1970-01-01)."""

    days: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.days)


def daily(times: np.ndarray, values: np.ndarray, how: str = "p95", min_share: float = 0.9) -> Daily:
    """Summarise period values per UTC day (mean, max, min or p95). Days with fewer periods than min_share of the
    typical day (the partial first and last day of a window: today so far) are left out: their peak would be too
    low.

    >>> t = np.arange(0, 3 * DAY_S, 3600.0)
    >>> daily(t, np.arange(len(t), dtype=float), "max").values.tolist()
    [23.0, 47.0, 71.0]
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    if not len(times):
        return Daily(np.empty(0), np.empty(0))
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    day = np.floor(times / DAY_S).astype(np.int64)
    uniq, idx, counts = np.unique(day, return_index=True, return_counts=True)
    groups = np.split(values, idx[1:])
    pick = {"mean": np.mean, "max": np.max, "min": np.min, "p95": lambda g: np.percentile(g, 95)}[how]
    out = np.array([pick(g) for g in groups], dtype=float)
    keep = counts >= min_share * np.median(counts)
    return Daily(uniq[keep].astype(float), out[keep])


# ---- fits ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fit:
    """A fitted trend (+ weekly pattern) of a daily series.

    linear:   y = a + b·(day − origin) + weekday effect
    compound: log y = a + b·(day − origin) + weekday effect    (growth per month = e^(b·30.44) − 1)
    """

    model: str
    origin: float
    """The last observed day: projections count from it."""
    coef: np.ndarray
    """a, b, then six weekday effects (effect coding: Monday..Saturday; Sunday's is minus their sum)."""
    xtx_inv: np.ndarray
    sigma: float
    """Residual standard deviation (in log space for compound)."""
    n: int
    seasonal: bool
    rmse: float
    """In-sample root mean square error, in the series' units."""
    error_percent: float
    """In-sample weighted absolute percentage error: Σ|y − ŷ| / Σ|y| × 100."""
    backtest_percent: float | None = None
    """The same error on the last quarter of the history, forecast by a fit on the first three quarters."""

    # ---- the model -------------------------------------------------------------------------------------------------
    def _design(self, days) -> np.ndarray:
        return _design(np.atleast_1d(np.asarray(days, dtype=float)), self.origin, self.seasonal)

    def predict(self, days, seasonal: bool = True) -> np.ndarray:
        """The forecast for these days (with the weekly pattern, or the trend alone)."""
        x = self._design(days)
        if not seasonal:
            x[:, 2:] = 0
        z = x @ self.coef
        return np.exp(z) if self.model == "compound" else z

    def interval(self, days, z: float = 1.96, seasonal: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """A ~95 % prediction interval for single days (the trend's uncertainty plus a day's scatter), around the
        forecast with its weekly pattern or around the trend alone."""
        x = self._design(days)
        se = self.sigma * np.sqrt(1 + np.einsum("ij,jk,ik->i", x, self.xtx_inv, x))
        if not seasonal:
            x[:, 2:] = 0
        mid = x @ self.coef
        lo, hi = mid - z * se, mid + z * se
        return (np.exp(lo), np.exp(hi)) if self.model == "compound" else (lo, hi)

    @property
    def level(self) -> float:
        """The trend's value on the last observed day (weekly pattern taken out)."""
        return float(self.predict(self.origin, seasonal=False)[0])

    @property
    def per_day(self) -> float:
        """Growth per day in the series' units, at the last observed day."""
        b = float(self.coef[1])
        return b * self.level if self.model == "compound" else b

    @property
    def per_day_se(self) -> float:
        """Standard error of per_day (the slope's uncertainty, in the series' units a day)."""
        se_b = self.sigma * math.sqrt(max(float(self.xtx_inv[1, 1]), 0.0))
        return se_b * self.level if self.model == "compound" else se_b

    def differs(self, other: "Fit", z: float = 2.0) -> bool:
        """Whether this fit's growth per day is `z` standard errors (its own) away from another's: a change of trend
        the data supports, not the noise of a short window."""
        return abs(self.per_day - other.per_day) > z * self.per_day_se

    @property
    def growth_per_month(self) -> float:
        """Relative growth per month (0.05 = 5 %): compound's rate, or linear's slope over its current level."""
        b = float(self.coef[1])
        if self.model == "compound":
            return math.exp(b * MONTH_DAYS) - 1
        level = self.level
        return b * MONTH_DAYS / level if level else math.inf if b else 0.0

    def weekday_effects(self) -> list[float]:
        """Monday..Sunday: additive (linear) or multiplicative − 1 (compound) departure from the trend."""
        if not self.seasonal:
            return [0.0] * 7
        e = list(self.coef[2:8]) + [-float(np.sum(self.coef[2:8]))]
        return [math.exp(x) - 1 for x in e] if self.model == "compound" else [float(x) for x in e]


def _design(days: np.ndarray, origin: float, seasonal: bool) -> np.ndarray:
    x = np.zeros((len(days), 8))
    x[:, 0] = 1
    x[:, 1] = days - origin
    if seasonal:
        wd = ((days.astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday: day 0 → weekday 3
        for w in range(6):
            x[:, 2 + w] = (wd == w).astype(float)
        x[wd == 6, 2:8] = -1
    return x


def _solve(days, y, model: str, seasonal: bool, origin: float) -> Fit | None:
    if model == "compound":
        if np.any(y <= 0):
            return None
        target = np.log(y)
    elif model == "linear":
        target = y
    else:
        raise ValueError(f"unknown model {model!r} (linear, compound)")
    x = _design(days, origin, seasonal)
    cols = 8 if seasonal else 2
    xs = x[:, :cols]
    coef_s, *_ = np.linalg.lstsq(xs, target, rcond=None)
    coef = np.zeros(8)
    coef[:cols] = coef_s
    resid = target - xs @ coef_s
    dof = max(1, len(y) - cols)
    sigma = float(np.sqrt(np.sum(resid ** 2) / dof))
    xtx_inv = np.zeros((8, 8))
    xtx_inv[:cols, :cols] = np.linalg.pinv(xs.T @ xs)
    fitted = np.exp(xs @ coef_s) if model == "compound" else xs @ coef_s
    err = y - fitted
    denom = float(np.sum(np.abs(y)))
    return Fit(model, origin, coef, xtx_inv, sigma, len(y), seasonal, float(np.sqrt(np.mean(err ** 2))),
               float(np.sum(np.abs(err)) / denom * 100) if denom else 0.0)


def fit_trend(days, values, model: str = "linear", seasonal: bool | None = None, backtest: bool = True) -> Fit | None:
    """Fit one model to a daily series; None when it cannot apply (compound growth of a series with zeros, or
    fewer than three days)."""
    days = np.asarray(days, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(days) < 3:
        return None
    seasonal = len(days) >= MIN_DAYS_SEASONAL if seasonal is None else seasonal
    fit = _solve(days, y, model, seasonal, float(days[-1]))
    if fit is None or not backtest:
        return fit
    split = int(len(days) * 0.75)
    if split >= 7 and len(days) - split >= 3:
        head = _solve(days[:split], y[:split], model, seasonal and split >= MIN_DAYS_SEASONAL, float(days[split - 1]))
        if head is not None:
            guess = head.predict(days[split:])
            denom = float(np.sum(np.abs(y[split:])))
            back = float(np.sum(np.abs(y[split:] - guess)) / denom * 100) if denom else 0.0
            fit = Fit(**{**fit.__dict__, "backtest_percent": back})
    return fit


def fit_best(days, values, model: str = "best") -> Fit | None:
    """The configured model, or ("best") the one whose backtest error is lower (in-sample error without one).

    >>> import numpy as np
    >>> d = np.arange(0, 60.0)
    >>> fit_best(d, 50 + 2 * d).model, fit_best(d, 50 * 1.2 ** (d / MONTH_DAYS)).model
    ('linear', 'compound')
    """
    if model != "best":
        return fit_trend(days, values, model)
    fits = [f for f in (fit_trend(days, values, m) for m in MODELS) if f is not None]
    if not fits:
        return None

    def score(f: Fit):
        return (f.backtest_percent if f.backtest_percent is not None else f.error_percent, MODELS.index(f.model))

    return min(fits, key=score)


# ---- thresholds ------------------------------------------------------------------------------------------------------
def crossing_day(fit: Fit, threshold: float, after: float, lower_is_worse: bool = False,
                 max_days: int = 5 * 365) -> float | None:
    """The first day after `after` on which the forecast (with its weekly pattern) reaches the threshold: at or above
    it, or at or below it for a floor (free storage). None within max_days."""
    days = np.arange(math.floor(after) + 1, math.floor(after) + 1 + max_days, dtype=float)
    y = fit.predict(days)
    hit = y <= threshold if lower_is_worse else y >= threshold
    idx = np.flatnonzero(hit)
    return float(days[idx[0]]) if len(idx) else None


def beyond_since(d: Daily, threshold: float, lower_is_worse: bool = False) -> float | None:
    """The first day of the run of days, up to the last, on which the series is beyond the threshold (None when the
    last day is not).

    >>> import numpy as np
    >>> beyond_since(Daily(np.arange(5.0), np.array([70, 50, 65, 66, 70.0])), 60)
    2.0
    """
    if not len(d):
        return None
    beyond = d.values <= threshold if lower_is_worse else d.values >= threshold
    if not beyond[-1]:
        return None
    inside = np.flatnonzero(~beyond)
    return float(d.days[inside[-1] + 1]) if len(inside) else float(d.days[0])


def day_date(day: float) -> dt.date:
    """An epoch day number as a date."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def months_to_days(months: float) -> float:
    return months * MONTH_DAYS


# ---- the runbook's planning model ----------------------------------------------------------------------------------
def users_projection(current: float, monthly_growth_percent: float, months: float) -> float:
    """The runbook: projected_users = current_users × (1 + monthly_growth_rate) ** months_ahead.

    >>> round(users_projection(5000, 15, 6))
    11565
    """
    return current * (1 + monthly_growth_percent / 100) ** months


def users_crossing_months(current_gb: float, monthly_growth_percent: float, threshold_gb: float) -> float | None:
    """Months until users × storage per user reaches threshold_gb (None if it never grows; 0 if already there)."""
    if current_gb >= threshold_gb:
        return 0.0
    g = monthly_growth_percent / 100
    if g <= 0 or current_gb <= 0:
        return None
    return math.log(threshold_gb / current_gb) / math.log(1 + g)


def percentile(values, q: float) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.percentile(values, q)) if len(values) else math.nan
