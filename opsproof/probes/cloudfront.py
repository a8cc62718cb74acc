"""CloudFront distributions and the viewer certificate each serves (ListDistributions, GetDistribution).

    >>> d = distribution(aws("cloudfront"), alias="cdn.aifilmstudio.test")
    >>> d.acm_certificate, d.minimum_protocol
    ('arn:aws:acm:us-east-1:123456789012:certificate/9a0b…', 'TLSv1.2_2021')
"""

from dataclasses import dataclass

from ..connect import aws_call


@dataclass(frozen=True)
class Distribution:
    id: str
    aliases: tuple[str, ...]
    acm_certificate: str | None
    default_certificate: bool
    minimum_protocol: str
    ssl_support: str | None
    source: str | None


def distribution(cf, id: str | None = None, alias: str | None = None) -> Distribution | None:
    """A distribution by id, or the one serving an alias; None when there is none."""
    if id is None:
        pages = aws_call("cloudfront list-distributions", lambda: list(
            cf.get_paginator("list_distributions").paginate()))
        for page in pages:
            for d in page.get("DistributionList", {}).get("Items", []) or []:
                if alias in (d.get("Aliases", {}).get("Items") or []):
                    id = d["Id"]
                    break
        if id is None:
            return None
    try:
        d = aws_call(f"cloudfront get-distribution {id}", cf.get_distribution, Id=id)["Distribution"]
    except cf.exceptions.NoSuchDistribution:
        return None
    cfg = d["DistributionConfig"]
    vc = cfg.get("ViewerCertificate", {})
    return Distribution(id=d["Id"], aliases=tuple(cfg.get("Aliases", {}).get("Items") or []),
                        acm_certificate=vc.get("ACMCertificateArn"),
                        default_certificate=bool(vc.get("CloudFrontDefaultCertificate")),
                        minimum_protocol=vc.get("MinimumProtocolVersion", ""), ssl_support=vc.get("SSLSupportMethod"),
                        source=vc.get("CertificateSource"))
