"""The certificate rules on hand-built facts: ACM's status, expiry tiers, validation and use; the listeners'
certificates and SSL policies; CloudFront's certificate and minimum protocol; what the endpoints serve. Each way
to fail is one alarm naming its culprit. No sandbox."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.config.certificates import AcmCertificate, Certificates, Endpoint
from opsproof.config.certificates import Distribution as CloudFrontEntry
from opsproof.config.certificates import Listener as ListenerEntry
from opsproof.probes.acm import Certificate, Validation
from opsproof.probes.cloudfront import Distribution
from opsproof.probes.elbv2 import Listener
from opsproof.probes.tls import Served
from opsproof.rules import certificates as rules
from tests.unit.alarm_lines import alarms, one_alarm

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc)
API, CDN = "api.example.test", "cdn.example.test"
ACM_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/"
CFG = Certificates(min_days_left=30, critical_days_left=7)


def cert(domain=API, id="11111111-aaaa", status="ISSUED", days=90.0, in_use_by=("arn:lb/prod-alb",),
         validations=None, renewal_status=None, renewal_reason=None, serial="0a:0b") -> Certificate:
    return Certificate(
        arn=ACM_ARN + id, domain=domain, names=(domain,), status=status, type="AMAZON_ISSUED",
        not_after=NOW + dt.timedelta(days=days) if days is not None else None, days_left=days, serial=serial,
        in_use_by=tuple(in_use_by), validations=tuple(validations if validations is not None else
                                                      [Validation(domain, "SUCCESS", "DNS", "")]),
        renewal_eligibility="ELIGIBLE", renewal_status=renewal_status, renewal_reason=renewal_reason, issued=NOW,
        region="us-east-1")


# ---- ACM: issued ----------------------------------------------------------------------------------------------------
def test_issued_certificates_are_ok_and_each_is_named():
    found = rules.issued([(cert(), None), (cert(CDN, "22222222-bbbb"), None)], [])
    assert not alarms(found) and [f.subject for f in found] == [f"{API} (certificate/11111111)",
                                                                f"{CDN} (certificate/22222222)"]


@pytest.mark.parametrize("status", ["PENDING_VALIDATION", "EXPIRED", "FAILED", "REVOKED", "INACTIVE"])
def test_a_certificate_not_issued_is_an_alarm_with_the_renewal_action(status):
    line = one_alarm(rules.issued([(cert(status=status), None)], []), API, f"is {status}, not ISSUED")
    assert f"python -m actions renew-certificate --domain {API}" in line


def test_a_configured_certificate_acm_lacks_is_an_alarm():
    one_alarm(rules.issued([], ["www.example.test (eu-west-1)"]), "www.example.test (eu-west-1)",
              "ACM has no such certificate", "(certificates.acm)")


def test_no_certificates_no_findings():
    assert rules.issued([], []) == []


# ---- ACM: the expiry tiers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("days, tier, key", [
    (29.9, "WARNING", "certificates.min_days_left"),
    (12, "WARNING", "certificates.min_days_left"),
    (7, "WARNING", "certificates.min_days_left"),          # at critical_days_left: not yet CRITICAL
    (6.9, "CRITICAL", "certificates.critical_days_left"),
    (0, "CRITICAL", "certificates.critical_days_left"),
    (-1, "CRITICAL", "certificates.critical_days_left"),   # expired
], ids=["just under", "warning", "at critical", "critical", "today", "expired"])
def test_each_expiry_tier_is_an_alarm_naming_the_limit_that_set_it(days, tier, key):
    (f,) = rules.not_expiring([(cert(days=days), None)], CFG)
    assert f.status == "alarm" and f.reason.startswith(f"{tier}: expires in {days:g} days") and f.key == key
    assert f.measured == days and f.limit == (7 if tier == "CRITICAL" else 30)


def test_at_min_days_left_is_ok():
    (f,) = rules.not_expiring([(cert(days=30), None)], CFG)
    assert f.status == "ok" and f.limit == 30


def test_a_certificate_without_a_date_is_skipped_not_failed():
    (f,) = rules.not_expiring([(cert(status="PENDING_VALIDATION", days=None), None)], CFG)
    assert f.status == "skip" and not f.failing


def test_the_soonest_expiry_comes_first():
    found = rules.not_expiring([(cert(days=20), None), (cert(CDN, "22222222", days=3), None),
                                (cert("x.test", "3", days=None), None)], CFG)
    assert [f.subject.split()[0] for f in found] == [CDN, API, "x.test"]
    assert [f.reason.split(":")[0] for f in found[:2]] == ["CRITICAL", "WARNING"]


def test_tiers_follow_the_configuration():
    strict = Certificates(min_days_left=60, critical_days_left=45)
    (f,) = rules.not_expiring([(cert(days=50), None)], strict)
    assert f.reason.startswith("WARNING") and f.limit == 60


# ---- ACM: validation and renewal ------------------------------------------------------------------------------------
def test_domain_validation_pending_names_the_dns_record():
    v = Validation(CDN, "PENDING_VALIDATION", "DNS", "_x.cdn.example.test. CNAME _y.acm-validations.aws.")
    one_alarm(rules.validated([(cert(CDN, validations=[v]), None)]), CDN, "validation PENDING_VALIDATION",
              "CNAME", "must exist")


def test_email_validation_failed_has_no_record():
    line = one_alarm(rules.validated([(cert(validations=[Validation(API, "FAILED", "EMAIL", "")]), None)]),
                     "validation FAILED")
    assert "DNS record" not in line


@pytest.mark.parametrize("status", ["FAILED", "PENDING_VALIDATION"])
def test_a_failing_managed_renewal_is_an_alarm(status):
    one_alarm(rules.validated([(cert(renewal_status=status, renewal_reason="CAA_ERROR"), None)]),
              f"managed renewal {status} (CAA_ERROR)")


def test_renewal_in_progress_or_success_and_imported_certificates_are_ok():
    found = rules.validated([(cert(renewal_status="PENDING_AUTO_RENEWAL"), None),
                             (cert(CDN, "2", renewal_status="SUCCESS"), None),
                             (cert("imported.test", "3", validations=[]), None)])
    assert not alarms(found) and found[2].reason == "no domain validation"


def test_every_failed_validation_is_its_own_alarm():
    vs = [Validation(API, "FAILED", "DNS", ""), Validation("www." + API, "PENDING_VALIDATION", "DNS", "")]
    assert len(alarms(rules.validated([(cert(validations=vs, renewal_status="FAILED"), None)]))) == 3


# ---- ACM: in use ----------------------------------------------------------------------------------------------------
def test_a_configured_certificate_attached_to_nothing_is_an_alarm():
    one_alarm(rules.in_use([(cert(CDN, in_use_by=()), AcmCertificate(certificate=CDN))]), CDN,
              "attached to nothing", "(certificates.acm)")


def test_in_use_not_required_or_judged_for_being_in_use_is_ok():
    found = rules.in_use([(cert(in_use_by=()), AcmCertificate(certificate=API, in_use=False)),
                          (cert(CDN), None), (cert("x.test"), AcmCertificate(certificate="x.test"))])
    assert not alarms(found) and [f.reason for f in found] == ["not required in use", "in use by 1", "in use by 1"]


# ---- load balancer listeners ----------------------------------------------------------------------------------------
API_CERT, CDN_CERT, SNI_CERT = cert(), cert(CDN, "22222222"), cert("www.example.test", "33333333")
CERTS = [API_CERT, CDN_CERT, SNI_CERT]


def listener(default=API_CERT.arn, extra=(), policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
             protocols=("TLSv1.2", "TLSv1.3")) -> Listener:
    return Listener("arn:listener/1", "prod-alb", 443, "HTTPS", policy, tuple(protocols), default, tuple(extra))


def entry(certificate=API, extra=()) -> ListenerEntry:
    return ListenerEntry(load_balancer="prod-alb", port=443, certificate=certificate,
                         extra_certificates=list(extra))


def test_a_listener_serving_its_certificates_is_ok():
    found = rules.listener_certificates([(entry(extra=["www.example.test"]), listener(extra=[SNI_CERT.arn]))],
                                        CERTS)
    assert not alarms(found) and found[0].subject == "prod-alb:443"


def test_a_listener_by_arn_is_ok():
    assert not alarms(rules.listener_certificates([(entry(API_CERT.arn), listener())], CERTS))


def test_no_listener_on_the_port_is_an_alarm():
    one_alarm(rules.listener_certificates([(entry(), None)], CERTS), "prod-alb:443", "no listener on port 443",
              "(certificates.load_balancers)")


def test_a_wrong_default_certificate_names_what_it_serves():
    one_alarm(rules.listener_certificates([(entry(), listener(CDN_CERT.arn))], CERTS),
              f"prod-alb:443: serves {CDN} (certificate/22222222), not {API}", "renew-certificate")


def test_a_default_certificate_unknown_to_acm_is_named_by_its_id():
    one_alarm(rules.listener_certificates([(entry(), listener(ACM_ARN + "99999999-zzzz"))], CERTS),
              f"serves 99999999, not {API}")


def test_no_default_certificate_is_an_alarm():
    one_alarm(rules.listener_certificates([(entry(), listener(None))], CERTS), f"serves none, not {API}")


def test_a_missing_sni_certificate_is_an_alarm():
    one_alarm(rules.listener_certificates([(entry(extra=["www.example.test"]), listener())], CERTS),
              "lacks SNI certificate www.example.test", "add-listener-certificates")


def test_an_sni_certificate_that_is_the_default_counts():
    assert not alarms(rules.listener_certificates([(entry(extra=[API]), listener())], CERTS))


# ---- listener SSL policies ------------------------------------------------------------------------------------------
def test_an_acceptable_policy_is_ok():
    (f,) = rules.listener_policies([(entry(), listener())], CFG)
    assert f.status == "ok" and "TLSv1.2, TLSv1.3" in f.reason


def test_a_policy_enabling_old_protocols_names_them():
    weak = listener(policy="ELBSecurityPolicy-2016-08", protocols=("TLSv1", "TLSv1.1", "TLSv1.2"))
    one_alarm(rules.listener_policies([(entry(), weak)], CFG), "prod-alb:443", "ELBSecurityPolicy-2016-08 enables "
              "TLSv1, TLSv1.1", "(certificates.alb_allowed_protocols)", "modify-listener")


def test_a_policy_unknown_to_elb_is_an_alarm():
    one_alarm(rules.listener_policies([(entry(), listener(policy="Custom-1", protocols=()))], CFG),
              "SSL policy Custom-1 unknown to ELB")


def test_a_policy_not_in_the_allowed_list_is_an_alarm():
    cfg = Certificates(alb_allowed_policies=["ELBSecurityPolicy-TLS13-1-3-2021-06"])
    one_alarm(rules.listener_policies([(entry(), listener())], cfg), "is not an allowed policy",
              "(certificates.alb_allowed_policies)")


def test_a_weak_policy_outside_the_list_is_two_alarms():
    cfg = Certificates(alb_allowed_policies=["ELBSecurityPolicy-TLS13-1-3-2021-06"])
    weak = listener(policy="ELBSecurityPolicy-2016-08", protocols=("TLSv1", "TLSv1.2"))
    assert len(alarms(rules.listener_policies([(entry(), weak)], cfg))) == 2


def test_a_missing_listener_is_left_to_the_certificate_rule():
    (f,) = rules.listener_policies([(entry(), None)], CFG)
    assert f.status == "skip"


# ---- CloudFront -----------------------------------------------------------------------------------------------------
def dist(acm_certificate=CDN_CERT.arn, default=False, minimum="TLSv1.2_2021", aliases=(CDN,)) -> Distribution:
    return Distribution("E1ABC", tuple(aliases), acm_certificate, default, minimum, "sni-only", "acm")


CF = CloudFrontEntry(alias=CDN, certificate=CDN)


def test_a_distribution_with_its_certificate_and_a_modern_minimum_is_ok():
    (f,) = rules.cloudfront([(CF, dist())], CERTS, CFG)
    assert f.status == "ok" and f.subject == f"distribution E1ABC ({CDN})"


def test_a_missing_distribution_is_an_alarm():
    one_alarm(rules.cloudfront([(CF, None)], CERTS, CFG), f"distribution {CDN}", "no such CloudFront distribution")


@pytest.mark.parametrize("d", [dist(None, True), dist(None, False), dist(CDN_CERT.arn, True)],
                         ids=["default flag", "no certificate", "both"])
def test_cloudfronts_default_certificate_is_an_alarm(d):
    one_alarm(rules.cloudfront([(CF, d)], CERTS, CFG), CDN, f"uses CloudFront's default certificate, not {CDN}")


def test_another_acm_certificate_is_named():
    one_alarm(rules.cloudfront([(CF, dist(API_CERT.arn))], CERTS, CFG), f"uses {API} (certificate/11111111), "
              f"not {CDN}")


def test_a_certificate_unknown_to_acm_is_named_by_arn():
    one_alarm(rules.cloudfront([(CF, dist(ACM_ARN + "elsewhere"))], CERTS, CFG), f"uses {ACM_ARN}elsewhere")


@pytest.mark.parametrize("minimum", ["TLSv1", "TLSv1_2016", "TLSv1.1_2016", "SSLv3", "", "TLSv9_2030"])
def test_a_weak_or_unknown_minimum_protocol_is_an_alarm(minimum):
    one_alarm(rules.cloudfront([(CF, dist(minimum=minimum))], CERTS, CFG),
              f"allows {minimum or 'an unknown minimum protocol'}, weaker than TLSv1.2_2018",
              "(certificates.cloudfront_min_protocol)")


def test_the_configured_minimum_itself_is_ok_and_the_floor_is_configurable():
    assert not alarms(rules.cloudfront([(CF, dist(minimum="TLSv1.2_2018"))], CERTS, CFG))
    strict = Certificates(cloudfront_min_protocol="TLSv1.2_2021")
    one_alarm(rules.cloudfront([(CF, dist(minimum="TLSv1.2_2019"))], CERTS, strict), "allows TLSv1.2_2019")


def test_default_certificate_and_weak_protocol_are_two_alarms():
    assert len(alarms(rules.cloudfront([(CF, dist(None, True, "TLSv1"))], CERTS, CFG))) == 2


# ---- what the endpoints serve ---------------------------------------------------------------------------------------
def served(**kw) -> Served:
    base = dict(endpoint="127.0.0.1:15443", server_name=API, subject=f"CN={API}", issuer="CN=Example CA",
                serial="0A0B", not_after=NOW + dt.timedelta(days=200), days_left=200.0, protocol="TLSv1.3",
                verified=True, names=(API,), hostname_ok=True, chain_trusted=True)
    return Served(**{**base, **kw})


DEAD = served(error="127.0.0.1:15443: connection refused")
WHERE = f"127.0.0.1:15443 ({API})"


def test_healthy_endpoints_pass_every_served_rule():
    s = [served()]
    for found in (rules.served_not_expiring(s, CFG), rules.trusted_chain(s, CFG), rules.names_match(s),
                  rules.protocols(s, CFG)):
        assert [f.status for f in found] == ["ok"] and found[0].subject == WHERE


@pytest.mark.parametrize("rule", [lambda s: rules.served_not_expiring(s, CFG), lambda s: rules.trusted_chain(s, CFG),
                                  rules.names_match, lambda s: rules.protocols(s, CFG)],
                         ids=["expiry", "chain", "names", "protocols"])
def test_an_endpoint_that_does_not_answer_is_an_error_in_every_rule(rule):
    (f,) = rule([DEAD])
    assert f.status == "error" and "connection refused" in f.reason


@pytest.mark.parametrize("days, tier", [(12, "WARNING"), (-1, "CRITICAL")])
def test_a_served_certificate_near_expiry_is_in_its_tier(days, tier):
    one_alarm(rules.served_not_expiring([served(days_left=days)], CFG), WHERE, f"{tier}: expires in {days:g} days")


def test_an_untrusted_chain_names_the_issuer_and_the_store():
    bad = served(chain_trusted=False, chain_error="unable to get local issuer certificate", issuer="CN=rogue CA")
    one_alarm(rules.trusted_chain([bad], CFG), WHERE, "unable to get local issuer certificate, issuer CN=rogue CA",
              "the system trust store", "(certificates.ca_file)")
    one_alarm(rules.trusted_chain([bad], Certificates(ca_file="ca.pem")), "verified against ca.pem")


def test_a_name_mismatch_names_the_certificates_names_or_subject():
    one_alarm(rules.names_match([served(hostname_ok=False, names=("www.example.test",))]), WHERE,
              "serves a certificate for www.example.test")
    one_alarm(rules.names_match([served(hostname_ok=False, names=())]), f"serves a certificate for CN={API}")


def test_an_old_negotiated_protocol_and_an_old_one_still_accepted_are_alarms():
    one_alarm(rules.protocols([served(protocol="TLSv1.1")], CFG), "negotiates TLSv1.1, older than TLSv1.2",
              "(certificates.min_tls_version)")
    one_alarm(rules.protocols([served(protocol="TLSv1.3", old_protocol="TLSv1.1")], CFG),
              "still accepts TLSv1.1, older than TLSv1.2")


def test_the_protocol_floor_is_configurable():
    assert not alarms(rules.protocols([served(protocol="TLSv1.2")], CFG))
    one_alarm(rules.protocols([served(protocol="TLSv1.2")], Certificates(min_tls_version="TLSv1.3")),
              "negotiates TLSv1.2, older than TLSv1.3")


EP = Endpoint(host="127.0.0.1", port=15443, server_name=API, acm_certificate=API)


def test_the_endpoint_serving_acms_certificate_is_ok_and_says_which():
    (f,) = rules.serves_acm_certificate([(EP, served(serial="0a0b"))], [cert(serial="0a:0b")])
    assert f.status == "ok" and "certificate/11111111" in f.reason


def test_a_served_serial_not_acms_is_an_alarm():
    one_alarm(rules.serves_acm_certificate([(EP, served(serial="FFFF"))], [cert(serial="0a:0b")]), WHERE,
              "serves serial FFFF", f"not ACM's {API} (certificate/11111111)", "--new-certificate-arn")


def test_acm_without_the_certificate_and_a_dead_endpoint():
    one_alarm(rules.serves_acm_certificate([(EP, served())], [cert(CDN)]), f"ACM has no certificate {API}")
    (f,) = rules.serves_acm_certificate([(EP, DEAD)], [cert()])
    assert f.status == "error"


def test_the_assertion_lists_every_alarm():
    with pytest.raises(AssertionError) as e:
        findings.expect_no_alarm(rules.issued([(cert(status="EXPIRED"), None)], ["x.test (us-east-1)"]))
    assert "EXPIRED" in str(e.value) and "x.test (us-east-1)" in str(e.value) and "; " in str(e.value)


# ---- renewal clean-up: "Delete old certificate after 30 days" ------------------------------------------------------
def _renewed(replaced_days_ago: float, **old) -> list[Certificate]:
    new = cert(id="33333333-cccc")
    new = Certificate(**{**vars(new), "issued": NOW - dt.timedelta(days=replaced_days_ago)})
    previous = cert(id="44444444-dddd", in_use_by=())
    previous = Certificate(**{**vars(previous), "issued": NOW - dt.timedelta(days=400), **old})
    return [new, previous]


def test_an_old_certificate_kept_past_the_retention_is_an_alarm_with_the_delete_command():
    line = one_alarm(rules.old_certificates_deleted(_renewed(45), CFG, NOW), f"{API} (certificate/44444444)",
                     "replaced 45 days ago by", "(certificates.renewal.old_certificate_retention_days)",
                     f"aws acm delete-certificate --certificate-arn {ACM_ARN}44444444-dddd")
    assert "certificate/33333333" in line


def test_an_old_certificate_within_the_retention_is_ok_with_its_delete_date():
    (f,) = rules.old_certificates_deleted(_renewed(30), CFG, NOW)
    assert f.status == findings.OK and "delete it after 2026-12-03" in f.reason and f.measured == 30


def test_the_retention_comes_from_the_configuration():
    cfg = Certificates(renewal={"old_certificate_retention_days": 60})
    assert not alarms(rules.old_certificates_deleted(_renewed(45), cfg, NOW))


@pytest.mark.parametrize("old", [{"domain": CDN, "names": (CDN,)}, {"region": "eu-west-1"},
                                 {"issued": NOW}, {"in_use_by": ("arn:lb/prod-alb",)}],
                         ids=["other-domain", "other-region", "issued-after-the-one-in-use", "still-in-use"])
def test_a_certificate_not_replaced_is_not_judged(old):
    assert rules.old_certificates_deleted(_renewed(45, **old), CFG, NOW) == []


def test_a_replacement_that_covers_the_domain_as_a_name_counts():
    new, previous = _renewed(45)
    new = Certificate(**{**vars(new), "domain": f"*.{API}", "names": (f"*.{API}", API)})
    assert len(alarms(rules.old_certificates_deleted([new, previous], CFG, NOW))) == 1
