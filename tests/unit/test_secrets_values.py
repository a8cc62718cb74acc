"""Database credentials in either form (URL, RDS JSON) are parsed and rewritten without the password ever being
part of what is shown."""

import json

import pytest

from opsproof.probes import secrets as probe


def test_url_round_trip_keeps_everything_but_the_password():
    url = "postgresql://app:old%40pw@db.example:6543/aifilmstudio?sslmode=verify-full"
    target, pw = probe.parse_database(url)
    assert (target.shown, target.sslmode, pw) == ("app@db.example:6543/aifilmstudio", "verify-full", "old@pw")
    new = probe.with_password(url, "N3w-pass.word_~")
    assert probe.parse_database(new) == (target, "N3w-pass.word_~")
    assert "old" not in new


def test_rds_json_form():
    value = json.dumps({"engine": "postgres", "username": "admin", "password": "x" * 12, "host": "h", "port": 5432,
                        "dbname": "aifilmstudio"})
    target, pw = probe.parse_database(value)
    assert target.shown == "admin@h:5432/aifilmstudio" and pw == "x" * 12
    assert json.loads(probe.with_password(value, "y" * 20))["password"] == "y" * 20


@pytest.mark.parametrize("value", ["sk-live-abc", "mysql://u:p@h/db", "{not json", '{"host": "h"}'])
def test_not_a_database_credential_says_so_without_the_value(value):
    with pytest.raises(ValueError) as e:
        probe.parse_database(value)
    assert value not in str(e.value)


def test_a_failed_login_message_names_the_target_not_the_password():
    c = probe.connects("postgresql://nobody:s3cretPassw0rd@127.0.0.1:1/db", timeout=1)
    assert not c.ok and c.target == "nobody@127.0.0.1:1/db" and "s3cretPassw0rd" not in (c.error or "")
