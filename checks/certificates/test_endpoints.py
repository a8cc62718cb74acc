"""What the live endpoints actually serve (runbook: 'verify new certificate is active')."""

import pytest

from opsproof.probes import tls

pytestmark = [pytest.mark.certificates]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_served_certificates_are_not_expiring(env, evidence):
    """Each TLS endpoint serves a certificate valid for more than certificates.min_days_left days."""
    c = env.certificates
    ca = env.path(c.ca_file) if c.ca_file else None
    served = [tls.served(ep, ca, env.timeouts.connect_s) for ep in c.endpoints]
    evidence.table("served certificates", served)
    short = [s for s in served if s.days_left < c.min_days_left]
    assert not short, f"certificate(s) expiring within {c.min_days_left} days: " + ", ".join(
        f"{s.endpoint} ({s.server_name}) {s.days_left} days left, not after {s.not_after:%Y-%m-%d}" for s in short)
