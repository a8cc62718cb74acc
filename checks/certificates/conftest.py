"""What the certificates checks share, measured once per run: the live endpoints (probed concurrently) and ACM's
certificates in the configured regions (described once). Read-only."""

import pytest

from opsproof.probes import acm, tls


@pytest.fixture(scope="session")
def served_endpoints(env) -> list[tls.Served]:
    """Every configured endpoint, probed at once: chain, name, protocols, dates (an endpoint that does not answer
    is in the list with its error)."""
    c = env.certificates
    ca = env.path(c.ca_file) if c.ca_file else None
    return tls.probe_many(c.endpoints, ca, env.timeouts.connect_s, concurrency=c.concurrency,
                          min_version=c.min_tls_version)


@pytest.fixture(scope="session")
def acm_inventory(env, aws) -> dict[str, list[acm.Certificate]]:
    """{region: every ACM certificate there, described}: the [aws] region and each configured entry's."""
    regions = {env.aws_target("certificates").region} | {a.region for a in env.certificates.acm if a.region}
    return {r: acm.certificates(aws("acm", "certificates", r)) for r in sorted(regions)}


@pytest.fixture(scope="session")
def judged_certificates(env, acm_inventory) -> tuple[list[tuple[acm.Certificate, object]], list[str]]:
    """([(certificate, its configuration entry or None)], configured certificates ACM does not have): the
    configured ones, plus every one in use when certificates.include_in_use."""
    seen: dict[str, tuple[acm.Certificate, object]] = {}
    missing = []
    for entry in env.certificates.acm:
        region = entry.region or env.aws_target("certificates").region
        found = acm.resolve(acm_inventory.get(region, []), entry.certificate)
        if not found:
            missing.append(f"{entry.certificate} ({region})")
        for cert in found:
            seen[cert.arn] = (cert, entry)
    if env.certificates.include_in_use:
        for certs in acm_inventory.values():
            for cert in certs:
                if cert.in_use and cert.arn not in seen:
                    seen[cert.arn] = (cert, None)
    return list(seen.values()), missing

