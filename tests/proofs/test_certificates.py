"""Proofs of the certificates checks (ACM, ALB, CloudFront, live endpoints) and of the renew-certificate action:
each check passes on the healthy sandbox and fails, naming the certificate or endpoint, under its fault."""

import pytest

import actions

ACM = "checks/certificates/test_acm.py"
LB = "checks/certificates/test_load_balancers.py"
SERVED = "checks/certificates/test_served.py"
API, CDN = "api.aifilmstudio.test", "cdn.aifilmstudio.test"


def test_acm_certificates_are_issued(healthy, broken):
    healthy.assert_passed("test_acm_certificates_are_issued")
    run = broken("certificate-pending-validation", ACM)
    run.assert_failed("test_acm_certificates_are_issued", CDN, "PENDING_VALIDATION, not ISSUED")


def test_acm_certificates_are_listed_whatever_their_key_type(healthy, sandbox):
    """ListCertificates lists RSA_1024/RSA_2048 certificates only unless Includes.keyTypes asks for more (the
    sandbox does as AWS does); the seeded certificates are ECDSA (EC_prime256v1) and the checks judge them."""
    acm = sandbox.client("acm")
    assert acm.list_certificates(MaxItems=1000)["CertificateSummaryList"] == []  # AWS's default filter hides ECDSA
    listed = acm.list_certificates(MaxItems=1000, Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert {c["KeyAlgorithm"] for c in listed} == {"EC_prime256v1"} and len(listed) >= 2
    rows = [r for e in healthy.evidence("test_acm_certificates_are_issued") if e["title"] == "ACM certificates"
            for r in e["payload"]]
    assert {r["key"] for r in rows} == {"EC_prime256v1"} and len(rows) >= 2, rows


def test_acm_certificates_are_not_expiring(healthy, broken):
    healthy.assert_passed("test_acm_certificates_are_not_expiring")
    run = broken("expiring-certificate", ACM)
    run.assert_failed("test_acm_certificates_are_not_expiring", API, "WARNING: expires in 12",
                      "under 30 (certificates.min_days_left)")


def test_acm_expired_certificate_is_critical_and_not_issued(broken):
    run = broken("expired-certificate", ACM)
    run.assert_failed("test_acm_certificates_are_not_expiring", API, "CRITICAL: expires in -1",
                      "(certificates.critical_days_left)")
    run.assert_failed("test_acm_certificates_are_issued", API, "EXPIRED")


def test_acm_domain_validation_succeeded(healthy, broken):
    healthy.assert_passed("test_acm_domain_validation_succeeded")
    run = broken("certificate-pending-validation", ACM)
    run.assert_failed("test_acm_domain_validation_succeeded", CDN, "validation PENDING_VALIDATION", "CNAME")


def test_acm_certificates_are_in_use(healthy, broken):
    healthy.assert_passed("test_acm_certificates_are_in_use")
    run = broken("cloudfront-default-certificate", ACM)
    run.assert_failed("test_acm_certificates_are_in_use", CDN, "attached to nothing")


def test_old_certificates_deleted_after_retention(healthy, broken, sandbox):
    healthy.assert_passed("test_old_certificates_deleted_after_retention")
    run = broken("old-certificate-kept", ACM + "::test_old_certificates_deleted_after_retention")
    old = (sandbox.dir / "faults-old-certificate-kept.json").read_text()
    run.assert_failed("test_old_certificates_deleted_after_retention", f"{API} (certificate/{old.rsplit('/')[-1][:8]})",
                      "replaced 45 days ago", f"aws acm delete-certificate --certificate-arn {old}")


def test_alb_listeners_serve_expected_certificates(healthy, broken):
    healthy.assert_passed("test_alb_listeners_serve_expected_certificates")
    run = broken("wrong-listener-certificate", LB)
    run.assert_failed("test_alb_listeners_serve_expected_certificates", "prod-alb:443: serves", CDN, f"not {API}")


def test_alb_listeners_use_acceptable_tls_policy(healthy, broken):
    healthy.assert_passed("test_alb_listeners_use_acceptable_tls_policy")
    run = broken("alb-weak-tls-policy", LB)
    run.assert_failed("test_alb_listeners_use_acceptable_tls_policy", "prod-alb:443", "ELBSecurityPolicy-2016-08",
                      "TLSv1, TLSv1.1")


def test_cloudfront_uses_its_acm_certificate(healthy, broken):
    healthy.assert_passed("test_cloudfront_uses_its_acm_certificate")
    run = broken("cloudfront-default-certificate", LB)
    run.assert_failed("test_cloudfront_uses_its_acm_certificate", CDN, "CloudFront's default certificate",
                      "allows TLSv1")


def test_endpoints_serve_a_trusted_chain(healthy, broken, sandbox):
    healthy.assert_passed("test_endpoints_serve_a_trusted_chain")
    run = broken("endpoint-untrusted-chain", SERVED)
    run.assert_failed("test_endpoints_serve_a_trusted_chain", f"127.0.0.1:{sandbox.ports.tls}", API,
                      "unable to get local issuer certificate", "untrusted rogue CA")


def test_endpoints_match_their_names(healthy, broken, sandbox):
    healthy.assert_passed("test_endpoints_match_their_names")
    run = broken("endpoint-hostname-mismatch", SERVED)
    run.assert_failed("test_endpoints_match_their_names", f"127.0.0.1:{sandbox.ports.tls} ({API}): serves a certificate for",
                      "www.example.test")


def test_endpoints_refuse_old_protocols(healthy, broken, sandbox):
    healthy.assert_passed("test_endpoints_refuse_old_protocols")
    run = broken("endpoint-old-tls", SERVED)
    run.assert_failed("test_endpoints_refuse_old_protocols", f"127.0.0.1:{sandbox.ports.tls}", "still accepts TLSv1.1",
                      "older than TLSv1.2 (certificates.min_tls_version)")


def test_endpoints_serve_the_acm_certificate(healthy, broken, sandbox):
    healthy.assert_passed("test_endpoints_serve_the_acm_certificate")
    run = broken("served-certificate-not-acm", SERVED)
    msg = run.assert_failed("test_endpoints_serve_the_acm_certificate", f"127.0.0.1:{sandbox.ports.tls}",
                            "serves serial", f"not ACM's {API}")
    assert "passed" in [c["outcome"] for c in run.record["checks"]
                        if c["nodeid"].endswith("test_endpoints_serve_a_trusted_chain")], msg


def test_a_swapped_listener_certificate_is_what_the_endpoint_serves(broken, sandbox):
    """The sandbox's endpoint is the ALB's HTTPS listener: a wrong listener certificate is served too."""
    run = broken("wrong-listener-certificate", SERVED)
    run.assert_failed("test_endpoints_match_their_names", CDN)
    run.assert_failed("test_endpoints_serve_the_acm_certificate", f"127.0.0.1:{sandbox.ports.tls}")


# ---- the renew-certificate action ------------------------------------------------------------------------------
@pytest.fixture
def restore_listener(sandbox):
    """After the test: the HTTPS listener serves the seeded certificate again and the renewal's is deleted."""
    from sandbox.aws.seed_security import certificate_arns, https_listener_arn

    seeded = certificate_arns(sandbox)[API]
    yield seeded
    sandbox.client("elbv2").modify_listener(ListenerArn=https_listener_arn(sandbox),
                                            Certificates=[{"CertificateArn": seeded}])
    acm = sandbox.client("acm")
    listed = acm.list_certificates(MaxItems=1000, Includes={"keyTypes": ["EC_prime256v1", "RSA_2048"]})
    for c in listed["CertificateSummaryList"]:
        if c["DomainName"] == API and c["CertificateArn"] != seeded:
            acm.delete_certificate(CertificateArn=c["CertificateArn"])


def test_renew_certificate_plan_changes_nothing(sandbox, restore_listener):
    report = actions.run("renew-certificate", sandbox.env, apply=False, domain=API)
    assert [s.status for s in report.steps][:6] == ["done"] + ["planned"] * 5, report.as_text()
    assert "switch prod-alb:443 (default)" in report.as_text()
    listed = sandbox.client("acm").list_certificates(MaxItems=1000, Includes={"keyTypes": ["EC_prime256v1"]})
    assert [c["DomainName"] for c in listed["CertificateSummaryList"]].count(API) == 1


def test_renew_certificate_swaps_the_listener_and_the_new_one_is_served(sandbox, restore_listener, run_checks):
    report = actions.run("renew-certificate", sandbox.env, apply=True, domain=API)
    assert report.ok, report.as_text()
    text = report.as_text()
    assert "CNAME" in text and "ISSUED" in text and "not before" in text
    assert report.result["old"] == restore_listener and report.result["new"] != restore_listener
    checks = run_checks("checks/certificates", "-m", "not destructive")
    for name in ("test_endpoints_serve_the_acm_certificate", "test_alb_listeners_serve_expected_certificates",
                 "test_acm_certificates_are_issued", "test_acm_certificates_are_in_use"):
        checks.assert_passed(name)
    rows = [r for e in checks.evidence("test_endpoints_serve_the_acm_certificate") if e["title"] == "findings"
            for r in e["payload"]]
    assert report.result["new"].rsplit("/", 1)[-1][:8] in rows[0]["reason"]


def test_renew_certificate_stops_until_dns_validates_then_resumes(sandbox, restore_listener):
    from opsproof.errors import OpsproofError

    with pytest.raises((actions.StepFailed, OpsproofError)) as failed:
        actions.run("renew-certificate", sandbox.env, apply=True, domain=API, wait=0.1)
    message = str(failed.value)
    assert "PENDING_VALIDATION" in message and "--new-certificate-arn" in message
    new_arn = message.split("--new-certificate-arn ")[1].split()[0]
    listener = sandbox.client("elbv2").describe_listeners(LoadBalancerArn=_alb(sandbox), PageSize=400)["Listeners"]
    assert restore_listener in [c["CertificateArn"] for l in listener for c in l.get("Certificates", [])]
    report = actions.run("renew-certificate", sandbox.env, apply=True, domain=API, new_certificate_arn=new_arn)
    assert report.ok and report.result["new"] == new_arn, report.as_text()


def _alb(sandbox):
    return sandbox.client("elbv2").describe_load_balancers(Names=["prod-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
