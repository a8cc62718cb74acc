"""The load balancers' HTTPS listeners and CloudFront (runbook: "Application Load Balancer Certificate":
describe-listeners / describe-listener-certificates; "CloudFront SSL Certificate": get-distribution)."""

import pytest

from opsproof import findings
from opsproof.probes import cloudfront, elbv2
from opsproof.rules import certificates as rules

pytestmark = [pytest.mark.certificates]


@pytest.fixture(scope="module")
def configured_listeners(env, aws):
    """[(configuration entry, the listener on its port or None)]."""
    if not env.certificates.load_balancers:
        pytest.skip("no certificates.load_balancers configured")
    elb = aws("elbv2", "certificates")
    out = []
    for entry in env.certificates.load_balancers:
        found = [l for l in elbv2.listeners(elb, entry.load_balancer) if l.port == entry.port]
        out.append((entry, found[0] if found else None))
    return out


def _label(arn, by_arn) -> str:
    return by_arn[arn].label if arn in by_arn else str(arn)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_alb_listeners_serve_expected_certificates(env, configured_listeners, acm_inventory, evidence):
    """Each configured HTTPS listener's default certificate, and each of its expected SNI certificates, is the
    ACM certificate the configuration names (certificates.load_balancers)."""
    certs = acm_inventory.get(env.aws_target("certificates").region, [])
    by_arn = {c.arn: c for c in certs}
    evidence.table("listeners", [
        {"listener": f"{e.load_balancer}:{e.port}", "protocol": l.protocol, "default certificate":
         _label(l.default_certificate, by_arn), "extra certificates": ", ".join(
             _label(a, by_arn) for a in l.extra_certificates) or "-", "expected": e.certificate}
        for e, l in configured_listeners if l is not None])
    findings.expect_no_alarm(rules.listener_certificates(configured_listeners, certs), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_alb_listeners_use_acceptable_tls_policy(env, configured_listeners, evidence):
    """Each configured HTTPS listener's SSL policy enables only certificates.alb_allowed_protocols (and is one of
    certificates.alb_allowed_policies when that is set)."""
    evidence.table("SSL policies", [{"listener": f"{e.load_balancer}:{e.port}", "policy": l.ssl_policy,
                                     "protocols": ", ".join(l.policy_protocols)}
                                    for e, l in configured_listeners if l is not None])
    findings.expect_no_alarm(rules.listener_policies(configured_listeners, env.certificates), evidence)


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
    found = [(entry, cloudfront.distribution(cf, id=entry.id, alias=entry.alias)) for entry in c.cloudfront]
    evidence.table("distributions", [vars(d) for _, d in found if d is not None])
    findings.expect_no_alarm(rules.cloudfront(found, acm_inventory.get("us-east-1") or [], c), evidence)
