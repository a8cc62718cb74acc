"""Waivers: read without ever raising; malformed and expired entries are reported; every waiver expires."""

import datetime as dt

import pytest

from opsproof import waivers

TODAY = dt.date(2026, 1, 15)

GOOD = """
[[waiver]]
check = "test_rds_instance_is_available"
justification = "prod-db is being migrated (CR-1240)"
owner = "dba-team"
expires = 2026-02-01
"""


def load(tmp_path, text, today=TODAY, max_days=90):
    p = tmp_path / "waivers.toml"
    p.write_text(text)
    return waivers.load(p, today, max_days)


def test_a_waiver_is_active_through_its_expiry_date(tmp_path):
    w = load(tmp_path, GOOD)
    assert not w.problems and len(w.active) == 1
    assert w.active[0].describe() == "prod-db is being migrated (CR-1240) (owner dba-team, until 2026-02-01)"
    assert len(load(tmp_path, GOOD, today=dt.date(2026, 2, 1)).active) == 1
    expired = load(tmp_path, GOOD, today=dt.date(2026, 2, 2))
    assert not expired.active and len(expired.expired) == 1
    assert expired.report_lines() == ["waivers.toml waiver #1: EXPIRED on 2026-02-01 (test_rds_instance_is_available, "
                                      "owner dba-team): the check counts again"]


def test_a_waiver_matches_a_checks_name_its_parameters_or_its_node_id(tmp_path):
    w = load(tmp_path, GOOD + GOOD.replace("test_rds_instance_is_available", "checks/x/test_a.py::test_b[local]")
             .replace("dba-team", "ops"))
    assert w.find("checks/database/test_rds_instance.py::test_rds_instance_is_available",
                  "test_rds_instance_is_available", "test_rds_instance_is_available").owner == "dba-team"
    assert w.find("checks/x/test_a.py::test_b[local]", "test_b[local]", "test_b").owner == "ops"
    assert w.find("checks/x/test_a.py::test_b[remote]", "test_b[remote]", "test_b") is None


@pytest.mark.parametrize("entry, problem", [
    ('check = "t"\nowner = "o"\nexpires = 2026-02-01', "missing justification"),
    ('check = "t"\njustification = "j"\nowner = "o"', "missing expires"),
    ('check = "t"\njustification = "j"\nowner = "o"\nexpires = "soon"', "expires must be a date"),
    ('check = "t"\njustification = "j"\nowner = "o"\nexpires = 2026-02-01T10:00:00', "expires must be a date"),
    ('check = "t"\njustification = " "\nowner = "o"\nexpires = 2026-02-01', "justification must be a non-empty"),
    ('check = "t"\njustification = "j"\nowner = "o"\nexpires = 2026-02-01\nenv = "prod"', "unknown key(s) env"),
    ('check = "t"\njustification = "j"\nowner = "o"\nexpires = 2027-01-01', "more than 90 days away"),
], ids=["no-justification", "no-expiry", "expiry-text", "expiry-datetime", "blank", "unknown-key", "too-far"])
def test_malformed_waivers_are_reported_and_ignored(tmp_path, entry, problem):
    w = load(tmp_path, f"[[waiver]]\n{entry}\n" + GOOD)
    assert len(w.waivers) == 1, "the good waiver still applies"
    assert len(w.problems) == 1 and w.problems[0].entry == 1 and problem in w.problems[0].message
    assert w.report_lines()[0].startswith("waivers.toml waiver #1: ")


def test_a_check_waived_twice_keeps_the_first(tmp_path):
    w = load(tmp_path, GOOD + GOOD.replace("dba-team", "someone-else"))
    assert [x.owner for x in w.waivers] == ["dba-team"] and "already waived by waiver #1" in w.problems[0].message


def test_a_broken_file_is_reported_and_waives_nothing(tmp_path):
    w = load(tmp_path, GOOD + "\n[[waiver\n")
    assert not w.waivers and "not valid TOML" in w.problems[0].message
    w = load(tmp_path, 'waiver = "all"\n')
    assert not w.waivers and "array of tables" in w.problems[0].message


def test_no_file_means_no_waivers(tmp_path):
    w = waivers.load(tmp_path / "missing.toml", TODAY)
    assert not w.waivers and not w.problems and not w.report_lines()
