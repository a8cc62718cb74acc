"""The secrets rules on hand-built facts: age, automatic rotation, AWSCURRENT against AWSPREVIOUS and AWSPENDING,
and the database login. Findings name a secret by label and name, never by value. No sandbox."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.config.secrets import Secret
from opsproof.probes.secrets import Connection, SecretInfo
from opsproof.rules import secrets as rules

NAME = "ai-film-studio/prod/database-url"
DB = Secret(name=NAME, kind="database", label="database credentials", max_age_days=90, rotation_required=True)
API = Secret(name="ai-film-studio/prod/openai", kind="api_key", max_age_days=180)
SUBJECT = f"database credentials ({NAME})"
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def info(**kw) -> SecretInfo:
    base = dict(name=NAME, arn=f"arn:aws:secretsmanager:us-east-1:1:secret:{NAME}-AbCdEf", rotation_enabled=True,
                rotation_days=90, last_rotated=WHEN, last_changed=WHEN, current_created=WHEN, changed=WHEN,
                age_days=10.0, versions=2, has_previous=True, current_differs_from_previous=True, pending=False)
    return SecretInfo(**{**base, **kw})


def only_alarm(found) -> str:
    bad = [f.line() for f in findings.failing(found)]
    assert len(bad) == 1, bad
    return bad[0]


def test_healthy_secrets_each_have_an_ok_finding():
    for rule in (rules.ages, rules.rotation_enabled, rules.versions):
        found = rule([(DB, info())])
        assert [f.status for f in found] == ["ok"] and found[0].subject == SUBJECT, rule


def test_an_age_at_the_limit_passes_and_one_over_fails():
    assert not findings.failing(rules.ages([(DB, info(age_days=90.0))]))
    line = only_alarm(rules.ages([(DB, info(age_days=120.4)), (API, info(name=API.name, age_days=120.4))]))
    assert line.startswith(f"{SUBJECT}: last changed 120.4 days ago, over 90 (secrets.items.max_age_days)")
    assert "python -m actions rotate-db-credentials --apply" in line


def test_an_api_key_is_rotated_by_the_runbook_not_the_database_action():
    line = only_alarm(rules.ages([(API, info(name=API.name, age_days=200.0))]))
    assert "Rotate API Keys" in line and "rotate-db-credentials" not in line


def test_a_secret_without_a_date_fails():
    assert "no rotation or change date" in only_alarm(rules.ages([(DB, info(age_days=None))]))


@pytest.mark.parametrize("rule", [rules.ages, rules.rotation_enabled, rules.versions])
def test_a_secret_that_is_not_there_fails_every_rule(rule):
    assert only_alarm(rule([(DB, None)])) == f"{SUBJECT}: no secret {NAME} in Secrets Manager (secrets.items.name)"


def test_disabled_rotation_fails_only_where_it_is_required():
    assert "automatic rotation is disabled (secrets.items.rotation_required)" in only_alarm(
        rules.rotation_enabled([(DB, info(rotation_enabled=False))]))
    assert rules.rotation_enabled([(API, info(rotation_enabled=False)), (API, None)]) == []


def test_a_rotation_that_changed_nothing_fails():
    assert "AWSCURRENT is the same value as AWSPREVIOUS" in only_alarm(
        rules.versions([(DB, info(current_differs_from_previous=False))]))


def test_a_rotation_left_pending_fails():
    assert "an AWSPENDING version was left behind" in only_alarm(rules.versions([(DB, info(pending=True))]))


def test_both_version_faults_are_two_alarms_and_a_never_rotated_secret_passes():
    found = rules.versions([(DB, info(current_differs_from_previous=False, pending=True))])
    assert len(findings.failing(found)) == 2
    never = rules.versions([(DB, info(has_previous=False, current_differs_from_previous=None, versions=1))])
    assert [f.reason for f in never] == ["never rotated (no AWSPREVIOUS)"]


def test_a_login_that_fails_names_the_user_and_the_error_not_the_password():
    bad = Connection("app@127.0.0.1:5432/app", False, 'password authentication failed for user "app"', 12.0)
    line = only_alarm(rules.logins([(DB, bad)]))
    assert line.startswith(f"{SUBJECT}: as app@127.0.0.1:5432/app: password authentication failed")
    assert not findings.failing(rules.logins([(DB, Connection("app@h:5432/app", True, None, 3.0, "15.4"))]))
    assert "no secret" in only_alarm(rules.logins([(DB, None)]))


def test_no_finding_field_holds_anything_but_names():
    """The facts hold no value; the rules must not invent one: every field of every Finding is a name, a number, a
    date or a status."""
    found = (rules.ages([(DB, info(age_days=999.0))]) + rules.versions([(DB, info(pending=True))])
             + rules.rotation_enabled([(DB, info(rotation_enabled=False))]))
    for f in found:
        assert "postgresql://" not in str(f.row()) and "password" not in str(f.row()).lower()
