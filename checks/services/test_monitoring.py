"""Post-maintenance: 'Check monitoring dashboards (30 minutes)': no configured CloudWatch alarm is firing, and with
--watch [DURATION] none goes into ALARM for the runbook's 30 minutes (any transition fails at once, with the
alarm history as evidence)."""

import datetime as dt
import time

import pytest

from opsproof.probes import alarms as probe

pytestmark = [pytest.mark.services]


def _bad(a, insufficient: list[str]) -> bool:
    return a.state == "ALARM" or (a.state == "INSUFFICIENT_DATA" and ("*" in insufficient or a.name in insufficient))


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
    assert not missing, f"alarm(s) not found: {', '.join(missing)} (services.monitoring.alarms)"
    firing = [a for a in found if _bad(a, cfg.insufficient_data_fails)]
    assert not firing, "; ".join(f"{a.name} is {a.state} since {a.updated_at}: {a.reason}" for a in firing) \
        + " (services.monitoring.alarms)"
    if watch is None:
        return
    names = [a.name for a in found]
    deadline = time.monotonic() + watch.total_seconds()
    polls = 0
    into_alarm = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(cfg.watch_every_s, remaining))
        polls += 1
        now_found, _ = probe.alarms(cw, names, [])
        history = probe.transitions(cw, names, started)
        into_alarm = [t for t in history if t.new == "ALARM"]
        firing = [a for a in now_found if _bad(a, cfg.insufficient_data_fails)]
        if into_alarm or firing:
            break
    history = probe.transitions(cw, names, started)
    evidence.value("watched", f"{(dt.datetime.now(dt.timezone.utc) - started).total_seconds():.0f}s of "
                              f"{watch.total_seconds():g}s, {polls} poll(s) every {cfg.watch_every_s:g}s")
    evidence.table("alarm history while watching", history)
    into_alarm = [t for t in history if t.new == "ALARM"]
    assert not into_alarm and not firing, "while watching: " + "; ".join(
        [f"{t.alarm} went from {t.old} to {t.new} at {t.at}" for t in into_alarm]
        + [f"{a.name} is {a.state}" for a in firing if a.name not in {t.alarm for t in into_alarm}])
