"""The runbook's Monthly Capacity Review: the metrics to review, forecast, and its four action items.

Each check reads the same history (checks/capacity/conftest.py: one batched GetMetricData) and judges one action item;
its chart shows the history, the fitted trend, the projection and the threshold line.
"""

import numpy as np
import pytest

from opsproof import capacity, charts, findings
from opsproof.rules import capacity as rules

pytestmark = [pytest.mark.capacity]


def _show(evidence, a: capacity.Analysis, horizon_days: float) -> None:
    evidence.table(f"{a.id}: trend and projections", [a.row()])
    evidence.image(f"{a.metric.label} ({a.id})", a.chart(horizon_days))


@pytest.mark.monthly
def test_capacity_metrics_have_history(monthly_review, env, evidence):
    """Monthly Capacity Review: every metric to review (CPU, memory, storage, network, connections, queue depth) has
    history for the period, and each is forecast 3, 6 and 12 months ahead."""
    r = monthly_review
    f = r.fetched
    evidence.value("period", f"{f.start:%Y-%m-%d %H:%M} – {f.end:%Y-%m-%d %H:%M} UTC ({r.lookback_days} days, "
                             f"{f.period_s} s periods)")
    evidence.value("CloudWatch GetMetricData calls", f.calls)
    evidence.value("datapoints read", f.datapoints)
    evidence.value("fetch seconds", round(f.seconds, 2))
    evidence.table("forecasts", [a.row() for a in r.analyses.values()])
    for a in r.analyses.values():
        evidence.image(f"{a.metric.label} ({a.id})", a.chart(r.horizon_days()))
    findings.expect_no_alarm(rules.history(r, env.capacity), evidence)


@pytest.mark.monthly
def test_database_cpu_not_consistently_above_60_percent(monthly_review, env, evidence):
    """Plan database upgrade if CPU consistently >60%: the p95 of the database's CPU over the period stays at or
    under capacity.database_cpu.max_percent."""
    r = monthly_review
    a = r[env.capacity.database_cpu.metric]
    _show(evidence, a, r.horizon_days())
    if len(a.values):
        evidence.value("mean", round(float(np.mean(a.values)), 1), "%")
        evidence.value("peak", round(float(np.max(a.values)), 1), "%")
    findings.expect_no_alarm(rules.database_cpu(r, env.capacity), evidence)


@pytest.mark.monthly
def test_storage_not_projected_to_reach_80_percent_within_3_months(monthly_review, env, evidence):
    """Increase storage if projected to hit 80% in 3 months: the database's used storage, projected by its trend,
    stays under capacity.storage.max_used_percent of the allocation for capacity.storage.within_months."""
    r = monthly_review
    _show(evidence, r[env.capacity.storage.metric], r.horizon_days())
    evidence.table("the runbook's planning model (capacity.users)", capacity.users_table(env, r.allocated_gb))
    if r.database is not None:
        evidence.table("database", [r.database])
    evidence.json("storage outlook", capacity.storage_outlook(r))
    findings.expect_no_alarm(rules.storage(r, env.capacity, env.rds.instance_id), evidence)


@pytest.mark.monthly
def test_database_connections_stay_under_share_of_max_connections(monthly_review, env, evidence):
    """Database connections usage: the period's peak stays under capacity.connections.max_share_percent of the
    server's max_connections."""
    r = monthly_review
    c = env.capacity.connections
    _show(evidence, r[c.metric], r.horizon_days())
    evidence.value("max_connections", r.max_connections or "unknown",
                   "" if c.max_connections else (r.database.max_connections_source if r.database else ""))
    findings.expect_no_alarm(rules.connections(r, env.capacity, env.rds.instance_id), evidence)


@pytest.mark.monthly
def test_render_queue_drains(monthly_review, env, evidence):
    """Queue depth patterns: the render queue drains (to capacity.queue.drained_below messages) at least every
    capacity.queue.max_undrained_hours and its depth stays under capacity.queue.max_messages."""
    r = monthly_review
    c = env.capacity.queue
    a = r[c.metric]
    _show(evidence, a, r.horizon_days())
    stretches = capacity.undrained_stretches(a.times, a.values, c.drained_below, r.fetched.period_s)
    evidence.table("stretches without draining over 6 hours",
                   [{"from": capacity.when(x), "to": capacity.when(y), "hours": round((y - x) / 3600, 1)} for x, y in stretches
                    if y - x > 6 * 3600])
    findings.expect_no_alarm(rules.queue(r, env.capacity), evidence)


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
    findings.expect_no_alarm(rules.scaling(summaries, env.capacity, days), evidence)
