"""ACM certificates (runbook: "ACM Certificates Auto-Renew, but verify: Certificate is in 'ISSUED' status, Domain
validation is successful, Certificate is attached to load balancer"). Unlike Prowler (expiry of in-use certificates
only) and AWS Config (expiry only), status, validation, renewal and use are judged too."""

import pytest

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
    bad = [f"{c.label} is {c.status}, not ISSUED" for c, _ in judged if c.status != "ISSUED"]
    bad += [f"ACM has no certificate {m} (certificates.acm)" for m in missing]
    assert not bad, "; ".join(bad)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_certificates_are_not_expiring(env, judged_certificates, evidence):
    """Every configured (and every in-use) ACM certificate expires in more than certificates.min_days_left days
    (CRITICAL below certificates.critical_days_left)."""
    c = env.certificates
    judged, _ = judged_certificates
    rows = [{"certificate": cert.label, "days left": cert.days_left, "not after": cert.not_after,
             "tier": c.severity(cert.days_left) if cert.days_left is not None else "?"} for cert, _ in judged]
    evidence.table("expiry", rows)
    short = sorted((cert for cert, _ in judged if cert.days_left is not None and cert.days_left < c.min_days_left),
                   key=lambda cert: cert.days_left)
    assert not short, "; ".join(f"{c.severity(cert.days_left)}: {cert.label} expires in {cert.days_left} days "
                                f"({cert.not_after:%Y-%m-%d})" for cert in short) + \
        f" (certificates.min_days_left={c.min_days_left}, critical_days_left={c.critical_days_left})"


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_domain_validation_succeeded(judged_certificates, evidence):
    """Domain validation of every ACM-issued certificate is SUCCESS, and its managed renewal (where ACM reports
    one) is not failed or waiting for validation."""
    judged, _ = judged_certificates
    rows, bad = [], []
    for c, _ in judged:
        for v in c.validations:
            rows.append({"certificate": c.label, "domain": v.domain, "method": v.method, "status": v.status,
                         "record": v.record})
            if v.status != "SUCCESS":
                bad.append(f"{c.label}: {v.domain} validation {v.status}" + (
                    f" (DNS record {v.record} must exist)" if v.record else ""))
        if c.renewal_status in ("FAILED", "PENDING_VALIDATION"):
            bad.append(f"{c.label}: managed renewal {c.renewal_status}" + (
                f" ({c.renewal_reason})" if c.renewal_reason else ""))
    evidence.table("domain validation", rows)
    evidence.table("renewal", [{"certificate": c.label, "eligibility": c.renewal_eligibility,
                                "status": c.renewal_status or "-"} for c, _ in judged])
    assert not bad, "; ".join(bad)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_acm_certificates_are_in_use(judged_certificates, evidence):
    """Every configured certificate with in_use = true is attached to something (runbook: "Certificate is attached
    to load balancer")."""
    judged, _ = judged_certificates
    evidence.table("in use by", [{"certificate": c.label, "in use by": list(c.in_use_by)} for c, _ in judged])
    bad = [f"{c.label} is attached to nothing" for c, entry in judged if entry is not None and entry.in_use
           and not c.in_use]
    assert not bad, "; ".join(bad) + " (certificates.acm in_use)"
