"""ACM certificates (describe calls only); where the load balancers and CloudFront use them is read by
opsproof/probes/elbv2.py and cloudfront.py.

    >>> certs = certificates(aws("acm"))                       # every certificate, described
    >>> [c.label for c in resolve(certs, "api.aifilmstudio.test")]
    ['api.aifilmstudio.test (certificate/5c1f…)']

Prowler judges only expiry and only certificates in use; InSpec has no ACM resource. Here a certificate has its
status, its domain validation, its renewal, its use, and its serial (to compare with what is actually served).
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..connect import aws_call

KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
"""ListCertificates returns RSA_2048 certificates only unless asked for every key type."""


@dataclass(frozen=True)
class Validation:
    domain: str
    status: str
    method: str
    record: str
    """The DNS record to create, as 'NAME CNAME VALUE' (empty for e-mail validation)."""


@dataclass(frozen=True)
class Certificate:
    arn: str
    domain: str
    names: tuple[str, ...]
    status: str
    type: str
    not_after: dt.datetime | None
    days_left: float | None
    serial: str
    in_use_by: tuple[str, ...]
    validations: tuple[Validation, ...]
    renewal_eligibility: str
    renewal_status: str | None
    renewal_reason: str | None
    issued: dt.datetime | None
    region: str
    key_algorithm: str = ""
    """RSA_2048, EC_prime256v1, ...: ListCertificates hides all but RSA_1024/RSA_2048 unless asked (KEY_TYPES)."""

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        """How a report names it: domain and a short id (enough to find it in the console)."""
        return f"{self.domain} (certificate/{self.id[:8]})"

    @property
    def in_use(self) -> bool:
        return bool(self.in_use_by)


def certificates(acm, now: dt.datetime | None = None, workers: int = 8) -> list[Certificate]:
    """Every certificate in the client's region, described (a few at a time: ACM's describe rate is 10/s)."""
    region = acm.meta.region_name
    arns = []
    for page in aws_call(f"acm list-certificates ({region})", _pages, acm):
        arns += [c["CertificateArn"] for c in page.get("CertificateSummaryList", [])]
    if not arns:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(arns))) as pool:
        return list(pool.map(lambda a: describe(acm, a, now), arns))


def _pages(acm):
    return list(acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": KEY_TYPES}))


def describe(acm, arn: str, now: dt.datetime | None = None) -> Certificate:
    c = aws_call(f"acm describe-certificate {arn}", acm.describe_certificate, CertificateArn=arn)["Certificate"]
    now = now or dt.datetime.now(dt.timezone.utc)
    not_after = c.get("NotAfter")
    renewal = c.get("RenewalSummary") or {}
    validations = []
    for v in c.get("DomainValidationOptions", []):
        rr = v.get("ResourceRecord") or {}
        record = f"{rr.get('Name', '')} {rr.get('Type', '')} {rr.get('Value', '')}" if rr else ""
        validations.append(Validation(v.get("DomainName", ""), v.get("ValidationStatus", ""),
                                      v.get("ValidationMethod", ""), record))
    return Certificate(
        arn=arn, domain=c.get("DomainName", ""), names=tuple(c.get("SubjectAlternativeNames", [])),
        status=c.get("Status", "?"), type=c.get("Type", "?"), not_after=not_after,
        days_left=round((not_after - now).total_seconds() / 86400, 1) if not_after else None,
        serial=c.get("Serial", ""), in_use_by=tuple(c.get("InUseBy", [])), validations=tuple(validations),
        renewal_eligibility=c.get("RenewalEligibility", ""), renewal_status=renewal.get("RenewalStatus"),
        renewal_reason=renewal.get("RenewalStatusReason"), issued=c.get("IssuedAt") or c.get("ImportedAt"),
        region=acm.meta.region_name, key_algorithm=c.get("KeyAlgorithm", ""))


def resolve(certs: list[Certificate], ref: str) -> list[Certificate]:
    """The certificates a configuration entry names: by ARN exactly; by domain, every one for that domain that is
    in use, else the newest ISSUED one, else the newest of any status (so a pending or failed one is judged)."""
    if ref.startswith("arn:"):
        return [c for c in certs if c.arn == ref]
    mine = [c for c in certs if c.domain.lower() == ref.lower()]
    in_use = [c for c in mine if c.in_use]
    if in_use:
        return in_use
    issued = sorted((c for c in mine if c.status == "ISSUED"), key=_newest, reverse=True)
    if issued:
        return issued[:1]
    return sorted(mine, key=_newest, reverse=True)[:1]


def refers_to(cert_arn: str, ref: str, certs: list[Certificate]) -> bool:
    """Whether an ARN in use (a listener's, a distribution's) is the certificate a configuration entry means."""
    if ref.startswith("arn:"):
        return cert_arn == ref
    found = next((c for c in certs if c.arn == cert_arn), None)
    return found is not None and found.domain.lower() == ref.lower()


def _newest(c: Certificate):
    return c.not_after or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
