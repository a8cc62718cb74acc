"""What the live endpoints actually serve (runbook: 'verify new certificate is active')."""

import pytest

from opsproof import findings
from opsproof.rules import certificates as rules

pytestmark = [pytest.mark.certificates]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_served_certificates_are_not_expiring(env, served_endpoints, evidence):
    """Each TLS endpoint serves a certificate valid for more than certificates.min_days_left days."""
    evidence.table("served certificates", served_endpoints)
    findings.expect_no_alarm(rules.served_not_expiring(served_endpoints, env.certificates), evidence)
