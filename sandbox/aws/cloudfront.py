"""CloudFront viewer certificates as AWS reports them, and ACM certificates in use by CloudFront.

What moto 5.2.5 does: a distribution given an ACM certificate still reports ``CloudFrontDefaultCertificate: true``
and ``CertificateSource: cloudfront``; ACM's DescribeCertificate lists ELBv2 listeners in InUseBy but never a
CloudFront distribution (so "only check certificates in use" misses the CDN's).

What this overlay adds: after every CloudFront write (create/update/delete distribution) the distributions' viewer
certificates are normalised (ACM ARN set: default certificate false, source ``acm``, Certificate = the ARN) and each
ACM certificate's InUseBy lists the distributions that use it. No admin routes.
"""

from .overlay import Call, Overlay, Reply, handles, moto_backend

ACM_REGION = "us-east-1"  # CloudFront takes certificates from us-east-1 only


class CloudFront(Overlay):
    name = "cloudfront"

    @handles("cloudfront", "*")
    def any_call(self, call: Call) -> Reply:
        reply = call.forward()
        if reply.ok and call.method in ("POST", "PUT", "DELETE"):
            with self.lock:
                sync()
        return reply


def sync() -> None:
    distributions = moto_backend("cloudfront", "aws").distributions.values()
    using: dict[str, list[str]] = {}
    for dist in distributions:
        vc = dist.distribution_config.ViewerCertificate
        if vc.acm_certificate_arn:
            vc.cloud_front_default_certificate = False
            vc.certificate_source = "acm"
            vc.certificate = vc.acm_certificate_arn
            using.setdefault(vc.acm_certificate_arn, []).append(dist.arn)
        elif vc.iam_certificate_id:
            vc.cloud_front_default_certificate = False
            vc.certificate_source = "iam"
            vc.certificate = vc.iam_certificate_id
    for arn, bundle in moto_backend("acm", ACM_REGION)._certificates.items():
        others = [u for u in bundle.in_use_by if ":cloudfront::" not in u]
        bundle.in_use_by[:] = others + using.get(arn, [])
