"""Capacity charts as PNG bytes for the report (``evidence.image(title, png)`` embeds them in the self-contained HTML).

    >>> png = forecast_chart("Database CPU", times, values, daily, fit, horizon_days=365, threshold=60, unit="%")
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True

matplotlib's object API on the Agg canvas: no pyplot, no global figure state, safe in threads and without a display.
"""

import datetime as dt
import io
import math

import numpy as np

from .forecast import DAY_S, Daily, Fit, day_date

UTC = dt.timezone.utc
SIZE = (8.0, 2.9)
DPI = 80
HISTORY, DAILY, TREND, RECENT, LIMIT = "#9aa5b1", "#1f5fa8", "#d9731a", "#7b3fa0", "#c0392b"


def _dates(epoch_seconds) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(float(t), UTC) for t in np.atleast_1d(epoch_seconds)]


def _day_dates(days) -> list[dt.datetime]:
    return _dates(np.asarray(days, dtype=float) * DAY_S)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _axes(title: str, unit: str):
    # matplotlib is imported when a chart is drawn, not when checks are collected (it costs ~0.2 s).
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10, loc="left")
    if unit:
        ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, alpha=0.25)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return fig, ax


def envelope(times, values, buckets: int = 1200):
    """(times, low, high): as they are when few, else each bucket's first time, minimum and maximum."""
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    if len(times) <= 2 * buckets:
        return times, values, values
    size = math.ceil(len(times) / buckets)
    pad = (-len(values)) % size
    v = np.concatenate([values, np.full(pad, np.nan)]).reshape(-1, size)
    return times[::size], np.nanmin(v, axis=1), np.nanmax(v, axis=1)


def forecast_chart(title: str, times, values, daily: Daily | None, fit: Fit | None, horizon_days: float,
                   threshold: float | None = None, unit: str = "", crossing: float | None = None,
                   threshold_label: str = "threshold", recent: Fit | None = None,
                   recent_label: str = "recent") -> bytes:
    """History (each period), the daily summary the trend was fitted to, the fitted trend and its projection with a
    ~95 % band, the threshold line and the projected day of crossing. Values are in display units."""
    fig, ax = _axes(title, unit)
    if len(times):
        t, lo, hi = envelope(times, values)
        if lo is hi:
            ax.plot(_dates(t), hi, color=HISTORY, lw=0.5, alpha=0.6, label="history")
        else:  # thousands of periods: their range per slice of time draws the same picture, ten times faster
            ax.fill_between(_dates(t), lo, hi, color=HISTORY, alpha=0.5, lw=0, label="history (range)")
    if daily is not None and len(daily):
        ax.plot(_day_dates(daily.days), daily.values, "o", ms=2.5, color=DAILY, label="daily")
    if fit is not None and daily is not None and len(daily):
        past = np.arange(daily.days[0], fit.origin + 1)
        ax.plot(_day_dates(past), fit.predict(past, seasonal=False), color=TREND, lw=1.4,
                label=f"{fit.model} trend ({fit.growth_per_month * 100:+.1f} %/month, error {fit.error_percent:.1f} %)")
        future = np.arange(fit.origin, fit.origin + max(1.0, horizon_days) + 1)
        lo, hi = fit.interval(future, seasonal=False)
        ax.plot(_day_dates(future), fit.predict(future, seasonal=False), color=TREND, lw=1.4, ls="--",
                label="projection")
        ax.fill_between(_day_dates(future), lo, hi, color=TREND, alpha=0.15, lw=0)
    if recent is not None:
        future = np.arange(recent.origin, recent.origin + max(1.0, horizon_days) + 1)
        ax.plot(_day_dates(future), recent.predict(future, seasonal=False), color=RECENT, lw=1.2, ls=":",
                label=f"{recent_label}: {recent.model} ({recent.growth_per_month * 100:+.1f} %/month)")
    if threshold is not None:
        key = "" if threshold_label == "threshold" else f" ({threshold_label})"
        ax.axhline(threshold, color=LIMIT, lw=1, ls="--", label=f"threshold {threshold:g} {unit}".strip() + key)
    if crossing is not None:
        when = _day_dates([crossing])[0]
        ax.axvline(when, color=LIMIT, lw=1, alpha=0.7)
        ax.annotate(f"crosses {day_date(crossing):%Y-%m-%d}", (when, threshold if threshold is not None else 0),
                    xytext=(4, 4), textcoords="offset points", fontsize=7, color=LIMIT)
    if len(values):
        lo, hi = float(np.min(values)), float(np.max(values))
        if threshold is not None:
            lo, hi = min(lo, threshold), max(hi, threshold)
        span = max(hi - lo, abs(hi) * 0.1, 1e-9)
        bottom, top = ax.get_ylim()  # what the projections asked for, kept within reason
        ax.set_ylim(max(bottom, lo - span, 0 if lo >= 0 else -np.inf), min(top, hi + span))
    ax.legend(fontsize=6.5, loc="upper left", ncols=3, frameon=False)
    return _png(fig)


def bars_chart(title: str, days, counts, limit: float | None = None, unit: str = "per day",
               limit_label: str = "limit") -> bytes:
    """Counts per day (scaling activities) with a limit line."""
    fig, ax = _axes(title, unit)
    ax.bar(_day_dates(days), counts, width=0.8, color=DAILY)
    if limit is not None:
        ax.axhline(limit, color=LIMIT, lw=1, ls="--", label=f"{limit_label} {limit:g}")
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    return _png(fig)


def series_chart(title: str, times, values, unit: str = "") -> bytes:
    """One measured value over runs (the run history's trends): a line with each run's point."""
    fig, ax = _axes(title, unit)
    ax.plot(_dates(times), values, "o-", ms=2.5, lw=1, color=DAILY)
    return _png(fig)
