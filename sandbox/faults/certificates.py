"""Faults of the certificates area: ACM, the ALB's and CloudFront's certificates, and what the TLS endpoint serves.

The TLS endpoint is the ALB's HTTPS listener (sandbox/aws/acm.py): a fault that swaps the listener's certificate
changes what the endpoint serves too, as on AWS. Faults of the served certificate alone (web) change the endpoint
without touching ACM: what a misrouted DNS name, a forgotten reverse proxy or an old server looks like.
"""

import datetime as dt

import trustme

from .. import tls
from ..aws import admin
from ..aws.seed import ALB_TLS_POLICY, API_CERT_DOMAIN, CDN_ALIAS, CLOUDFRONT_MIN_TLS
from . import fault

API_HOSTS = tls.LEAVES["api"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def certificate_arn(sb, domain: str) -> str:
    from ..aws.seed_security import certificate_arns

    return certificate_arns(sb)[domain]


def https_listener(sb) -> str:
    from ..aws.seed_security import https_listener_arn

    return https_listener_arn(sb)


def _serve(sb, leaf: str | None, acm_leaf: str | None = None) -> None:
    """Serve a leaf at the TLS endpoint (None: the healthy one) and, with acm_leaf, make ACM hold that leaf as the
    API certificate too (an expired or expiring certificate is expired or expiring everywhere)."""
    if acm_leaf:
        admin.post(sb.endpoint_url, "acm/material", {"arn": certificate_arn(sb, API_CERT_DOMAIN), "leaf": acm_leaf})
    sb.set_web_state(tls_leaf=leaf)


# ---- expiry --------------------------------------------------------------------------------------------------------
@fault("expired-certificate", area="certificates", part="web")
class ExpiredCertificate:
    """The API certificate expired yesterday: the TLS endpoint serves it and ACM reports it EXPIRED."""

    def apply(self, sb):
        now = _now()
        ca = tls.ensure(sb.tls_dir)
        tls.issue(ca, sb.tls_dir, "expired", API_HOSTS, not_before=now - dt.timedelta(days=366),
                  not_after=now - dt.timedelta(days=1))
        _serve(sb, "expired", acm_leaf="expired")

    def heal(self, sb):
        _serve(sb, None, acm_leaf="api")


@fault("expiring-certificate", area="certificates", part="web")
class ExpiringCertificate:
    """The API certificate expires in 12 days (renewal did not happen): served, and held by ACM."""

    DAYS = 12

    def apply(self, sb):
        now = _now()
        ca = tls.ensure(sb.tls_dir)
        tls.issue(ca, sb.tls_dir, "expiring", API_HOSTS, not_before=now - dt.timedelta(days=353),
                  not_after=now + dt.timedelta(days=self.DAYS))
        _serve(sb, "expiring", acm_leaf="expiring")

    def heal(self, sb):
        _serve(sb, None, acm_leaf="api")


# ---- ACM -----------------------------------------------------------------------------------------------------------
@fault("certificate-pending-validation", area="certificates", part="aws")
class CertificatePendingValidation:
    """The CDN certificate is PENDING_VALIDATION in ACM: its DNS validation record is missing."""

    def apply(self, sb):
        admin.post(sb.endpoint_url, "acm/certificate", {"arn": certificate_arn(sb, CDN_ALIAS),
                                                        "status": "PENDING_VALIDATION"})

    def heal(self, sb):
        admin.post(sb.endpoint_url, "acm/certificate", {"arn": certificate_arn(sb, CDN_ALIAS), "clear": True})


# ---- ALB -----------------------------------------------------------------------------------------------------------
@fault("wrong-listener-certificate", area="certificates", part="aws")
class WrongListenerCertificate:
    """The ALB's HTTPS listener serves the CDN certificate instead of the API's (and so does the endpoint)."""

    def apply(self, sb):
        sb.client("elbv2").modify_listener(ListenerArn=https_listener(sb), Certificates=[
            {"CertificateArn": certificate_arn(sb, CDN_ALIAS)}])

    def heal(self, sb):
        sb.client("elbv2").modify_listener(ListenerArn=https_listener(sb), Certificates=[
            {"CertificateArn": certificate_arn(sb, API_CERT_DOMAIN)}])


@fault("alb-weak-tls-policy", area="certificates", part="aws")
class AlbWeakTlsPolicy:
    """The ALB's HTTPS listener runs ELBSecurityPolicy-2016-08, which still enables TLS 1.0 and 1.1."""

    def apply(self, sb):
        sb.client("elbv2").modify_listener(ListenerArn=https_listener(sb), SslPolicy="ELBSecurityPolicy-2016-08")

    def heal(self, sb):
        sb.client("elbv2").modify_listener(ListenerArn=https_listener(sb), SslPolicy=ALB_TLS_POLICY)


# ---- CloudFront ----------------------------------------------------------------------------------------------------
def _distribution(sb):
    cf = sb.client("cloudfront")
    for d in cf.list_distributions()["DistributionList"].get("Items", []) or []:
        if CDN_ALIAS in (d.get("Aliases", {}).get("Items") or []):
            got = cf.get_distribution_config(Id=d["Id"])
            return cf, d["Id"], got["DistributionConfig"], got["ETag"]
    raise RuntimeError(f"no CloudFront distribution serves {CDN_ALIAS}")


@fault("cloudfront-default-certificate", area="certificates", part="aws")
class CloudfrontDefaultCertificate:
    """The CDN distribution uses CloudFront's default *.cloudfront.net certificate (TLSv1) instead of its ACM one."""

    def apply(self, sb):
        cf, dist_id, cfg, etag = _distribution(sb)
        cfg["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}
        cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)

    def heal(self, sb):
        cf, dist_id, cfg, etag = _distribution(sb)
        cfg["ViewerCertificate"] = {"ACMCertificateArn": certificate_arn(sb, CDN_ALIAS), "SSLSupportMethod": "sni-only",
                                    "MinimumProtocolVersion": CLOUDFRONT_MIN_TLS, "CloudFrontDefaultCertificate": False}
        cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=cfg)


# ---- the live endpoint ---------------------------------------------------------------------------------------------
@fault("endpoint-hostname-mismatch", area="certificates", part="web")
class EndpointHostnameMismatch:
    """The TLS endpoint serves a trusted, valid certificate for www.example.test, not for its own name."""

    def apply(self, sb):
        tls.issue(tls.ensure(sb.tls_dir), sb.tls_dir, "wrong-host", ["www.example.test"])
        _serve(sb, "wrong-host")

    def heal(self, sb):
        _serve(sb, None)


@fault("endpoint-untrusted-chain", area="certificates", part="web")
class EndpointUntrustedChain:
    """The TLS endpoint serves a certificate for its name issued by a CA nobody trusts (a self-made one)."""

    def apply(self, sb):
        rogue = trustme.CA(organization_name="untrusted rogue CA")
        tls.issue(rogue, sb.tls_dir, "untrusted", API_HOSTS)
        _serve(sb, "untrusted")

    def heal(self, sb):
        _serve(sb, None)


@fault("endpoint-old-tls", area="certificates", part="web")
class EndpointOldTls:
    """The TLS endpoint still accepts TLS 1.0 and 1.1 (an old server configuration)."""

    def apply(self, sb):
        sb.set_web_state(tls_max_version="TLSv1_1")

    def heal(self, sb):
        sb.set_web_state(tls_max_version=None)


@fault("served-certificate-not-acm", area="certificates", part="web")
class ServedCertificateNotAcm:
    """The TLS endpoint serves a valid certificate for its name that is not the one ACM holds (a renewal that never
    reached the load balancer, or a host that bypasses it)."""

    def apply(self, sb):
        tls.issue(tls.ensure(sb.tls_dir), sb.tls_dir, "unlisted", API_HOSTS)
        _serve(sb, "unlisted")

    def heal(self, sb):
        _serve(sb, None)


# ---- renewal clean-up ----------------------------------------------------------------------------------------------
@fault("old-certificate-kept", area="certificates", part="aws")
class OldCertificateKept:
    """The API certificate was renewed 45 days ago, but the certificate it replaced is still in ACM, unused: the
    runbook deletes it after 30 days."""

    def apply(self, sb):
        acm = sb.client("acm")
        old = acm.import_certificate(
            Certificate=tls.leaf_cert_pem(sb.tls_dir, "api"), PrivateKey=(sb.tls_dir / "api.key").read_bytes(),
            CertificateChain=tls.chain_pem(sb.tls_dir, "api"),
            Tags=[{"Key": "Name", "Value": "ai-film-studio-api-previous"}])["CertificateArn"]
        admin.post(sb.endpoint_url, "acm/certificate", {"arn": old, "issued_days_ago": 410})
        admin.post(sb.endpoint_url, "acm/certificate", {"arn": certificate_arn(sb, API_CERT_DOMAIN),
                                                        "issued_days_ago": 45})
        (sb.dir / "faults-old-certificate-kept.json").write_text(old)

    def heal(self, sb):
        note = sb.dir / "faults-old-certificate-kept.json"
        if note.exists():
            sb.client("acm").delete_certificate(CertificateArn=note.read_text())
            note.unlink()
        admin.post(sb.endpoint_url, "acm/certificate", {"arn": certificate_arn(sb, API_CERT_DOMAIN), "clear": True})
