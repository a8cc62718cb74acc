"""Secrets rotation (runbook: "Rotate Database Credentials (Quarterly)", "Rotate API Keys"). AWS Config and Prowler
read the rotation settings; here the current value's age, the rotation's outcome (AWSCURRENT differs from
AWSPREVIOUS, nothing left pending) and the database credential's actual login are verified. No value is shown."""

import pytest

from opsproof.probes import secrets as probe

pytestmark = [pytest.mark.secrets]


@pytest.fixture(scope="module")
def secret_infos(env, aws):
    """[(configured secret, what Secrets Manager says or None when it has no such secret)]."""
    if not env.secrets.items:
        pytest.skip("no secrets.items configured")
    return [(s, probe.describe(aws("secretsmanager", "secrets", s.region), s.name)) for s in env.secrets.items]


def _missing(infos):
    return [f"{s.shown}: no secret {s.name} in Secrets Manager" for s, i in infos if i is None]


@pytest.mark.post_maintenance
@pytest.mark.nightly
@pytest.mark.quarterly
def test_secrets_rotated_within_max_age(secret_infos, evidence):
    """Each configured secret's current value is younger than its max_age_days (database credentials: quarterly)."""
    evidence.table("secret ages", [{"secret": s.shown, "name": s.name, "kind": s.kind, "age (days)": i.age_days,
                                    "max (days)": s.max_age_days, "last rotated": i.last_rotated,
                                    "current value stored": i.current_created} for s, i in secret_infos if i])
    bad = [f"{s.shown} ({s.name}) last changed {i.age_days} days ago, over {s.max_age_days}"
           if i.age_days is not None else f"{s.shown} ({s.name}): no rotation or change date"
           for s, i in secret_infos if i and (i.age_days is None or i.age_days > s.max_age_days)]
    bad = _missing(secret_infos) + bad
    assert not bad, "; ".join(bad) + " (secrets.items max_age_days)"


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_secrets_rotation_enabled(secret_infos, evidence):
    """Automatic rotation is enabled for each secret configured with rotation_required."""
    wanted = [(s, i) for s, i in secret_infos if s.rotation_required]
    evidence.table("rotation", [{"secret": s.shown, "rotation enabled": i.rotation_enabled,
                                 "every (days)": i.rotation_days} for s, i in wanted if i])
    bad = _missing(wanted) + [f"{s.shown} ({s.name}): automatic rotation is disabled" for s, i in wanted
                              if i and not i.rotation_enabled]
    assert not bad, "; ".join(bad) + " (secrets.items rotation_required)"


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_rotated_secrets_differ_from_previous(secret_infos, evidence):
    """After a rotation AWSCURRENT differs from AWSPREVIOUS (compared by digest), and no rotation was left
    half-done (an AWSPENDING version apart from AWSCURRENT)."""
    evidence.table("versions", [{"secret": s.shown, "versions": i.versions, "has AWSPREVIOUS": i.has_previous,
                                 "differs from AWSPREVIOUS": i.current_differs_from_previous,
                                 "rotation pending": i.pending} for s, i in secret_infos if i])
    bad = _missing(secret_infos)
    for s, i in secret_infos:
        if i is None:
            continue
        if i.current_differs_from_previous is False:
            bad.append(f"{s.shown} ({s.name}): AWSCURRENT is the same value as AWSPREVIOUS (the rotation changed "
                       "nothing)")
        if i.pending:
            bad.append(f"{s.shown} ({s.name}): an AWSPENDING version was left behind (a rotation did not finish)")
    assert not bad, "; ".join(bad)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_database_secrets_connect(env, aws, evidence):
    """The database credential in AWSCURRENT actually logs in (read-only session, SELECT 1): the runbook's
    "Verify connectivity" after a rotation."""
    wanted = env.secrets.database_secrets()
    if not wanted:
        pytest.skip("no secrets.items of kind 'database'")
    results = []
    for s in wanted:
        sm = aws("secretsmanager", "secrets", s.region)
        try:
            value = probe.value_of(sm, s.name)
        except sm.exceptions.ResourceNotFoundException:
            results.append((s, probe.Connection("-", False, f"no secret {s.name} in Secrets Manager", 0.0)))
            continue
        results.append((s, probe.connects(value, env.timeouts.connect_s, env.timeouts.statement_ms)))
    evidence.table("logins", [{"secret": s.shown, "as": c.target, "connected": c.ok, "ms": c.elapsed_ms,
                               "server": c.server_version or "", "error": c.error or ""} for s, c in results])
    bad = [f"{s.shown} ({s.name}) as {c.target}: {c.error}" for s, c in results if not c.ok]
    assert not bad, "; ".join(bad)
