"""Secrets rotation (runbook: "Rotate Database Credentials (Quarterly)", "Rotate API Keys"). AWS Config and Prowler
read the rotation settings; here the current value's age, the rotation's outcome (AWSCURRENT differs from
AWSPREVIOUS, nothing left pending) and the database credential's actual login are verified. No value is shown."""

import pytest

from opsproof import findings
from opsproof.probes import secrets as probe
from opsproof.rules import secrets as rules

pytestmark = [pytest.mark.secrets]


@pytest.fixture(scope="module")
def secret_infos(env, aws):
    """[(configured secret, what Secrets Manager says or None when it has no such secret)]."""
    if not env.secrets.items:
        pytest.skip("no secrets.items configured")
    return [(s, probe.describe(aws("secretsmanager", "secrets", s.region), s.name)) for s in env.secrets.items]


@pytest.mark.post_maintenance
@pytest.mark.nightly
@pytest.mark.quarterly
def test_secrets_rotated_within_max_age(secret_infos, evidence):
    """Each configured secret's current value is younger than its max_age_days (database credentials: quarterly)."""
    evidence.table("secret ages", [{"secret": s.shown, "name": s.name, "kind": s.kind, "age (days)": i.age_days,
                                    "max (days)": s.max_age_days, "last rotated": i.last_rotated,
                                    "current value stored": i.current_created} for s, i in secret_infos if i])
    findings.expect_no_alarm(rules.ages(secret_infos), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_secrets_rotation_enabled(secret_infos, evidence):
    """Automatic rotation is enabled for each secret configured with rotation_required."""
    findings.expect_no_alarm(rules.rotation_enabled(secret_infos), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_rotated_secrets_differ_from_previous(secret_infos, evidence):
    """After a rotation AWSCURRENT differs from AWSPREVIOUS (compared by digest), and no rotation was left
    half-done (an AWSPENDING version apart from AWSCURRENT)."""
    evidence.table("versions", [{"secret": s.shown, "versions": i.versions, "has AWSPREVIOUS": i.has_previous,
                                 "differs from AWSPREVIOUS": i.current_differs_from_previous,
                                 "rotation pending": i.pending} for s, i in secret_infos if i])
    findings.expect_no_alarm(rules.versions(secret_infos), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_secrets_connect(env, aws, evidence):
    """The database credential in AWSCURRENT actually logs in (read-only session, SELECT 1): the runbook's
    "Verify connectivity" after a rotation."""
    wanted = env.secrets.database_secrets()
    if not wanted:
        pytest.skip("no secrets.items of kind 'database'")
    results = [(s, probe.login(aws("secretsmanager", "secrets", s.region), s.name, env.timeouts.connect_s,
                               env.timeouts.statement_ms)) for s in wanted]
    evidence.table("logins", [{"secret": s.shown, "as": c.target, "connected": c.ok, "ms": c.elapsed_ms,
                               "server": c.server_version or "", "error": c.error or ""} for s, c in results if c])
    findings.expect_no_alarm(rules.logins(results), evidence)
