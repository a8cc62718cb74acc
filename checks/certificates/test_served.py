"""The live endpoints as a browser meets them: a trusted chain, their own name, a modern protocol, and the very
certificate ACM holds (runbook: "Verify new certificate is active"). Prowler and AWS Config only read ACM's
configuration; this connects."""

import pytest

from opsproof.probes import acm, tls

pytestmark = [pytest.mark.certificates]


def _dead(served):
    return [s.error for s in served if s.error]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_serve_a_trusted_chain(env, served_endpoints, evidence):
    """Each TLS endpoint's chain verifies against the trust store (certificates.ca_file, else the system's)."""
    store = str(env.certificates.ca_file or "the system trust store")
    evidence.table("chains", [{"endpoint": s.endpoint, "server name": s.server_name, "issuer": s.issuer,
                               "trusted": s.chain_trusted, "error": s.chain_error or s.error or ""}
                              for s in served_endpoints])
    bad = [f"{s.endpoint} ({s.server_name}): {s.chain_error}, issuer {s.issuer}" for s in served_endpoints
           if not s.error and not s.chain_trusted]
    assert not (bad or _dead(served_endpoints)), "; ".join(_dead(served_endpoints) + bad) + \
        (f" (verified against {store}: certificates.ca_file)" if bad else "")


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_match_their_names(served_endpoints, evidence):
    """Each TLS endpoint serves a certificate whose names cover the name clients ask for (SNI)."""
    evidence.table("names", [{"endpoint": s.endpoint, "server name": s.server_name, "certificate names":
                              ", ".join(s.names), "match": s.hostname_ok} for s in served_endpoints])
    bad = [f"{s.endpoint} asked for {s.server_name} serves a certificate for {', '.join(s.names) or s.subject}"
           for s in served_endpoints if not s.error and not s.hostname_ok]
    assert not (bad or _dead(served_endpoints)), "; ".join(_dead(served_endpoints) + bad)


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_refuse_old_protocols(env, served_endpoints, evidence):
    """Each TLS endpoint negotiates certificates.min_tls_version or newer and refuses anything older."""
    floor = env.certificates.min_tls_version
    evidence.table("protocols", [{"endpoint": s.endpoint, "negotiated": s.protocol,
                                  "older protocol accepted": s.old_protocol or "none"} for s in served_endpoints])
    bad = []
    for s in served_endpoints:
        if s.error:
            continue
        if not tls.at_least(s.protocol, floor):
            bad.append(f"{s.endpoint} ({s.server_name}) negotiates {s.protocol}")
        elif s.old_protocol:
            bad.append(f"{s.endpoint} ({s.server_name}) still accepts {s.old_protocol}")
    assert not (bad or _dead(served_endpoints)), "; ".join(_dead(served_endpoints) + bad) + \
        (f" (certificates.min_tls_version={floor})" if bad else "")


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_endpoints_serve_the_acm_certificate(env, served_endpoints, acm_inventory, evidence):
    """Each endpoint with an acm_certificate serves that very certificate (serial and expiry match ACM's): the
    runbook's "Verify new certificate is active" after a renewal."""
    wanted = [(ep, s) for ep, s in zip(env.certificates.endpoints, served_endpoints) if ep.acm_certificate]
    if not wanted:
        pytest.skip("no endpoint names an acm_certificate (certificates.endpoints)")
    everything = [c for certs in acm_inventory.values() for c in certs]
    rows, bad = [], []
    for ep, s in wanted:
        candidates = acm.resolve(everything, ep.acm_certificate)
        match = next((c for c in candidates if not s.error and tls.serial_matches(s.serial, c.serial)), None)
        rows.append({"endpoint": s.endpoint, "acm certificate": ep.acm_certificate, "served serial": s.serial,
                     "served not after": s.not_after, "acm": ", ".join(f"{c.label} serial {c.serial}"
                                                                      for c in candidates) or "none",
                     "match": match.label if match else ""})
        if s.error:
            bad.append(s.error)
        elif not candidates:
            bad.append(f"{s.endpoint}: ACM has no certificate {ep.acm_certificate}")
        elif match is None:
            bad.append(f"{s.endpoint} ({s.server_name}) serves serial {s.serial} (not after {s.not_after:%Y-%m-%d}), "
                       f"not ACM's {', '.join(c.label for c in candidates)}")
    evidence.table("served vs ACM", rows)
    assert not bad, "; ".join(bad)
