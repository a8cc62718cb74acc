"""ACM certificates (runbook: "ACM Certificates Auto-Renew, but verify: Certificate is in 'ISSUED' status, Domain
validation is successful, Certificate is attached to load balancer"). Unlike Prowler (expiry of in-use certificates
only) and AWS Config (expiry only), status, validation, renewal and use are judged too."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.rules import certificates as rules

pytestmark = [pytest.mark.certificates]


def _rows(judged):
    return [{"certificate": c.label, "region": c.region, "status": c.status, "type": c.type, "key": c.key_algorithm,
             "days left": c.days_left, "not after": c.not_after, "validation": ", ".join(
                 f"{v.domain}: {v.status}" for v in c.validations) or "-", "renewal": c.renewal_status or "-",
             "in use by": ", ".join(u.rsplit(":", 1)[-1] for u in c.in_use_by) or "-",
             "configured": entry.certificate if entry else "(in use)"} for c, entry in judged]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_certificates_are_issued(judged_certificates, evidence):
    """Every configured (and every in-use) ACM certificate exists and is in 'ISSUED' status."""
    judged, missing = judged_certificates
    evidence.table("ACM certificates", _rows(judged))
    findings.expect_no_alarm(rules.issued(judged, missing), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_certificates_are_not_expiring(env, judged_certificates, evidence):
    """Every configured (and every in-use) ACM certificate expires in more than certificates.min_days_left days
    (CRITICAL below certificates.critical_days_left)."""
    judged, _ = judged_certificates
    evidence.table("expiry", [{"certificate": cert.label, "days left": cert.days_left, "not after": cert.not_after}
                              for cert, _ in judged])
    findings.expect_no_alarm(rules.not_expiring(judged, env.certificates), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_domain_validation_succeeded(judged_certificates, evidence):
    """Domain validation of every ACM-issued certificate is SUCCESS, and its managed renewal (where ACM reports
    one) is not failed or waiting for validation."""
    judged, _ = judged_certificates
    evidence.table("domain validation", [{"certificate": c.label, "domain": v.domain, "method": v.method,
                                          "status": v.status, "record": v.record} for c, _ in judged
                                         for v in c.validations])
    evidence.table("renewal", [{"certificate": c.label, "eligibility": c.renewal_eligibility,
                                "status": c.renewal_status or "-"} for c, _ in judged])
    findings.expect_no_alarm(rules.validated(judged), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_certificates_are_in_use(judged_certificates, evidence):
    """Every configured certificate with in_use = true is attached to something (runbook: "Certificate is attached
    to load balancer")."""
    judged, _ = judged_certificates
    evidence.table("in use by", [{"certificate": c.label, "in use by": list(c.in_use_by)} for c, _ in judged])
    findings.expect_no_alarm(rules.in_use(judged), evidence)


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_old_certificates_deleted_after_retention(env, acm_inventory, evidence):
    """A certificate replaced by a renewal is deleted certificates.renewal.old_certificate_retention_days (the
    runbook's 30) after its replacement was issued."""
    certs = [c for region in acm_inventory.values() for c in region]
    found = rules.old_certificates_deleted(certs, env.certificates, dt.datetime.now(dt.timezone.utc))
    findings.expect_no_alarm(found, evidence, "replaced certificates")
