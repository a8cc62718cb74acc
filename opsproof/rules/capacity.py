"""The runbook's "Monthly Capacity Review" action items and the "Quarterly Capacity Planning" bottlenecks, as rules
over the analysed metric history (opsproof/capacity.py's Review: trend, thresholds, crossings) and the [capacity]
section. The recommendation (upgrade, storage, pooling, scaling policy) is each alarm's fix."""

import datetime as dt

import numpy as np

from .. import capacity, forecast
from ..config.capacity import Capacity
from ..findings import Finding, alarm, ok


def _fix(rec: capacity.Recommendation, currency: str) -> str:
    cost = "" if rec.monthly_cost is None else f" ({rec.monthly_cost:+,.2f} {currency}/month)"
    return f"{rec.action}: {rec.change}{cost}"


def _no_data(a: capacity.Analysis, days: int) -> Finding | None:
    if len(a.values):
        return None
    return alarm(a.name, f"no datapoints in the last {days} days", measured=0,
                 fix="check the metric's namespace and dimensions (capacity.metrics)")


def history(r: capacity.Review, c: Capacity) -> list[Finding]:
    """Every metric to review has history for enough of the period to forecast it."""
    need, found = c.min_coverage_percent, []
    for a in r.analyses.values():
        have = a.coverage * 100
        if have >= need:
            found.append(ok(a.name, f"data for {have:.0f} % of the last {r.lookback_days} days", measured=round(have),
                            limit=need, key="capacity.min_coverage_percent"))
            continue
        last = f", last datapoint {capacity.when(a.times[-1])}" if len(a.times) else ", no datapoints at all"
        found.append(alarm(a.name, f"data for {have:.0f} % of the last {r.lookback_days} days (under {need:g} %)"
                           f"{last}: too little history to forecast", measured=round(have), limit=need,
                           key="capacity.min_coverage_percent",
                           fix="check that the metric is still published (its dimensions may have changed)"))
    return found


def database_cpu(r: capacity.Review, c: Capacity) -> list[Finding]:
    """Plan database upgrade if CPU consistently >60%: the period's p95 at or under database_cpu.max_percent."""
    cpu = c.database_cpu
    a = r[cpu.metric]
    if (empty := _no_data(a, r.lookback_days)) is not None:
        return [empty]
    p = forecast.percentile(a.values, cpu.percentile)
    kw = dict(measured=round(p, 1), limit=cpu.max_percent, key="capacity.database_cpu.max_percent")
    head = f"p{cpu.percentile:g} over the last {r.lookback_days} days is {p:.1f} %"
    if p <= cpu.max_percent:
        return [ok(a.name, f"{head}; {a.crossing_text()}", **kw)]
    rec = capacity.upgrade(r, a.crossing_text())
    return [alarm(a.name, f"{head} > {cpu.max_percent:g} %; {a.crossing_text()}", fix=_fix(rec, c.budget.currency),
                  **kw)]


def storage(r: capacity.Review, c: Capacity, rds_instance: str = "") -> list[Finding]:
    """Increase storage if projected to hit 80% in 3 months: used storage, projected by its trend (or the users
    model), stays under storage.max_used_percent of the allocation for storage.within_months."""
    s = c.storage
    a = r[s.metric]
    o = capacity.storage_outlook(r)
    if o is None:
        why = (f"no allocated storage (RDS instance {rds_instance} not found; set capacity.storage.allocated_gb)"
               if not r.allocated_gb else f"no trend (datapoints: {len(a.values)})")
        return [alarm(a.name, f"cannot project storage: {why}", key="capacity.storage.allocated_gb")]
    deadline = (r.now + dt.timedelta(days=forecast.months_to_days(s.within_months))).date()
    kw = dict(measured=o.crossing, limit=deadline, key="capacity.storage.max_used_percent")
    used = f"used {o.used_gb:,.0f} of {o.allocated_gb:,.0f} GiB ({o.used_percent:.1f} %)"
    if o.crossing is None or o.crossing > deadline:
        return [ok(a.name, f"{used}; {a.crossing_text()}", **kw)]
    by = {"fitted": "its trend", "users": "the runbook's users model (capacity.users)",
          "earliest": "the earlier of its trend and the users model"}[o.model]
    rec = capacity.more_storage(r, a.crossing_text())
    return [alarm(a.name, f"{used}, growing {o.per_day_gb:,.2f} GiB/day; by {by} projected to reach "
                  f"{s.max_used_percent:g} % ({o.limit_gb:,.0f} GiB) on {o.crossing}, within {s.within_months:g} "
                  "months (capacity.storage.within_months)", fix=_fix(rec, c.budget.currency), **kw)]


def connections(r: capacity.Review, c: Capacity, rds_instance: str = "") -> list[Finding]:
    """Database connections usage: the period's peak under connections.max_share_percent of max_connections."""
    cc = c.connections
    a = r[cc.metric]
    limit = r.max_connections
    if not limit:
        why = r.database.max_connections_source if r.database else f"RDS instance {rds_instance} not found"
        return [alarm(a.name, f"max_connections unknown ({why})", key="capacity.connections.max_connections",
                      fix="set capacity.connections.max_connections")]
    if (empty := _no_data(a, r.lookback_days)) is not None:
        return [empty]
    i = int(np.argmax(a.values))
    peak = float(a.values[i])
    allowed = limit * cc.max_share_percent / 100
    kw = dict(measured=round(peak), limit=allowed, key="capacity.connections.max_share_percent")
    head = (f"peak {peak:,.0f} connections at {capacity.when(a.times[i])} is {peak / limit * 100:.0f} % of max_connections "
            f"{limit}")
    if peak < allowed:
        return [ok(a.name, head, **kw)]
    return [alarm(a.name, f"{head} (limit {cc.max_share_percent:g} %); {a.crossing_text()}",
                  fix="add connection pooling (RDS Proxy / PgBouncer) or plan a database upgrade", **kw)]


def queue(r: capacity.Review, c: Capacity) -> list[Finding]:
    """Queue depth patterns: the queue drains (to queue.drained_below) at least every queue.max_undrained_hours
    and its depth stays under queue.max_messages."""
    q = c.queue
    a = r[q.metric]
    if (empty := _no_data(a, r.lookback_days)) is not None:
        return [empty]
    fix = "the workers do not keep up: review auto-scaling policies (scale the workers on queue depth)"
    trend = f"; trend {a.fit.per_day:+,.0f} messages/day, {a.crossing_text()}" if a.fit else ""
    stretches = capacity.undrained_stretches(a.times, a.values, q.drained_below, r.fetched.period_s)
    start, end = max(stretches, key=lambda x: x[1] - x[0], default=(0.0, 0.0))
    hours = (end - start) / 3600
    found = []
    kw = dict(measured=round(hours, 1), limit=q.max_undrained_hours, key="capacity.queue.max_undrained_hours")
    if hours > q.max_undrained_hours:
        found.append(alarm(a.name, f"has not drained to ≤ {q.drained_below} messages for {hours:.0f} hours from "
                           f"{capacity.when(start)} (> {q.max_undrained_hours:g} h){trend}", fix=fix, **kw))
    else:
        found.append(ok(a.name, f"drains to ≤ {q.drained_below} messages at least every {hours:.0f} hours", **kw))
    i = int(np.argmax(a.values))
    peak = float(a.values[i])
    kw = dict(measured=round(peak), limit=q.max_messages, key="capacity.queue.max_messages")
    if peak >= q.max_messages:
        found.append(alarm(a.name, f"peak depth {peak:,.0f} at {capacity.when(a.times[i])} (≥ {q.max_messages}){trend}",
                           fix=fix, **kw))
    else:
        found.append(ok(a.name, f"peak depth {peak:,.0f} at {capacity.when(a.times[i])}", **kw))
    return found


def scaling(summaries: list[capacity.ScalingSummary], c: Capacity, days: int) -> list[Finding]:
    """Review auto-scaling policies if frequent scaling events: per scalable target at most scaling.max_per_day a
    day and at most scaling.max_flaps reversals within scaling.flap_minutes over the period."""
    s, found = c.scaling, []
    for x in summaries:
        text = (f"{x.activities} in {days} days ({x.per_day:.1f}/day, limit {s.max_per_day:g}, "
                f"capacity.scaling.max_per_day), {x.flaps} reversal(s) within {s.flap_minutes} minutes (limit "
                f"{s.max_flaps}, capacity.scaling.max_flaps)")
        if x.per_day <= s.max_per_day and x.flaps <= s.max_flaps:
            found.append(ok(x.resource_id, text, measured=x.flaps, limit=s.max_flaps))
            continue
        key = "capacity.scaling.max_flaps" if x.flaps > s.max_flaps else "capacity.scaling.max_per_day"
        since = f", flapping since {x.first_flap:%Y-%m-%d %H:%M} UTC" if x.first_flap else ""
        found.append(alarm(x.resource_id, f"frequent scaling events: {text}{since}", measured=x.flaps,
                           limit=s.max_flaps, key=key,
                           fix="review auto-scaling policies (cooldowns, target value)"))
    return found


def bottlenecks(q: capacity.Quarterly, c: Capacity) -> list[Finding]:
    """Quarterly Capacity Planning: no resource projected to cross its threshold within
    quarterly.bottleneck_months; the recommended changes for it are its fix."""
    months, found = c.quarterly.bottleneck_months, []
    soon = {b.analysis.id: b for b in q.bottlenecks if b.months <= months}
    for a in q.review.analyses.values():
        if a.id not in soon:
            found.append(ok(a.name, a.crossing_text(), key=a.threshold_key))
            continue
        changes = [rec for rec in q.recommendations if rec.metric == a.id]
        found.append(alarm(a.name, f"{a.crossing_text()} ({a.threshold_key}): a bottleneck within {months:g} months "
                           "(capacity.quarterly.bottleneck_months)", measured=round(soon[a.id].months, 1),
                           limit=months, key=a.threshold_key,
                           fix="recommended: " + ("; ".join(f"{rec.action}: {rec.resource} {rec.change}"
                                                            + ("" if not rec.monthly_cost else
                                                               f" ({rec.monthly_cost:+,.2f} {c.budget.currency}"
                                                               "/month)") for rec in changes) or "none")))
    return found
