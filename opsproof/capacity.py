"""Capacity planning: the runbook's monthly review and quarterly deep analysis, from CloudWatch history.

    >>> review = Review.read(env, aws, lookback_days=30)        # one batched GetMetricData for every metric
    >>> cpu = review["rds-cpu"]
    >>> cpu.fit.model, round(cpu.fit.growth_per_month * 100, 1), cpu.crossing_date, cpu.threshold_key
    ('linear', 2.9, datetime.date(2026, 10, 28), 'capacity.database_cpu.max_percent')
    >>> report = quarterly(review, scaling=...)                 # the five report sections, bottlenecks, budget

Everything here reads (probes) and computes; the checks in checks/capacity/ decide what fails. Values are in each
metric's display units (``Metric.scale``: bytes → GiB and so on).
"""

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from . import charts, config, forecast
from .forecast import MONTH_DAYS, Daily, Fit, day_date
from .probes import capacity as cap_probes
from .probes import cloudwatch

UTC = dt.timezone.utc
ACTIONS = {  # the runbook's monthly action items
    "reserved": "Order reserved instances (sustained growth)",
    "upgrade": "Plan database upgrade (CPU consistently > 60 %)",
    "storage": "Increase storage (projected to hit 80 % in 3 months)",
    "scaling": "Review auto-scaling policies (frequent scaling events)",
}


def when(t: float) -> str:
    """An epoch time as the checks show it."""
    return f"{dt.datetime.fromtimestamp(t, UTC):%Y-%m-%d %H:%M} UTC"


# ---- one metric ------------------------------------------------------------------------------------------------------
@dataclass
class Analysis:
    """One metric over the period: its history, daily summary, fitted trend, threshold and crossing."""

    id: str
    metric: config.capacity.Metric
    times: np.ndarray
    values: np.ndarray
    """Each period's value, in display units."""
    daily: Daily
    fit: Fit | None
    coverage: float
    threshold: float | None = None
    threshold_key: str | None = None
    lower_is_worse: bool = False
    crossing: float | None = None
    """The projected day (epoch day number) the trend reaches the threshold."""
    beyond_since: float | None = None
    """The day since which the daily series has been beyond the threshold (up to the last day)."""
    horizons: list[int] = field(default_factory=list)
    recent: Fit | None = None
    """Over a long period: the trend of its last recent_days alone (growth that changed lately shows here first). Its
    crossing counts when its growth differs from the period's by more than twice its standard error."""
    recent_days: int | None = None
    judged_by: Fit | None = None
    """The fit whose crossing counts: the earlier of the period's and the recent one."""

    @property
    def name(self) -> str:
        m = self.metric
        dims = ",".join(f"{k}={v}" for k, v in m.dimensions.items())
        return f"{m.label} ({self.id}: {m.namespace} {m.name} {dims})"

    @property
    def unit(self) -> str:
        return self.metric.display_unit

    @property
    def crossing_date(self) -> dt.date | None:
        return day_date(self.crossing) if self.crossing is not None else None

    @property
    def beyond_since_date(self) -> dt.date | None:
        return day_date(self.beyond_since) if self.beyond_since is not None else None

    def set_threshold(self, value: float | None, key: str | None, lower_is_worse: bool | None = None) -> None:
        self.threshold, self.threshold_key = value, key
        if lower_is_worse is not None:
            self.lower_is_worse = lower_is_worse
        self.crossing = self.beyond_since = None
        self.judged_by = self.fit
        if value is None or self.fit is None:
            return
        self.beyond_since = forecast.beyond_since(self.daily, value, self.lower_is_worse)
        if self.beyond_since is not None:
            self.crossing = self.beyond_since
            return
        for f in (self.fit, self.recent):
            if f is None or (f is self.recent and not f.differs(self.fit)):
                continue
            day = forecast.crossing_day(f, value, after=f.origin, lower_is_worse=self.lower_is_worse)
            if day is not None and (self.crossing is None or day < self.crossing):
                self.crossing, self.judged_by = day, f

    def months_to_crossing(self, now: dt.datetime) -> float | None:
        if self.crossing is None:
            return None
        return max(0.0, (self.crossing - now.timestamp() / forecast.DAY_S) / MONTH_DAYS)

    def projection(self, months: float, fit: Fit | None = None) -> tuple[float, float, float] | None:
        """(trend, low, high) `months` after the last observed day, by the period's fit (or the one given)."""
        fit = fit or self.fit
        if fit is None:
            return None
        day = fit.origin + months * MONTH_DAYS
        lo, hi = fit.interval(day, seasonal=False)
        return float(fit.predict(day, seasonal=False)[0]), float(lo[0]), float(hi[0])

    @property
    def _by(self) -> str:
        if self.judged_by is not None and self.judged_by is self.recent:
            return f" (by the last {self.recent_days} days' trend)"
        return ""

    def crossing_text(self) -> str:
        if self.threshold is None:
            return "no threshold"
        limit = f"{self.threshold:g} {self.unit}".strip()
        if self.beyond_since is not None:
            return f"{'at or under' if self.lower_is_worse else 'at or above'} {limit} since {self.beyond_since_date}"
        verb = "fall to" if self.lower_is_worse else "reach"
        if self.crossing is not None:
            return f"projected to {verb} {limit} on {self.crossing_date}{self._by}"
        if self.fit is None:
            return "no trend (too little data)"
        return f"not projected to {verb} {limit} within 5 years"

    def row(self) -> dict:
        """The metric as a table row: current level, trend, error, projections."""
        f = self.fit
        row = {"metric": self.id, "label": self.metric.label, "unit": self.unit,
               "coverage %": round(self.coverage * 100),
               "daily": self.metric.daily, "model": f.model if f else "-",
               "level": _r(f.level) if f else "-",
               "growth %/month": round(f.growth_per_month * 100, 2) if f else "-",
               "per day": _r(f.per_day) if f else "-",
               "fit error %": round(f.error_percent, 2) if f else "-",
               "backtest error %": round(f.backtest_percent, 2) if f and f.backtest_percent is not None else "-"}
        if self.recent is not None:
            row[f"last {self.recent_days} days %/month"] = round(self.recent.growth_per_month * 100, 2)
        for m in self.horizons:
            p = self.projection(m)
            row[f"{m} months"] = f"{_r(p[0])} ({_r(p[1])}..{_r(p[2])})" if p else "-"
        row["threshold"] = self.threshold if self.threshold is not None else "-"
        row["crossing"] = self.crossing_text()
        return row

    def chart(self, horizon_days: float) -> bytes:
        label = (self.threshold_key or "threshold").removeprefix("capacity.")
        return charts.forecast_chart(f"{self.metric.label} ({self.id})", self.times, self.values, self.daily,
                                     self.fit, horizon_days, self.threshold, self.unit, self.crossing, label,
                                     recent=self.recent, recent_label=f"last {self.recent_days} days")


def _r(x: float) -> float:
    """Round for a report: three significant figures, at least one decimal."""
    if x is None or not math.isfinite(x):
        return x
    if x == 0:
        return 0.0
    return round(x, max(1, 2 - int(math.floor(math.log10(abs(x))))))


def analyse(metric_id: str, metric, series: cloudwatch.Series, coverage: float, model: str,
            horizons: list[int], recent_days: int | None = None) -> Analysis:
    """Daily summary and trend of one metric; with recent_days (a long period), also the trend of its last days."""
    values = series.values * metric.scale
    d = forecast.daily(series.times, values, metric.daily)
    fit = forecast.fit_best(d.days, d.values, model) if len(d) >= 3 else None
    recent = None
    if recent_days and fit is not None and len(d) >= 1.5 * recent_days:
        tail = d.days >= d.days[-1] - recent_days + 1
        recent = forecast.fit_best(d.days[tail], d.values[tail], model)
    return Analysis(metric_id, metric, series.times, values, d, fit, coverage, lower_is_worse=metric.lower_is_worse,
                    horizons=list(horizons), recent=recent, recent_days=recent_days if recent else None)


# ---- the review ------------------------------------------------------------------------------------------------------
@dataclass
class Review:
    """Every configured metric over one period, analysed, with the thresholds of the monthly checks applied."""

    env: config.Environment
    fetched: cloudwatch.Fetch
    analyses: dict[str, Analysis]
    database: cap_probes.DatabaseSize | None
    now: dt.datetime
    lookback_days: int

    def __getitem__(self, metric_id: str) -> Analysis:
        return self.analyses[metric_id]

    @classmethod
    def read(cls, env: config.Environment, aws, lookback_days: int, now: dt.datetime | None = None) -> "Review":
        """Fetch every metric (batched GetMetricData), describe the database, analyse."""
        c = env.capacity
        now = now or dt.datetime.now(UTC)
        end = now.replace(second=0, microsecond=0)
        start = end - dt.timedelta(days=lookback_days)
        fetched = cloudwatch.fetch(aws("cloudwatch", "capacity"), c.metrics, start, end, c.period_s, c.max_datapoints_per_call)
        recent = c.lookback_days if lookback_days > c.lookback_days else None
        analyses = {mid: analyse(mid, m, fetched.series[mid], fetched.coverage(mid), c.model, c.horizons_months,
                                 recent) for mid, m in c.metrics.items()}
        database = cap_probes.database_size(aws("rds", "capacity"), env.rds.instance_id, c.connections.instance_memory_gib)
        review = cls(env, fetched, analyses, database, now, lookback_days)
        review.apply_thresholds()
        return review

    # ---- thresholds --------------------------------------------------------------------------------------------------
    @property
    def allocated_gb(self) -> float | None:
        s = self.env.capacity.storage
        if s.allocated_gb:
            return s.allocated_gb
        return self.database.allocated_gb if self.database and self.database.allocated_gb else None

    @property
    def max_connections(self) -> int | None:
        c = self.env.capacity.connections
        return c.max_connections or (self.database.max_connections if self.database else None)

    def apply_thresholds(self) -> None:
        c = self.env.capacity
        for mid, a in self.analyses.items():
            if a.metric.threshold is not None:
                a.set_threshold(a.metric.threshold, f"capacity.metrics.{mid}.threshold")
        cpu = self.analyses[c.database_cpu.metric]
        cpu.set_threshold(c.database_cpu.max_percent, "capacity.database_cpu.max_percent")
        store = self.analyses[c.storage.metric]
        if self.allocated_gb:
            floor = self.allocated_gb * (100 - c.storage.max_used_percent) / 100 * GIB_PER_DISPLAY(store.metric)
            store.set_threshold(round(floor, 6), "capacity.storage.max_used_percent", lower_is_worse=True)
        conn = self.analyses[c.connections.metric]
        if self.max_connections:
            conn.set_threshold(self.max_connections * c.connections.max_share_percent / 100,
                               "capacity.connections.max_share_percent")
        self.analyses[c.queue.metric].set_threshold(float(c.queue.max_messages), "capacity.queue.max_messages")

    def horizon_days(self) -> float:
        return max(self.env.capacity.horizons_months) * MONTH_DAYS

    def gaps(self) -> list[Analysis]:
        """Metrics whose history covers too little of the period to forecast."""
        need = self.env.capacity.min_coverage_percent / 100
        return [a for a in self.analyses.values() if a.coverage < need]


def GIB_PER_DISPLAY(metric) -> float:  # noqa: N802 - reads like the unit it converts
    """Display units per GiB for a storage metric (1 when it is shown in GiB)."""
    return (1024 ** 3) * metric.scale


def undrained_stretches(times, values, below: float, period_s: int) -> list[tuple[float, float]]:
    """(from, to) epoch seconds of each stretch of the history in which the value never fell to `below` or under:
    from the end of one drained period (or the first datapoint) to the start of the next (or the last period's end).

    >>> undrained_stretches([0, 3600, 7200, 10800], [0, 50, 40, 5], 10, 3600)
    [(3600, 10800)]
    """
    times = list(times)
    if not times:
        return []
    drained = [t for t, v in zip(times, values) if v <= below]
    out, since = [], times[0]
    for t in drained:
        if t > since:
            out.append((since, t))
        since = t + period_s
    end = times[-1] + period_s
    if end > since:
        out.append((since, end))
    return out


# ---- storage in the runbook's terms ----------------------------------------------------------------------------------
@dataclass
class StorageOutlook:
    allocated_gb: float
    used_gb: float
    used_percent: float
    limit_gb: float
    per_day_gb: float
    fitted_crossing: dt.date | None
    users_crossing: dt.date | None
    """The runbook's planning model: users × (1 + growth)^months × storage per user."""
    crossing: dt.date | None
    """The one the check judges (capacity.storage.model)."""
    model: str


def storage_outlook(review: Review) -> StorageOutlook | None:
    c = review.env.capacity
    a = review[c.storage.metric]
    allocated = review.allocated_gb
    if not allocated or a.fit is None:
        return None
    per_gib = GIB_PER_DISPLAY(a.metric)
    fit = a.judged_by or a.fit
    free_now = fit.level / per_gib
    used = allocated - free_now
    limit = allocated * c.storage.max_used_percent / 100
    fitted = a.crossing_date
    u = c.users
    months = forecast.users_crossing_months(u.current * u.storage_per_user_gb, u.monthly_growth_percent, limit)
    users_date = (review.now + dt.timedelta(days=months * MONTH_DAYS)).date() if months is not None else None
    pick = {"fitted": fitted, "users": users_date,
            "earliest": min((d for d in (fitted, users_date) if d is not None), default=None)}[c.storage.model]
    return StorageOutlook(allocated, used, used / allocated * 100, limit, -fit.per_day / per_gib, fitted,
                          users_date, pick, c.storage.model)


def users_table(env: config.Environment, allocated_gb: float | None) -> list[dict]:
    """The runbook's forecasting snippet, for each horizon."""
    u = env.capacity.users
    rows = []
    for m in [0] + list(env.capacity.horizons_months):
        users = forecast.users_projection(u.current, u.monthly_growth_percent, m)
        storage = users * u.storage_per_user_gb
        rows.append({"months ahead": m, "users": round(users), "storage needed GB": round(storage, 1),
                     "share of allocated %": round(storage / allocated_gb * 100, 1) if allocated_gb else "-"})
    return rows


# ---- scaling ---------------------------------------------------------------------------------------------------------
@dataclass
class ScalingSummary:
    resource_id: str
    activities: int
    per_day: float
    flaps: int
    first_flap: dt.datetime | None
    days: list[float]
    """Epoch day numbers with their counts (for the chart)."""
    counts: list[int]


def scaling_summary(resource_id: str, acts: list[cap_probes.ScalingActivity], days: float,
                    flap_minutes: int) -> ScalingSummary:
    """Successful activities per day, and flaps: a change of direction within flap_minutes of the previous step."""
    ok = [a for a in acts if a.status == "Successful"]
    flaps, first_flap, prev_dir, prev, prev_desired = 0, None, 0, None, None
    for a in ok:
        direction = 0
        if a.desired is not None and prev_desired is not None:
            direction = (a.desired > prev_desired) - (a.desired < prev_desired)
        if prev is not None and direction and prev_dir and direction != prev_dir \
                and (a.start - prev.start) <= dt.timedelta(minutes=flap_minutes):
            flaps += 1
            first_flap = first_flap or prev.start
        prev, prev_dir = a, direction or prev_dir
        prev_desired = a.desired if a.desired is not None else prev_desired
    per_day: dict[float, int] = {}
    for a in ok:
        d = math.floor(a.start.timestamp() / forecast.DAY_S)
        per_day[d] = per_day.get(d, 0) + 1
    keys = sorted(per_day)
    return ScalingSummary(resource_id, len(ok), len(ok) / max(days, 1e-9), flaps, first_flap, keys,
                          [per_day[k] for k in keys])


def read_scaling(env: config.Environment, aws, days: int, now: dt.datetime | None = None) -> list[ScalingSummary]:
    s = env.capacity.scaling
    now = now or dt.datetime.now(UTC)
    aas = aws("application-autoscaling", "capacity")
    resources = s.resources or cap_probes.scalable_targets(aas, s.service_namespace)
    since = now - dt.timedelta(days=days)
    return [scaling_summary(r, cap_probes.scaling_activities(aas, s.service_namespace, r, since), days,
                            s.flap_minutes) for r in resources]


# ---- recommendations and budget --------------------------------------------------------------------------------------
@dataclass
class Recommendation:
    action: str
    """The runbook's action item."""
    resource: str
    why: str
    change: str
    monthly_cost: float | None
    """Change in monthly cost (negative: a saving); None when the price table lacks a price."""
    cost_note: str = ""
    metric: str | None = None
    """The metric (analysis id) whose bottleneck it answers."""

    def row(self, currency: str) -> dict:
        cost = "-" if self.monthly_cost is None else f"{self.monthly_cost:+,.2f} {currency}/month"
        return {"action": self.action, "resource": self.resource, "why": self.why, "change": self.change,
                "budget impact": cost, "price basis": self.cost_note}


def _instance_month(budget, klass: str, multi_az: bool) -> float | None:
    price = budget.instance_hour.get(klass)
    return None if price is None else price * budget.hours_per_month * (2 if multi_az else 1)


def upgrade(review: Review, why: str) -> Recommendation:
    b = review.env.capacity.budget
    db = review.database
    if db is None:
        return Recommendation(ACTIONS["upgrade"], review.env.rds.instance_id, why, "next instance class", None,
                              "instance not found")
    path = b.upgrade_path
    nxt = path[path.index(db.instance_class) + 1] if db.instance_class in path[:-1] else None
    if nxt is None:
        return Recommendation(ACTIONS["upgrade"], db.instance_id, why, f"{db.instance_class} → (none in "
                              "capacity.budget.upgrade_path)", None, "")
    now_m, next_m = _instance_month(b, db.instance_class, db.multi_az), _instance_month(b, nxt, db.multi_az)
    cost = None if now_m is None or next_m is None else next_m - now_m
    return Recommendation(ACTIONS["upgrade"], db.instance_id, why, f"{db.instance_class} → {nxt}", cost,
                          f"capacity.budget.instance_hour × {b.hours_per_month:g} h" + (" × 2 (Multi-AZ)"
                                                                                         if db.multi_az else ""))


def more_storage(review: Review, why: str) -> Recommendation:
    c = review.env.capacity
    b = c.budget
    a = review[c.storage.metric]
    allocated = review.allocated_gb or 0
    resource = review.database.instance_id if review.database else review.env.rds.instance_id
    if a.fit is None or not allocated:
        return Recommendation(ACTIONS["storage"], resource, why, "more storage", None, "no trend or allocation")
    months = c.quarterly.bottleneck_months  # storage grows again later; it never shrinks
    free_then = a.projection(months, a.judged_by)[0] / GIB_PER_DISPLAY(a.metric)
    used_then = allocated - free_then
    need = used_then / (c.storage.max_used_percent / 100)
    new = max(allocated + b.storage_step_gb, math.ceil(need / b.storage_step_gb) * b.storage_step_gb)
    return Recommendation(ACTIONS["storage"], resource, why,
                          f"{allocated:g} → {new:g} GiB (used {used_then:,.0f} GiB in {months:g} months stays under "
                          f"{c.storage.max_used_percent:g} %)", (new - allocated) * b.storage_gb_month,
                          "capacity.budget.storage_gb_month")


def reserved(review: Review) -> Recommendation | None:
    """'Order reserved instances if sustained growth': the database's load grows in both halves of the period."""
    c = review.env.capacity
    a = review[c.database_cpu.metric]
    d = a.daily
    if review.database is None or len(d) < 28:
        return None
    half = len(d) // 2
    rates = []
    for part in (slice(0, half), slice(half, None)):
        f = forecast.fit_trend(d.days[part], d.values[part], "compound", backtest=False)
        rates.append(f.growth_per_month * 100 if f else -math.inf)
    if min(rates) < c.quarterly.sustained_growth_percent:
        return None
    db, b = review.database, c.budget
    monthly = _instance_month(b, db.instance_class, db.multi_az)
    saving = None if monthly is None else -monthly * b.reserved_discount_percent / 100
    return Recommendation(ACTIONS["reserved"], db.instance_id,
                          f"{a.metric.label} grew {rates[0]:.1f} %/month, then {rates[1]:.1f} %/month (≥ "
                          f"{c.quarterly.sustained_growth_percent:g}, capacity.quarterly.sustained_growth_percent)",
                          f"1-year reserved {db.instance_class}" + (" Multi-AZ" if db.multi_az else ""), saving,
                          f"capacity.budget.reserved_discount_percent = {b.reserved_discount_percent:g}")


def more_tasks(review: Review, a: Analysis, why: str) -> Recommendation:
    b = review.env.capacity.budget
    service = a.metric.dimensions.get("ServiceName", a.id)
    return Recommendation("Add capacity (raise the service's maximum / desired count)", service, why,
                          "+1 task", b.ecs_task_month, "capacity.budget.ecs_task_month")


def review_scaling(s: ScalingSummary, why: str) -> Recommendation:
    return Recommendation(ACTIONS["scaling"], s.resource_id, why, "cooldowns / target value", 0.0,
                          "engineering time only")


# ---- the quarterly report --------------------------------------------------------------------------------------------
@dataclass
class Bottleneck:
    analysis: Analysis
    months: float
    """Months from now to the crossing (0: already beyond)."""

    @property
    def text(self) -> str:
        a = self.analysis
        return f"{a.name}: {a.crossing_text()} ({a.threshold_key})"

    def row(self) -> dict:
        a = self.analysis
        return {"metric": a.id, "label": a.metric.label, "threshold": f"{a.threshold:g} {a.unit}".strip(),
                "threshold key": a.threshold_key, "crossing": a.crossing_date, "months from now": round(self.months, 1),
                "status": "beyond now" if a.beyond_since is not None else "projected"}


@dataclass
class Quarterly:
    review: Review
    scaling: list[ScalingSummary]
    utilization: list[dict]
    projections: list[dict]
    users: list[dict]
    seasonality: list[dict]
    bottlenecks: list[Bottleneck]
    recommendations: list[Recommendation]
    budget_total: float


def quarterly(review: Review, scaling: list[ScalingSummary]) -> Quarterly:
    """The runbook's five report sections from one review of the quarter's history."""
    c = review.env.capacity
    horizon = max(c.horizons_months)
    utilization, projections, season = [], [], []
    for a in review.analyses.values():
        recent = a.values[a.times >= a.times[-1] - 7 * forecast.DAY_S] if len(a.times) else a.values
        utilization.append({
            "metric": a.id, "label": a.metric.label, "unit": a.unit, "coverage %": round(a.coverage * 100),
            "last 7 days mean": _r(float(np.mean(recent))) if len(recent) else "-",
            "last 7 days p95": _r(forecast.percentile(recent, 95)) if len(recent) else "-",
            "period peak": _r(float(np.max(a.values))) if len(a.values) else "-",
            "threshold": a.threshold if a.threshold is not None else "-",
            "of threshold %": _of_threshold(a)})
        projections.append(a.row())
        if a.fit is not None and a.fit.seasonal:
            eff = a.fit.weekday_effects()
            fmt = (lambda x: f"{x * 100:+.1f} %") if a.fit.model == "compound" else (lambda x: f"{_r(x):+g}")
            season.append({"metric": a.id, **{d: fmt(x) for d, x in zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                                                         "Sun"), eff)}})
    bottlenecks = []
    for a in review.analyses.values():
        months = a.months_to_crossing(review.now)
        if months is not None and months <= horizon:
            bottlenecks.append(Bottleneck(a, months))
    bottlenecks.sort(key=lambda b: b.months)
    recs = recommendations(review, scaling, bottlenecks)
    total = sum(r.monthly_cost for r in recs if r.monthly_cost is not None)
    return Quarterly(review, scaling, utilization, projections, users_table(review.env, review.allocated_gb), season,
                     bottlenecks, recs, total)


def _of_threshold(a: Analysis) -> float | str:
    """How close the current level is to the threshold (100: at it); for a floor, the floor over the level."""
    level = _latest(a)
    if a.threshold is None or level is None or not a.threshold or not level:
        return "-"
    return round((a.threshold / level if a.lower_is_worse else level / a.threshold) * 100, 1)


def _latest(a: Analysis) -> float | None:
    if a.fit is not None:
        return a.fit.level
    return float(a.daily.values[-1]) if len(a.daily) else None


def recommendations(review: Review, scaling: list[ScalingSummary],
                    bottlenecks: list[Bottleneck]) -> list[Recommendation]:
    c = review.env.capacity
    out = []
    for b in bottlenecks:
        a = b.analysis
        why = a.crossing_text()
        before = len(out)
        if a.id == c.database_cpu.metric:
            out.append(upgrade(review, why))
        elif a.id == c.storage.metric:
            out.append(more_storage(review, why))
        elif a.id == c.connections.metric:
            out.append(Recommendation("Add connection pooling or upgrade (connections near max_connections)",
                                      a.metric.dimensions.get("DBInstanceIdentifier", a.id), why,
                                      "RDS Proxy / PgBouncer, or the next class", None, "not priced"))
        elif a.metric.namespace == "AWS/ECS":
            out.append(more_tasks(review, a, why))
        elif a.metric.kind == "queue":
            out.append(Recommendation("Review auto-scaling policies (the workers do not keep up with the queue)",
                                      a.metric.dimensions.get("QueueName", a.id), why,
                                      "scale the workers on queue depth", 0.0, "engineering time only"))
        else:
            out.append(Recommendation("Plan more capacity", a.id, why, "-", None, "not priced"))
        for rec in out[before:]:
            rec.metric = a.id
    s = c.scaling
    for summary in scaling:
        if summary.per_day > s.max_per_day or summary.flaps > s.max_flaps:
            out.append(review_scaling(summary, f"{summary.per_day:.1f} scaling events/day, {summary.flaps} flaps"))
    ri = reserved(review)
    if ri is not None and not any(r.action == ACTIONS["upgrade"] for r in out):
        out.append(ri)  # reserving the class you are about to leave would be money wasted
    return out
