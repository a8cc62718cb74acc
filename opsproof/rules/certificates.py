"""The runbook's "Certificate Management" and "SSL/TLS Certificate Updates" as rules over ACM's certificates
(opsproof/probes/acm.py), the load balancers' listeners (elbv2.py), CloudFront's distributions (cloudfront.py) and
what the live endpoints serve (tls.py), with the [certificates] section's limits."""

import datetime as dt

from ..config.certificates import CLOUDFRONT_PROTOCOLS, AcmCertificate, Certificates
from ..config.certificates import Distribution as CloudFrontEntry
from ..config.certificates import Endpoint
from ..config.certificates import Listener as ListenerEntry
from ..findings import ERROR, SKIP, Finding, alarm, ok
from ..probes import acm, tls
from ..probes.acm import Certificate
from ..probes.cloudfront import Distribution
from ..probes.elbv2 import Listener

RENEW = "python -m actions renew-certificate --domain {domain}"
Judged = list[tuple[Certificate, AcmCertificate | None]]
"""The certificates judged: each with its configuration entry, or None for one judged because it is in use."""


def _renew(domain: str) -> str:
    return RENEW.format(domain=domain)


# ---- ACM --------------------------------------------------------------------------------------------------------------
def issued(judged: Judged, missing: list[str]) -> list[Finding]:
    """Every judged certificate is ISSUED; every configured one exists (``missing``: 'REF (REGION)')."""
    found = [ok(c.label, "ISSUED", measured=c.status, limit="ISSUED") if c.status == "ISSUED" else
             alarm(c.label, f"is {c.status}, not ISSUED", measured=c.status, limit="ISSUED", fix=_renew(c.domain))
             for c, _ in judged]
    return found + [alarm(m, "ACM has no such certificate", key="certificates.acm") for m in missing]


def expiry(subject: str, days_left: float | None, not_after, c: Certificates, fix: str | None = None) -> Finding:
    """The expiry tiers: CRITICAL below critical_days_left, WARNING below min_days_left, else ok; no date (a
    certificate not issued yet) is not judged here."""
    if days_left is None:
        return Finding(SKIP, subject, "no expiry date (not issued)")
    tier = c.severity(days_left)
    if tier == "OK":
        return ok(subject, f"{days_left:g} days left", measured=days_left, limit=c.min_days_left,
                  key="certificates.min_days_left")
    limit, key = ((c.critical_days_left, "certificates.critical_days_left") if tier == "CRITICAL"
                  else (c.min_days_left, "certificates.min_days_left"))
    return alarm(subject, f"{tier}: expires in {days_left:g} days ({not_after:%Y-%m-%d}), under {limit}",
                 measured=days_left, limit=limit, key=key, fix=fix)


def not_expiring(judged: Judged, c: Certificates) -> list[Finding]:
    """Each judged ACM certificate's expiry tier, the soonest first."""
    order = sorted(judged, key=lambda j: j[0].days_left if j[0].days_left is not None else float("inf"))
    return [expiry(cert.label, cert.days_left, cert.not_after, c, _renew(cert.domain)) for cert, _ in order]


def validated(judged: Judged) -> list[Finding]:
    """Every domain validation SUCCESS; a managed renewal neither FAILED nor PENDING_VALIDATION."""
    found = []
    for c, _ in judged:
        wrong = [alarm(c.label, f"{v.domain} validation {v.status}" + (
            f" (DNS record {v.record} must exist)" if v.record else ""), measured=v.status, limit="SUCCESS",
            fix="create the validation record (runbook: Manual Certificate Renewal)" if v.record else None)
            for v in c.validations if v.status != "SUCCESS"]
        if c.renewal_status in ("FAILED", "PENDING_VALIDATION"):
            wrong.append(alarm(c.label, f"managed renewal {c.renewal_status}" + (
                f" ({c.renewal_reason})" if c.renewal_reason else ""), measured=c.renewal_status,
                fix=_renew(c.domain)))
        found += wrong or [ok(c.label, "domain validation SUCCESS" if c.validations else "no domain validation")]
    return found


def in_use(judged: Judged) -> list[Finding]:
    """A configured certificate with in_use = true is attached to something."""
    found = []
    for c, entry in judged:
        if entry is not None and entry.in_use and not c.in_use:
            found.append(alarm(c.label, "is attached to nothing", measured=0, key="certificates.acm",
                               fix="attach it to its listener or distribution (runbook: Certificate is attached "
                                   "to load balancer)"))
        else:
            found.append(ok(c.label, f"in use by {len(c.in_use_by)}" if c.in_use else "not required in use",
                            measured=len(c.in_use_by)))
    return found


# ---- load balancers ---------------------------------------------------------------------------------------------------
def _short(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1][:8] if arn else "none"


def listener_certificates(listeners: list[tuple[ListenerEntry, Listener | None]],
                          certs: list[Certificate]) -> list[Finding]:
    """Each configured listener exists, its default certificate is the configured one and it carries every
    expected SNI certificate."""
    by_arn = {c.arn: c for c in certs}
    found = []
    for entry, l in listeners:
        where = f"{entry.load_balancer}:{entry.port}"
        if l is None:
            found.append(alarm(where, f"no listener on port {entry.port}", key="certificates.load_balancers"))
            continue
        wrong = []
        if not l.default_certificate or not acm.refers_to(l.default_certificate, entry.certificate, certs):
            default = by_arn.get(l.default_certificate or "")
            wrong.append(alarm(where, f"serves {default.label if default else _short(l.default_certificate)}, not "
                               f"{entry.certificate}", measured=l.default_certificate, limit=entry.certificate,
                               key="certificates.load_balancers", fix=_renew(entry.certificate)))
        for want in entry.extra_certificates:
            if not any(acm.refers_to(a, want, certs) for a in l.extra_certificates + (l.default_certificate,)):
                wrong.append(alarm(where, f"lacks SNI certificate {want}", limit=want,
                                   key="certificates.load_balancers",
                                   fix=f"aws elbv2 add-listener-certificates --listener-arn {l.arn}"))
        found += wrong or [ok(where, f"serves {entry.certificate}", limit=entry.certificate)]
    return found


def listener_policies(listeners: list[tuple[ListenerEntry, Listener | None]], c: Certificates) -> list[Finding]:
    """Each listener's SSL policy is known to ELB, enables only alb_allowed_protocols, and is one of
    alb_allowed_policies when that is set. A missing listener is listener_certificates' to report."""
    allowed = set(c.alb_allowed_protocols)
    found = []
    for entry, l in listeners:
        where = f"{entry.load_balancer}:{entry.port}"
        if l is None:
            found.append(Finding(SKIP, where, "no listener (see the listener certificates)"))
            continue
        wrong = []
        extra = sorted(set(l.policy_protocols) - allowed)
        if not l.policy_protocols:
            wrong.append(alarm(where, f"SSL policy {l.ssl_policy} unknown to ELB", measured=l.ssl_policy))
        elif extra:
            wrong.append(alarm(where, f"{l.ssl_policy} enables {', '.join(extra)}", measured=list(l.policy_protocols),
                               limit=sorted(allowed), key="certificates.alb_allowed_protocols",
                               fix=f"aws elbv2 modify-listener --listener-arn {l.arn} --ssl-policy "
                                   "ELBSecurityPolicy-TLS13-1-2-2021-06"))
        if c.alb_allowed_policies and l.ssl_policy not in c.alb_allowed_policies:
            wrong.append(alarm(where, f"{l.ssl_policy} is not an allowed policy", measured=l.ssl_policy,
                               limit=c.alb_allowed_policies, key="certificates.alb_allowed_policies"))
        found += wrong or [ok(where, f"{l.ssl_policy}: {', '.join(l.policy_protocols)}", measured=l.ssl_policy)]
    return found


# ---- CloudFront -------------------------------------------------------------------------------------------------------
def _protocol_rank(name: str | None) -> int:
    return CLOUDFRONT_PROTOCOLS.index(name) if name in CLOUDFRONT_PROTOCOLS else -1


def cloudfront(distributions: list[tuple[CloudFrontEntry, Distribution | None]], certs: list[Certificate],
               c: Certificates) -> list[Finding]:
    """Each configured distribution exists, serves its ACM certificate (not CloudFront's default one, not
    another) and has a minimum protocol of cloudfront_min_protocol or stronger (an unknown one is weaker)."""
    by_arn = {x.arn: x for x in certs}
    floor = _protocol_rank(c.cloudfront_min_protocol)
    found = []
    for entry, d in distributions:
        if d is None:
            found.append(alarm(f"distribution {entry.label}", "no such CloudFront distribution",
                               key="certificates.cloudfront"))
            continue
        where = f"distribution {d.id} ({', '.join(d.aliases) or 'no alias'})"
        wrong = []
        if d.default_certificate or not d.acm_certificate:
            wrong.append(alarm(where, f"uses CloudFront's default certificate, not {entry.certificate}",
                               limit=entry.certificate, key="certificates.cloudfront",
                               fix=f"aws cloudfront update-distribution --id {d.id} (ViewerCertificate)"))
        elif not acm.refers_to(d.acm_certificate, entry.certificate, certs):
            cert = by_arn.get(d.acm_certificate)
            wrong.append(alarm(where, f"uses {cert.label if cert else d.acm_certificate}, not {entry.certificate}",
                               measured=d.acm_certificate, limit=entry.certificate, key="certificates.cloudfront"))
        if _protocol_rank(d.minimum_protocol) < floor:
            wrong.append(alarm(where, f"allows {d.minimum_protocol or 'an unknown minimum protocol'}, weaker than "
                               f"{c.cloudfront_min_protocol}", measured=d.minimum_protocol,
                               limit=c.cloudfront_min_protocol, key="certificates.cloudfront_min_protocol"))
        found += wrong or [ok(where, f"{entry.certificate}, minimum {d.minimum_protocol}")]
    return found


# ---- what the endpoints serve -----------------------------------------------------------------------------------------
def _where(s: tls.Served) -> str:
    return f"{s.endpoint} ({s.server_name})"


def _dead(s: tls.Served) -> Finding:
    return Finding(ERROR, _where(s), s.error, key="certificates.endpoints")


def served_not_expiring(served: list[tls.Served], c: Certificates) -> list[Finding]:
    """Each endpoint's certificate is in the ok tier (see expiry); an endpoint that does not answer fails."""
    return [_dead(s) if s.error else expiry(_where(s), s.days_left, s.not_after, c) for s in served]


def trusted_chain(served: list[tls.Served], c: Certificates) -> list[Finding]:
    store = str(c.ca_file or "the system trust store")
    return [_dead(s) if s.error else ok(_where(s), f"issued by {s.issuer}") if s.chain_trusted else
            alarm(_where(s), f"{s.chain_error}, issuer {s.issuer} (verified against {store})", measured=s.issuer,
                  key="certificates.ca_file") for s in served]


def names_match(served: list[tls.Served]) -> list[Finding]:
    return [_dead(s) if s.error else ok(_where(s), "the certificate covers the name") if s.hostname_ok else
            alarm(_where(s), f"serves a certificate for {', '.join(s.names) or s.subject}", measured=list(s.names),
                  limit=s.server_name) for s in served]


def protocols(served: list[tls.Served], c: Certificates) -> list[Finding]:
    """Each endpoint negotiates min_tls_version or newer, and refuses anything older."""
    floor, found = c.min_tls_version, []
    for s in served:
        if s.error:
            found.append(_dead(s))
        elif not tls.at_least(s.protocol, floor):
            found.append(alarm(_where(s), f"negotiates {s.protocol}, older than {floor}", measured=s.protocol,
                               limit=floor, key="certificates.min_tls_version"))
        elif s.old_protocol:
            found.append(alarm(_where(s), f"still accepts {s.old_protocol}, older than {floor}",
                               measured=s.old_protocol, limit=floor, key="certificates.min_tls_version"))
        else:
            found.append(ok(_where(s), f"negotiates {s.protocol}", measured=s.protocol, limit=floor))
    return found


def serves_acm_certificate(wanted: list[tuple[Endpoint, tls.Served]], certs: list[Certificate]) -> list[Finding]:
    """Each endpoint with an acm_certificate serves that very certificate: its serial is one of the ACM
    certificates the entry names (every region's ``certs``)."""
    found = []
    for ep, s in wanted:
        candidates = acm.resolve(certs, ep.acm_certificate)
        if s.error:
            found.append(_dead(s))
        elif not candidates:
            found.append(alarm(_where(s), f"ACM has no certificate {ep.acm_certificate}",
                               key="certificates.endpoints"))
        elif match := next((c for c in candidates if tls.serial_matches(s.serial, c.serial)), None):
            found.append(ok(_where(s), f"serves {match.label}", measured=s.serial, limit=match.serial))
        else:
            found.append(alarm(_where(s), f"serves serial {s.serial} (not after {s.not_after:%Y-%m-%d}), not ACM's "
                               f"{', '.join(c.label for c in candidates)}", measured=s.serial,
                               limit=[c.serial for c in candidates],
                               fix="attach the renewed certificate (python -m actions renew-certificate "
                                   "--new-certificate-arn ARN --apply)"))
    return found


# ---- renewal clean-up ---------------------------------------------------------------------------------------------
def old_certificates_deleted(certs: list[Certificate], c: Certificates, now: dt.datetime) -> list[Finding]:
    """Runbook: "Delete old certificate after 30 days". A certificate nothing uses, for a domain an ISSUED certificate
    issued after it now serves, was replaced then; it must be gone old_certificate_retention_days after that."""
    keep = c.renewal.old_certificate_retention_days
    key = "certificates.renewal.old_certificate_retention_days"
    found = []
    for old in (x for x in certs if not x.in_use and x.issued):
        newer = [n for n in certs if n.in_use and n.status == "ISSUED" and n.issued and n.issued > old.issued
                 and n.region == old.region and old.domain.lower() in {d.lower() for d in (n.domain, *n.names)}]
        if not newer:
            continue
        by = min(newer, key=lambda n: n.issued)
        days = round((now - by.issued).total_seconds() / 86400, 1)
        if days > keep:
            found.append(alarm(old.label, f"replaced {days:g} days ago by {by.label} and still in ACM, unused (delete "
                               f"it after {keep} days)", measured=days, limit=keep, key=key,
                               fix=f"aws acm delete-certificate --certificate-arn {old.arn}"))
        else:
            found.append(ok(old.label, f"replaced {days:g} days ago by {by.label}: delete it after "
                            f"{(by.issued + dt.timedelta(days=keep)):%Y-%m-%d}", measured=days, limit=keep, key=key))
    return found
