"""The load balancers' HTTPS listeners and CloudFront (runbook: "Application Load Balancer Certificate":
describe-listeners / describe-listener-certificates; "CloudFront SSL Certificate": get-distribution)."""

import pytest

from opsproof.config.certificates import CLOUDFRONT_PROTOCOLS
from opsproof.probes import acm

pytestmark = [pytest.mark.certificates]


def _short(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1][:8] if arn else "none"


@pytest.fixture(scope="module")
def configured_listeners(env, aws):
    """[(configuration entry, the listener on its port or None)]."""
    elb = aws("elbv2", "certificates")
    out = []
    for entry in env.certificates.load_balancers:
        found = [l for l in acm.listeners(elb, entry.load_balancer) if l.port == entry.port]
        out.append((entry, found[0] if found else None))
    return out


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_alb_listeners_serve_expected_certificates(env, configured_listeners, acm_inventory, evidence):
    """Each configured HTTPS listener's default certificate, and each of its expected SNI certificates, is the
    ACM certificate the configuration names (certificates.load_balancers)."""
    if not configured_listeners:
        pytest.skip("no certificates.load_balancers configured")
    certs = acm_inventory.get(env.aws_target("certificates").region, [])
    by_arn = {c.arn: c for c in certs}
    rows, bad = [], []
    for entry, l in configured_listeners:
        where = f"{entry.load_balancer}:{entry.port}"
        if l is None:
            bad.append(f"{where}: no listener on port {entry.port}")
            continue
        default = by_arn.get(l.default_certificate)
        rows.append({"listener": where, "protocol": l.protocol, "default certificate": default.label if default
                     else l.default_certificate, "extra certificates": ", ".join(
                         by_arn[a].label if a in by_arn else a for a in l.extra_certificates) or "-",
                     "expected": entry.certificate})
        if not l.default_certificate or not acm.refers_to(l.default_certificate, entry.certificate, certs):
            bad.append(f"{where} serves {default.label if default else _short(l.default_certificate)}, not "
                       f"{entry.certificate}")
        for want in entry.extra_certificates:
            if not any(acm.refers_to(a, want, certs) for a in l.extra_certificates + (l.default_certificate,)):
                bad.append(f"{where} lacks SNI certificate {want}")
    evidence.table("listeners", rows)
    assert not bad, "; ".join(bad) + " (certificates.load_balancers)"


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_alb_listeners_use_acceptable_tls_policy(env, configured_listeners, evidence):
    """Each configured HTTPS listener's SSL policy enables only certificates.alb_allowed_protocols (and is one of
    certificates.alb_allowed_policies when that is set)."""
    if not configured_listeners:
        pytest.skip("no certificates.load_balancers configured")
    c = env.certificates
    allowed = set(c.alb_allowed_protocols)
    rows, bad = [], []
    for entry, l in configured_listeners:
        if l is None:
            continue  # reported by test_alb_listeners_serve_expected_certificates
        where = f"{entry.load_balancer}:{entry.port}"
        rows.append({"listener": where, "policy": l.ssl_policy, "protocols": ", ".join(l.policy_protocols)})
        extra = sorted(set(l.policy_protocols) - allowed)
        if not l.policy_protocols:
            bad.append(f"{where}: SSL policy {l.ssl_policy} unknown to ELB")
        elif extra:
            bad.append(f"{where}: {l.ssl_policy} enables {', '.join(extra)}")
        if c.alb_allowed_policies and l.ssl_policy not in c.alb_allowed_policies:
            bad.append(f"{where}: {l.ssl_policy} is not one of certificates.alb_allowed_policies")
    evidence.table("SSL policies", rows)
    assert not bad, "; ".join(bad) + f" (certificates.alb_allowed_protocols={sorted(allowed)})"


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_cloudfront_uses_its_acm_certificate(env, aws, acm_inventory, evidence):
    """Each configured CloudFront distribution serves its ACM certificate (not CloudFront's default one) with a
    minimum protocol of certificates.cloudfront_min_protocol or stronger."""
    c = env.certificates
    if not c.cloudfront:
        pytest.skip("no certificates.cloudfront configured")
    cf = aws("cloudfront", "certificates")
    certs = acm_inventory.get("us-east-1") or []
    by_arn = {x.arn: x for x in certs}
    floor = CLOUDFRONT_PROTOCOLS.index(c.cloudfront_min_protocol)
    rows, bad = [], []
    for entry in c.cloudfront:
        d = acm.distribution(cf, id=entry.id, alias=entry.alias)
        if d is None:
            bad.append(f"no CloudFront distribution {entry.label}")
            continue
        where = f"distribution {d.id} ({', '.join(d.aliases) or 'no alias'})"
        cert = by_arn.get(d.acm_certificate or "")
        rows.append({"distribution": d.id, "aliases": ", ".join(d.aliases), "certificate": cert.label if cert else
                     (d.acm_certificate or "CloudFront default"), "default certificate": d.default_certificate,
                     "minimum protocol": d.minimum_protocol, "ssl support": d.ssl_support})
        if d.default_certificate or not d.acm_certificate:
            bad.append(f"{where} uses CloudFront's default certificate, not {entry.certificate}")
        elif not acm.refers_to(d.acm_certificate, entry.certificate, certs):
            bad.append(f"{where} uses {cert.label if cert else d.acm_certificate}, not {entry.certificate}")
        rank = CLOUDFRONT_PROTOCOLS.index(d.minimum_protocol) if d.minimum_protocol in CLOUDFRONT_PROTOCOLS else -1
        if rank < floor:
            bad.append(f"{where} allows {d.minimum_protocol or 'an unknown minimum protocol'}")
    evidence.table("distributions", rows)
    assert not bad, "; ".join(bad) + f" (certificates.cloudfront, cloudfront_min_protocol={c.cloudfront_min_protocol})"
