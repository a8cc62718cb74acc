"""The [certificates] section: ACM certificates, the load balancers' and CloudFront's use of them, and the live TLS
endpoints, with the runbook's thresholds ("Certificate Management", "SSL/TLS Certificate Updates").

A certificate is named by its ARN or by its domain name (then: every ACM certificate for that domain that is in
use, or the newest ISSUED one when none is).
"""

from pathlib import Path

from pydantic import PositiveFloat, PositiveInt, field_validator, model_validator

from .base import Port, Section
from .target import AwsTarget

TLS_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
"""Protocol names as Python's ssl and OpenSSL report them, oldest first."""

CLOUDFRONT_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019",
                        "TLSv1.2_2021", "TLSv1.3_2025")
"""CloudFront's MinimumProtocolVersion values, weakest first (AWS: "Supported protocols and ciphers")."""


def _tls_version(v: str) -> str:
    if v not in TLS_VERSIONS:
        raise ValueError(f"must be one of {', '.join(TLS_VERSIONS)}")
    return v


class Endpoint(Section):
    """A live TLS endpoint: what a browser would connect to."""

    host: str
    port: Port = 443
    server_name: str | None = None
    """SNI and the name the certificate must match (defaults to host)."""
    acm_certificate: str | None = None
    """The ACM certificate (domain name or ARN) this endpoint must serve: runbook "verify new certificate is
    active". Leave out for endpoints not fronted by ACM."""

    @property
    def name(self) -> str:
        return self.server_name or self.host

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class AcmCertificate(Section):
    """One certificate ACM must hold in good health."""

    certificate: str
    """Its ARN, or its domain name (every in-use certificate for the domain; the newest ISSUED when none is)."""
    region: str | None = None
    """Default: [aws] region. CloudFront's certificates live in us-east-1."""
    in_use: bool = True
    """It must be attached to something (runbook: "Certificate is attached to load balancer")."""


class Listener(Section):
    """An ALB HTTPS listener and the certificates it must serve."""

    load_balancer: str
    """Name or ARN."""
    port: Port = 443
    certificate: str
    """The default certificate: domain name or ARN."""
    extra_certificates: list[str] = []
    """Further SNI certificates on the listener (domain names or ARNs); others found there are reported too."""


class Distribution(Section):
    """A CloudFront distribution and the ACM certificate its viewers must see."""

    id: str | None = None
    alias: str | None = None
    """Found by one of its alternate domain names when no id is given."""
    certificate: str
    """Domain name or ARN of the ACM certificate (in us-east-1)."""

    @model_validator(mode="after")
    def _one_of(self):
        if not (self.id or self.alias):
            raise ValueError("give id or alias")
        return self

    @property
    def label(self) -> str:
        return self.id or self.alias or "?"


class Renewal(Section):
    """The renew-certificate action (runbook: "Manual Certificate Renewal")."""

    validation_wait_s: PositiveFloat = 300
    """How long the action waits for DNS validation before it stops and says how to resume."""
    poll_s: PositiveFloat = 5
    old_certificate_retention_days: PositiveInt = 30
    """Runbook: "Delete old certificate after 30 days"."""


class Certificates(AwsTarget):
    endpoints: list[Endpoint] = []
    ca_file: Path | None = None
    """Verify served chains against this bundle instead of the system trust store (relative to the project)."""
    min_days_left: PositiveInt = 30
    """Fail when a certificate expires in fewer days than this (AWS Config uses 14; we warn earlier)."""
    critical_days_left: PositiveInt = 7
    """Below this the failure is labelled CRITICAL (Prowler's acm_certificates_expiration_check default)."""
    min_tls_version: str = "TLSv1.2"
    """Endpoints must negotiate at least this and refuse anything older."""
    concurrency: PositiveInt = 32
    """Endpoints probed at once."""
    acm: list[AcmCertificate] = []
    include_in_use: bool = True
    """Also judge every certificate ACM reports in use (in the regions of the configured ones and [aws] region)."""
    load_balancers: list[Listener] = []
    alb_allowed_protocols: list[str] = ["TLSv1.2", "TLSv1.3"]
    """A listener's SSL policy is acceptable when every protocol it enables is in this list."""
    alb_allowed_policies: list[str] = []
    """When not empty, a listener's SSL policy must also be one of these names."""
    cloudfront: list[Distribution] = []
    cloudfront_min_protocol: str = "TLSv1.2_2018"
    """A distribution's MinimumProtocolVersion must be this or stronger (any TLSv1.2_* by default)."""
    renewal: Renewal = Renewal()

    @field_validator("min_tls_version")
    @classmethod
    def _min_tls(cls, v):
        return _tls_version(v)

    @field_validator("alb_allowed_protocols")
    @classmethod
    def _protocols(cls, v):
        for p in v:
            _tls_version(p)
        return v

    @field_validator("cloudfront_min_protocol")
    @classmethod
    def _cf(cls, v):
        if v not in CLOUDFRONT_PROTOCOLS:
            raise ValueError(f"must be one of {', '.join(CLOUDFRONT_PROTOCOLS)}")
        return v

    @model_validator(mode="after")
    def _tiers(self):
        if self.critical_days_left > self.min_days_left:
            raise ValueError(f"critical_days_left ({self.critical_days_left}) must not exceed min_days_left "
                             f"({self.min_days_left})")
        return self

    def severity(self, days_left: float) -> str:
        """CRITICAL below critical_days_left, WARNING below min_days_left, else OK."""
        if days_left < self.critical_days_left:
            return "CRITICAL"
        return "WARNING" if days_left < self.min_days_left else "OK"


__all__ = ["AcmCertificate", "CLOUDFRONT_PROTOCOLS", "Certificates", "Distribution", "Endpoint", "Listener",
           "Renewal", "TLS_VERSIONS"]
