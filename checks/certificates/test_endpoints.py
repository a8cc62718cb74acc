"""What the live endpoints actually serve (runbook: 'verify new certificate is active')."""

import pytest

pytestmark = [pytest.mark.certificates]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_served_certificates_are_not_expiring(env, served_endpoints, evidence):
    """Each TLS endpoint serves a certificate valid for more than certificates.min_days_left days."""
    c = env.certificates
    evidence.table("served certificates", served_endpoints)
    dead = [s.error for s in served_endpoints if s.error]
    short = [f"{c.severity(s.days_left)}: {s.endpoint} ({s.server_name}) {s.days_left} days left, not after "
             f"{s.not_after:%Y-%m-%d}" for s in served_endpoints if not s.error and s.days_left < c.min_days_left]
    if short:
        short[-1] += f" (certificates.min_days_left={c.min_days_left}, critical_days_left={c.critical_days_left})"
    assert not (dead or short), "; ".join(dead + short)
