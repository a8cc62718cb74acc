"""The runbook's Monthly Capacity Review: the metrics to review, forecast, and its four action items.

Each check reads the same history (checks/capacity/conftest.py: one batched GetMetricData) and judges one action item;
its chart shows the history, the fitted trend, the projection and the threshold line.
"""

import datetime as dt

import numpy as np
import pytest

from opsproof import capacity, charts, forecast

pytestmark = [pytest.mark.capacity]


def _show(evidence, a: capacity.Analysis, horizon_days: float) -> None:
    evidence.table(f"{a.id}: trend and projections", [a.row()])
    evidence.image(f"{a.metric.label} ({a.id})", a.chart(horizon_days))


def _when(t: float) -> str:
    return f"{dt.datetime.fromtimestamp(t, dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


@pytest.mark.monthly
def test_capacity_metrics_have_history(monthly_review, env, evidence):
    """Monthly Capacity Review: every metric to review (CPU, memory, storage, network, connections, queue depth) has
    history for the period, and each is forecast 3, 6 and 12 months ahead."""
    r = monthly_review
    c = env.capacity
    f = r.fetched
    evidence.value("period", f"{f.start:%Y-%m-%d %H:%M} – {f.end:%Y-%m-%d %H:%M} UTC ({r.lookback_days} days, "
                             f"{f.period_s} s periods)")
    evidence.value("CloudWatch GetMetricData calls", f.calls)
    evidence.value("datapoints read", f.datapoints)
    evidence.value("fetch seconds", round(f.seconds, 2))
    evidence.table("forecasts", [a.row() for a in r.analyses.values()])
    for a in r.analyses.values():
        evidence.image(f"{a.metric.label} ({a.id})", a.chart(r.horizon_days()))
    gaps = [f"{a.name}: data for {a.coverage * 100:.0f} %"
            + (f", last datapoint {_when(a.times[-1])}" if len(a.times) else ", no datapoints at all")
            for a in r.gaps()]
    assert not gaps, f"{len(gaps)} metric(s) with too little history to forecast (under " \
                     f"{c.min_coverage_percent:g} % of the last {r.lookback_days} days, " \
                     "capacity.min_coverage_percent): " + "; ".join(gaps)


@pytest.mark.monthly
def test_database_cpu_not_consistently_above_60_percent(monthly_review, env, evidence):
    """Plan database upgrade if CPU consistently >60%: the p95 of the database's CPU over the period stays at or
    under capacity.database_cpu.max_percent."""
    r = monthly_review
    c = env.capacity.database_cpu
    a = r[c.metric]
    _show(evidence, a, r.horizon_days())
    assert len(a.values), f"{a.name}: no datapoints in the last {r.lookback_days} days"
    p = forecast.percentile(a.values, c.percentile)
    evidence.value(f"p{c.percentile:g} over {r.lookback_days} days", round(p, 1), "%")
    evidence.value("mean", round(float(np.mean(a.values)), 1), "%")
    evidence.value("peak", round(float(np.max(a.values)), 1), "%")
    evidence.value("daily trend", a.crossing_text())
    if p > c.max_percent:
        rec = capacity.upgrade(r, a.crossing_text())
        evidence.table("recommended", [rec.row(env.capacity.budget.currency)])
        pytest.fail(f"{a.name}: p{c.percentile:g} over the last {r.lookback_days} days is {p:.1f} % > "
                    f"{c.max_percent:g} % (capacity.database_cpu.max_percent); {a.crossing_text()} — "
                    f"{rec.action}: {rec.change}{_cost(rec, env)}", pytrace=False)


@pytest.mark.monthly
def test_storage_not_projected_to_reach_80_percent_within_3_months(monthly_review, env, evidence):
    """Increase storage if projected to hit 80% in 3 months: the database's used storage, projected by its trend,
    stays under capacity.storage.max_used_percent of the allocation for capacity.storage.within_months."""
    r = monthly_review
    c = env.capacity.storage
    a = r[c.metric]
    _show(evidence, a, r.horizon_days())
    evidence.table("the runbook's planning model (capacity.users)", capacity.users_table(env, r.allocated_gb))
    if r.database is not None:
        evidence.table("database", [r.database])
    o = capacity.storage_outlook(r)
    assert o is not None, f"{a.name}: cannot project storage: " + (
        "no allocated storage (RDS instance " f"{env.rds.instance_id} not found; set capacity.storage.allocated_gb)"
        if not r.allocated_gb else f"no trend (datapoints: {len(a.values)})")
    evidence.json("storage outlook", o)
    deadline = (r.now + dt.timedelta(days=forecast.months_to_days(c.within_months))).date()
    if o.crossing is not None and o.crossing <= deadline:
        rec = capacity.more_storage(r, a.crossing_text())
        evidence.table("recommended", [rec.row(env.capacity.budget.currency)])
        by = {"fitted": "its trend", "users": "the runbook's users model (capacity.users)",
              "earliest": "the earlier of its trend and the users model"}[o.model]
        pytest.fail(f"{a.name}: used {o.used_gb:,.0f} of {o.allocated_gb:,.0f} GiB ({o.used_percent:.1f} %), "
                    f"growing {o.per_day_gb:,.2f} GiB/day; by {by} projected to reach {c.max_used_percent:g} % "
                    f"({o.limit_gb:,.0f} GiB) on {o.crossing}, within {c.within_months:g} months "
                    f"(capacity.storage.max_used_percent, capacity.storage.within_months) — {rec.action}: "
                    f"{rec.change}{_cost(rec, env)}", pytrace=False)


@pytest.mark.monthly
def test_database_connections_stay_under_share_of_max_connections(monthly_review, env, evidence):
    """Database connections usage: the period's peak stays under capacity.connections.max_share_percent of the
    server's max_connections."""
    r = monthly_review
    c = env.capacity.connections
    a = r[c.metric]
    _show(evidence, a, r.horizon_days())
    limit = r.max_connections
    evidence.value("max_connections", limit if limit else "unknown",
                   "" if c.max_connections else (r.database.max_connections_source if r.database else ""))
    assert limit, f"{a.name}: max_connections unknown (" + (
        r.database.max_connections_source if r.database else f"RDS instance {env.rds.instance_id} not found") + \
        "); set capacity.connections.max_connections"
    assert len(a.values), f"{a.name}: no datapoints in the last {r.lookback_days} days"
    i = int(np.argmax(a.values))
    peak = float(a.values[i])
    allowed = limit * c.max_share_percent / 100
    evidence.value("peak", round(peak), f"connections at {_when(a.times[i])} ({peak / limit * 100:.1f} % of "
                                        f"{limit})")
    evidence.value("daily trend", a.crossing_text())
    assert peak < allowed, (
        f"{a.name}: peak {peak:,.0f} connections at {_when(a.times[i])} is {peak / limit * 100:.0f} % of "
        f"max_connections {limit} (limit {c.max_share_percent:g} %, capacity.connections.max_share_percent); "
        f"{a.crossing_text()} — add connection pooling (RDS Proxy / PgBouncer) or plan a database upgrade")


@pytest.mark.monthly
def test_render_queue_drains(monthly_review, env, evidence):
    """Queue depth patterns: the render queue drains (to capacity.queue.drained_below messages) at least every
    capacity.queue.max_undrained_hours and its depth stays under capacity.queue.max_messages."""
    r = monthly_review
    c = env.capacity.queue
    a = r[c.metric]
    _show(evidence, a, r.horizon_days())
    assert len(a.values), f"{a.name}: no datapoints in the last {r.lookback_days} days"
    period = r.fetched.period_s
    stretches = capacity.undrained_stretches(a.times, a.values, c.drained_below, period)
    longest = max(stretches, key=lambda x: x[1] - x[0], default=None)
    longest_h = (longest[1] - longest[0]) / 3600 if longest else 0.0
    i = int(np.argmax(a.values))
    peak = float(a.values[i])
    evidence.value("longest stretch without draining", round(longest_h, 1),
                   f"hours (from {_when(longest[0])})" if longest else "hours")
    evidence.table("stretches without draining over 6 hours",
                   [{"from": _when(x), "to": _when(y), "hours": round((y - x) / 3600, 1)} for x, y in stretches
                    if y - x > 6 * 3600])
    evidence.value("peak depth", round(peak), f"messages at {_when(a.times[i])}")
    evidence.value("daily trend", a.crossing_text())
    problems = []
    if longest_h > c.max_undrained_hours:
        problems.append(f"has not drained to ≤ {c.drained_below} messages for {longest_h:.0f} hours from "
                        f"{_when(longest[0])} (> {c.max_undrained_hours:g} h, capacity.queue.max_undrained_hours)")
    if peak >= c.max_messages:
        problems.append(f"peak depth {peak:,.0f} at {_when(a.times[i])} (≥ {c.max_messages}, "
                        "capacity.queue.max_messages)")
    trend = f"; trend {a.fit.per_day:+,.0f} messages/day, {a.crossing_text()}" if a.fit else ""
    assert not problems, f"{a.name}: " + "; ".join(problems) + trend + \
        " — the workers do not keep up: review auto-scaling policies (scale the workers on queue depth)"


@pytest.mark.monthly
def test_scaling_events_are_not_frequent(env, aws, evidence):
    """Review auto-scaling policies if frequent scaling events: each scalable target scales at most
    capacity.scaling.max_per_day times a day and flaps (reverses within capacity.scaling.flap_minutes) at most
    capacity.scaling.max_flaps times over the period."""
    s = env.capacity.scaling
    days = env.capacity.lookback_days
    summaries = capacity.read_scaling(env, aws, days)
    if not summaries:
        pytest.skip(f"no scalable targets in namespace {s.service_namespace!r} (capacity.scaling)")
    evidence.table(f"scaling activities over {days} days", [
        {"resource": x.resource_id, "activities": x.activities, "per day": round(x.per_day, 2), "flaps": x.flaps,
         "first flap": x.first_flap} for x in summaries])
    for x in summaries:
        if x.days:
            evidence.image(f"scaling activities per day: {x.resource_id}",
                           charts.bars_chart(f"Scaling activities: {x.resource_id}", x.days, x.counts,
                                             s.max_per_day, limit_label="capacity.scaling.max_per_day"))
    bad = [x for x in summaries if x.per_day > s.max_per_day or x.flaps > s.max_flaps]
    assert not bad, "frequent scaling events — review auto-scaling policies (cooldowns, target value): " + "; ".join(
        f"{x.resource_id}: {x.activities} in {days} days ({x.per_day:.1f}/day, limit {s.max_per_day:g}, "
        f"capacity.scaling.max_per_day), {x.flaps} reversal(s) within {s.flap_minutes} minutes (limit "
        f"{s.max_flaps}, capacity.scaling.max_flaps)" + (f", flapping since {x.first_flap:%Y-%m-%d %H:%M} UTC"
                                                         if x.first_flap else "") for x in bad)


def _cost(rec: capacity.Recommendation, env) -> str:
    if rec.monthly_cost is None:
        return ""
    return f" ({rec.monthly_cost:+,.2f} {env.capacity.budget.currency}/month)"
