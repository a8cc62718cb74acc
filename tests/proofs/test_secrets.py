"""Proofs of the secrets checks: each passes on the healthy sandbox and fails under its fault naming the secret
(never its value). The rotation action's own proofs are in tests/unit/test_rotate_db_credentials.py."""

ROTATION = "checks/secrets/test_rotation.py"
DB_SECRET = "ai-film-studio/prod/database-url"


def _no_value(run, sandbox):
    """No secret value in the failure messages, the evidence, the JUnit file or the HTML report."""
    values = [sandbox.password("app")]
    sm = sandbox.client("secretsmanager")
    values += [sm.get_secret_value(SecretId=DB_SECRET)["SecretString"]]
    for path in ("junit.xml", "report.html", "evidence.json"):
        text = (run.out / path).read_text() if (run.out / path).exists() else ""
        for v in values:
            assert v not in text, f"a secret value reached {path}"
    assert all(v not in run.output for v in values)


def test_secrets_rotated_within_max_age(healthy, broken, sandbox):
    healthy.assert_passed("test_secrets_rotated_within_max_age")
    run = broken("stale-secret", ROTATION)
    run.assert_failed("test_secrets_rotated_within_max_age", "database credentials", DB_SECRET,
                      "last changed 120", "over 90", "max_age_days")
    _no_value(run, sandbox)


def test_secrets_rotation_enabled(healthy, broken):
    healthy.assert_passed("test_secrets_rotation_enabled")
    run = broken("rotation-disabled", ROTATION)
    run.assert_failed("test_secrets_rotation_enabled", DB_SECRET, "automatic rotation is disabled")


def test_rotated_secrets_differ_from_previous(healthy, broken, sandbox):
    healthy.assert_passed("test_rotated_secrets_differ_from_previous")
    run = broken("secret-same-as-previous", ROTATION)
    run.assert_failed("test_rotated_secrets_differ_from_previous", DB_SECRET, "same value as AWSPREVIOUS")
    _no_value(run, sandbox)


def test_database_secrets_connect(healthy, broken, sandbox):
    healthy.assert_passed("test_database_secrets_connect")
    run = broken("secret-does-not-connect", ROTATION)
    run.assert_failed("test_database_secrets_connect", DB_SECRET, f"app@127.0.0.1:{sandbox.ports.postgres}",
                      "password authentication failed")
    _no_value(run, sandbox)
