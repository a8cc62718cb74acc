"""The schedule: which days are windows, how long they last, where a moment stands (phases), and the configuration
that describes it (validated on load, one line naming the key)."""

import datetime as dt

import pytest
from pydantic import ValidationError

from opsproof import config, schedule
from opsproof.config.window import Schedule, Window, format_duration, parse_duration
from opsproof.schedule import utc

RUNBOOK = Schedule()


def test_runbook_schedule_is_the_2nd_and_4th_sunday_0200_to_0600_utc():
    found = schedule.upcoming(RUNBOOK, utc(2026, 1, 1), 6)
    assert [w.id for w in found] == ["2026-01-11", "2026-01-25", "2026-02-08", "2026-02-22", "2026-03-08",
                                     "2026-03-22"]
    assert all(w.start.weekday() == 6 and w.start.hour == 2 and w.length == dt.timedelta(hours=4) for w in found)
    assert found[0].label() == "2026-01-11 (Sun) 02:00–06:00 UTC"


def test_a_window_in_progress_comes_first_and_an_ended_one_does_not():
    assert schedule.upcoming(RUNBOOK, utc(2026, 1, 11, 5, 59), 1)[0].id == "2026-01-11"
    assert schedule.upcoming(RUNBOOK, utc(2026, 1, 11, 6, 0), 1)[0].id == "2026-01-25"


def test_month_with_five_sundays_and_the_last_week():
    s = Schedule(weeks=[5])
    assert [w.id for w in schedule.upcoming(s, utc(2026, 1, 1), 2)] == ["2026-03-29", "2026-05-31"]
    last = Schedule(weeks=[-1], weekday="saturday")
    assert [w.id for w in schedule.upcoming(last, utc(2026, 1, 1), 2)] == ["2026-01-31", "2026-02-28"]


def test_skipped_dates_have_no_window():
    s = Schedule(skip=[dt.date(2026, 1, 11)])
    assert schedule.on(s, dt.date(2026, 1, 11)) is None
    assert schedule.upcoming(s, utc(2026, 1, 1), 1)[0].id == "2026-01-25"


def test_window_across_midnight_in_a_local_time_zone_and_max_duration():
    s = Schedule(weekday="saturday", weeks=[1], start="22:00", end="03:00", timezone="Europe/Berlin",
                 max_duration="4h")
    w = schedule.on(s, dt.date(2026, 7, 4))
    assert w.start == utc(2026, 7, 4, 20) and w.length == dt.timedelta(hours=4)  # CEST; capped at 4h of 5h
    winter = schedule.on(s, dt.date(2026, 1, 3))
    assert winter.start == utc(2026, 1, 3, 21)


def test_phases_of_a_window():
    cfg = Window()
    w = schedule.on(RUNBOOK, dt.date(2026, 1, 11))
    assert schedule.phase(w, utc(2026, 1, 3), cfg) == "early"
    assert schedule.phase(w, utc(2026, 1, 4, 2), cfg) == "announce"       # T-7 days
    assert schedule.phase(w, utc(2026, 1, 10, 2), cfg) == "prepare"       # T-24 h
    assert schedule.phase(w, utc(2026, 1, 11, 1, 30), cfg) == "final"     # T-1 h
    assert schedule.phase(w, utc(2026, 1, 11, 3), cfg) == "open"
    assert schedule.phase(w, utc(2026, 1, 11, 6), cfg) == "closed"
    assert schedule.is_due("prepare", "final") and not schedule.is_due("final", "prepare")
    assert schedule.normalise_phase("T-24h") == "prepare"
    with pytest.raises(ValueError, match="unknown phase"):
        schedule.normalise_phase("t-2h")


def test_a_run_belongs_to_the_window_in_progress_one_just_ended_or_the_next():
    cfg = Window()
    assert schedule.belongs_to(cfg, utc(2026, 1, 11, 3)).id == "2026-01-11"
    assert schedule.belongs_to(cfg, utc(2026, 1, 11, 9)).id == "2026-01-11"    # post_grace 12h
    assert schedule.belongs_to(cfg, utc(2026, 1, 12, 9)).id == "2026-01-25"


def test_emergency_windows_have_every_phase_due_at_their_start():
    w = schedule.emergency(utc(2026, 1, 5, 14, 12), dt.timedelta(minutes=45))
    assert w.id == "emergency-20260105T1412Z" and w.kind == "emergency"
    assert schedule.phase(w, utc(2026, 1, 5, 14, 12), Window()) == "open"
    assert schedule.MaintenanceWindow.from_dict(w.as_dict()) == w


def test_calendar_export():
    text = schedule.ics(schedule.upcoming(RUNBOOK, utc(2026, 1, 1), 2), stamp=utc(2026, 1, 1))
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260111T020000Z" in text and "DTEND:20260111T060000Z" in text


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("4h", 14400), ("1h30m", 5400), ("7d", 604800),
                                           ("0.5s", 0.5), ("1d2h", 93600)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text) or seconds < 1


@pytest.mark.parametrize("bad", ["30", 30, "thirty minutes", "4 hours", "-1h", ""],
                         ids=["string-number", "number", "words", "spaced", "negative", "empty"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(bad)


@pytest.mark.parametrize("section, culprit", [
    ({"schedule": {"weeks": [0, 2]}}, "0 is not a week"),
    ({"schedule": {"weeks": [6]}}, "less than or equal to 5"),
    ({"schedule": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
    ({"schedule": {"weekday": "sundae"}}, "sunday"),
    ({"schedule": {"max_duration": "0s"}}, "longer than zero"),
    ({"schedule": {"notice": "7 days"}}, "not a duration"),
    ({"prepare_lead": "8d"}, "phases must come in order"),
    ({"reserve": "5h"}, "leaves no time"),
    ({"aws_account_id": "1234"}, "pattern"),
    ({"baseline": {"latency_samples": 2}}, "greater than or equal to 5"),
    ({"notify": {"attempts": 0}}, "greater than or equal to 1"),
    ({"notify": {"status_page": {"api_url": "https://x.test/v1"}}}, "page_id"),
    ({"schedule": {"start_time": "02:00"}}, "Extra inputs"),
])
def test_window_configuration_is_validated(section, culprit):
    with pytest.raises(ValidationError, match=culprit):
        Window.model_validate(section)


def test_a_bad_window_key_in_an_environment_file_is_one_line_naming_file_and_key(tmp_path):
    from opsproof import ROOT

    text = (ROOT / "environments" / "sandbox.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('metrics_lookback = "3h"', 'metrics_lookback = "three hours"'))
    with pytest.raises(config.ConfigError) as e:
        config.load(str(bad))
    assert "window.baseline.metrics_lookback" in str(e.value) and "not a duration" in str(e.value)
    assert "\n" not in str(e.value)


def test_the_example_environments_describe_the_runbooks_schedule():
    from opsproof import ROOT

    for name in ("sandbox.toml", "prod.example.toml"):
        env = config.load(str(ROOT / "environments" / name))
        s = env.window.schedule
        assert (s.weekday, s.weeks, s.start, s.end, s.timezone) == ("sunday", [2, 4], dt.time(2), dt.time(6), "UTC")
        assert s.max_duration == dt.timedelta(hours=4) and s.notice == dt.timedelta(days=7)
