"""Post-maintenance: 'Check monitoring dashboards (30 minutes)': no configured CloudWatch alarm is firing, and with
--watch [DURATION] none goes into ALARM for the runbook's 30 minutes (any transition fails at once, with the
alarm history as evidence)."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import cloudwatch as probe
from opsproof.rules import services as rules

pytestmark = [pytest.mark.services]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_no_alarm_firing(env, aws, watch, evidence):
    """No configured alarm is in ALARM (or INSUFFICIENT_DATA where configured); with --watch, none goes into ALARM
    while watching."""
    cfg = env.services.monitoring
    if not (cfg.alarms or cfg.alarm_prefixes):
        pytest.skip(f"{env.file} has no services.monitoring alarms")
    cw = aws("cloudwatch", "services")
    started = dt.datetime.now(dt.timezone.utc)
    found, missing = probe.alarms(cw, cfg.alarms, cfg.alarm_prefixes)
    evidence.table("alarms", found)
    judged = rules.alarms(found, missing, cfg)
    if watch is not None and not findings.failing(judged):
        seen = probe.watch(cw, [a.name for a in found], started, watch.total_seconds(), cfg.watch_every_s,
                           stop=lambda now, history: findings.failing(rules.watched(now, history, cfg)))
        evidence.value("watched", f"{seen.watched_s:.0f}s of {watch.total_seconds():g}s, {seen.polls} poll(s) "
                                  f"every {cfg.watch_every_s:g}s")
        evidence.table("alarm history while watching", seen.history)
        judged = rules.watched(seen.alarms, seen.history, cfg)
    findings.expect_no_alarm(judged, evidence)
