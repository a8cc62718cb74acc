"""The live endpoints as a browser meets them: a trusted chain, their own name, a modern protocol, and the very
certificate ACM holds (runbook: "Verify new certificate is active"). Prowler and AWS Config only read ACM's
configuration; this connects."""

import pytest

from opsproof import findings
from opsproof.rules import certificates as rules

pytestmark = [pytest.mark.certificates]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_serve_a_trusted_chain(env, served_endpoints, evidence):
    """Each TLS endpoint's chain verifies against the trust store (certificates.ca_file, else the system's)."""
    evidence.table("chains", [{"endpoint": s.endpoint, "server name": s.server_name, "issuer": s.issuer,
                               "trusted": s.chain_trusted, "error": s.chain_error or s.error or ""}
                              for s in served_endpoints])
    findings.expect_no_alarm(rules.trusted_chain(served_endpoints, env.certificates), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_match_their_names(served_endpoints, evidence):
    """Each TLS endpoint serves a certificate whose names cover the name clients ask for (SNI)."""
    evidence.table("names", [{"endpoint": s.endpoint, "server name": s.server_name, "certificate names":
                              ", ".join(s.names), "match": s.hostname_ok} for s in served_endpoints])
    findings.expect_no_alarm(rules.names_match(served_endpoints), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_refuse_old_protocols(env, served_endpoints, evidence):
    """Each TLS endpoint negotiates certificates.min_tls_version or newer and refuses anything older."""
    evidence.table("protocols", [{"endpoint": s.endpoint, "negotiated": s.protocol,
                                  "older protocol accepted": s.old_protocol or "none"} for s in served_endpoints])
    findings.expect_no_alarm(rules.protocols(served_endpoints, env.certificates), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_serve_the_acm_certificate(env, served_endpoints, acm_inventory, evidence):
    """Each endpoint with an acm_certificate serves that very certificate (serial and expiry match ACM's): the
    runbook's "Verify new certificate is active" after a renewal."""
    wanted = [(ep, s) for ep, s in zip(env.certificates.endpoints, served_endpoints) if ep.acm_certificate]
    if not wanted:
        pytest.skip("no endpoint names an acm_certificate (certificates.endpoints)")
    everything = [c for certs in acm_inventory.values() for c in certs]
    evidence.table("ACM serials", [{"certificate": c.label, "serial": c.serial, "not after": c.not_after}
                                   for c in everything])
    findings.expect_no_alarm(rules.serves_acm_certificate(wanted, everything), evidence)
