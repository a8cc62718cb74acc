"""The runbook's Quarterly Capacity Planning: the deep analysis and its report, in the runbook's five sections.

The report is this check's evidence: tables and a chart per metric in the self-contained HTML report, numbers in
reports/evidence.json. It fails when the analysis finds a bottleneck the quarter's plan must address.
"""

import pytest

from opsproof import capacity, findings
from opsproof.rules import capacity as rules

pytestmark = [pytest.mark.capacity]


@pytest.mark.quarterly
def test_quarterly_capacity_report(quarterly_review, env, aws, evidence):
    """Quarterly Capacity Planning: the report (current utilization, growth projections for 3, 6 and 12 months,
    bottlenecks, recommended changes, budget impact) finds no resource projected to cross its threshold within
    capacity.quarterly.bottleneck_months."""
    r = quarterly_review
    c = env.capacity
    q = capacity.quarterly(r, capacity.read_scaling(env, aws, r.lookback_days))
    months = ", ".join(str(m) for m in c.horizons_months)
    f = r.fetched
    evidence.value("period", f"{f.start:%Y-%m-%d} – {f.end:%Y-%m-%d} ({r.lookback_days} days; runbook: 6-12 months)")
    evidence.value("CloudWatch GetMetricData calls", f.calls)
    evidence.table("1. Current resource utilization", q.utilization)
    evidence.table("1b. Seasonal patterns: weekday departure from the trend", q.seasonality)
    evidence.table(f"2. Growth projections ({months} months; fitted trend, ~95 % interval)", q.projections)
    evidence.table("2b. The runbook's planning model (capacity.users: users × growth × storage per user)", q.users)
    evidence.table("3. Bottleneck identification", [b.row() for b in q.bottlenecks])
    evidence.table("4. Recommended capacity changes", [rec.row(c.budget.currency) for rec in q.recommendations])
    evidence.table("5. Budget impact analysis (price table: capacity.budget)", [
        {"change": f"{rec.action}: {rec.resource} {rec.change}", "monthly": rec.monthly_cost,
         "yearly": None if rec.monthly_cost is None else round(rec.monthly_cost * 12, 2), "basis": rec.cost_note}
        for rec in q.recommendations])
    evidence.value("5. net budget impact", f"{q.budget_total:+,.2f} {c.budget.currency}/month "
                                           f"({q.budget_total * 12:+,.2f} /year)")
    for a in r.analyses.values():
        evidence.image(f"{a.metric.label} ({a.id})", a.chart(r.horizon_days()))
    findings.expect_no_alarm(rules.bottlenecks(q, c), evidence)
