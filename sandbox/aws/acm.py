"""ACM certificates as production has them, and an ALB whose HTTPS listener is the sandbox's TLS endpoint.

What moto 5.2.5 does: imported certificates are ``IMPORTED`` (no domain validation, no renewal); a requested
certificate gets a throwaway key and turns ``ISSUED`` 60 s after the request, whatever its DNS says;
``RenewalEligibility`` is always ``INELIGIBLE``; ``InUseBy`` names the *listener* an ALB was created with and never
changes after ModifyListener (a swapped certificate stays "in use", the new one is not); ModifyListener with a new
default certificate drops the listener's extra SNI certificates.

What this overlay adds:

* The seeded certificates (imported, so the sandbox holds their keys and can serve them) are presented as
  production's are: ``AMAZON_ISSUED``, DNS-validated (SUCCESS), renewal ELIGIBLE while in use.
* RequestCertificate issues the new certificate from the sandbox's CA (so it can be served and verified) and
  keeps it ``PENDING_VALIDATION`` for ``validation_delay_s`` (the time "DNS validation" takes), then ``ISSUED``.
  Its leaf is written to ``<tls>/acm-<id>.pem``.
* ListCertificates without ``Includes.keyTypes`` lists RSA_1024 and RSA_2048 certificates only, as AWS does
  (botocore's model: "Default filtering returns only RSA_1024 and RSA_2048 certificates"; moto lists every key
  type). The seeded certificates are EC_prime256v1: a caller that does not ask for EC key types sees none.
* ``InUseBy`` follows the load balancers' listeners (the load balancer's ARN, as AWS reports it) after every
  listener change; ModifyListener keeps the extra certificates.
* The HTTPS listener configured below *is* the sandbox's TLS endpoint: when its default certificate changes, the
  endpoint serves that certificate's leaf (``tls_leaf`` in the web control file), as the ALB would.

Admin API:

    POST /_sandbox/acm/sandbox {"tls_dir": DIR (ca.pem and ca.key in it), "web_control": FILE,
                                "listener": ARN, "leaves": {ARN: LEAF}, "present": [ARN], "validation_delay_s": 2}
        Set-up (seed_security.py); survives /_sandbox/reset.
    POST /_sandbox/acm/certificate {"arn": ARN, "status": "PENDING_VALIDATION", "validation_status": ...,
                                    "renewal_status": "FAILED", "renewal_reason": "...", "issued_days_ago": 45,
                                    "clear": true}
        Faults: what DescribeCertificate/ListCertificates report for one certificate.
    POST /_sandbox/acm/material {"arn": ARN, "leaf": NAME}
        Replace ACM's copy of a certificate with <tls>/NAME.pem (even an expired one, which ImportCertificate
        refuses); its status follows the new dates.
"""

import io
import json
import time
from pathlib import Path

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, moto_backend, need

REGION = "us-east-1"
STATUSES = ("PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED")
RENEWAL_STATUSES = ("PENDING_AUTO_RENEWAL", "PENDING_VALIDATION", "SUCCESS", "FAILED")
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")
"""What ListCertificates lists when Includes.keyTypes is not given (AWS's default filter)."""
LISTENER_CHANGES = ("CreateListener", "ModifyListener", "DeleteListener", "AddListenerCertificates",
                    "RemoveListenerCertificates", "DeleteLoadBalancer")


class Acm(Overlay):
    name = "acm"

    def __init__(self):
        super().__init__()
        self.setup: dict = {"leaves": {}, "present": [], "validation_delay_s": 2.0}
        self.requested: dict[str, dict] = {}  # ARN -> {"leaf", "validate_after"}

    def initial_state(self) -> dict:
        return {"certificates": {}}  # ARN -> presentation overrides

    # ---- ACM -----------------------------------------------------------------------------------------------------
    @handles("acm", "DescribeCertificate")
    def describe_certificate(self, call: Call) -> Reply:
        self.settle(call.region)
        reply = call.forward()
        if reply.ok:
            data = reply.json()
            data["Certificate"] = self.present(data.get("Certificate", {}))
            reply.with_json(data)
        return reply

    @handles("acm", "ListCertificates")
    def list_certificates(self, call: Call) -> Reply:
        self.settle(call.region)
        wanted = call.json.get("CertificateStatuses") or []
        body = dict(call.json)
        body.pop("CertificateStatuses", None)  # filter after our statuses apply
        includes = dict(body.get("Includes") or {})
        if not includes.get("keyTypes"):
            body["Includes"] = {**includes, "keyTypes": list(DEFAULT_KEY_TYPES)}
        raw = json.dumps(body).encode()
        call.environ["wsgi.input"], call.environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        reply = call.forward()
        if reply.ok:
            data = reply.json()
            shown = [self.present(c, summary=True) for c in data.get("CertificateSummaryList", [])]
            data["CertificateSummaryList"] = [c for c in shown if not wanted or c.get("Status") in wanted]
            reply.with_json(data)
        return reply

    @handles("acm", "RequestCertificate")
    def request_certificate(self, call: Call) -> Reply:
        body = call.json  # read before moto consumes the request body
        reply = call.forward()
        if reply.ok and self.setup.get("tls_dir"):
            arn = reply.json()["CertificateArn"]
            with self.lock:
                if arn not in self.requested:  # an idempotent repeat returns the same ARN
                    domain = body.get("DomainName", "")
                    sans = [domain] + [s for s in body.get("SubjectAlternativeNames") or [] if s != domain]
                    leaf = f"acm-{arn.rsplit('/', 1)[-1][:12]}"
                    self.issue(leaf, sans)
                    self.set_material(arn, leaf, call.region, status="PENDING_VALIDATION")
                    self.requested[arn] = {"leaf": leaf, "validate_after": time.time()
                                           + float(self.setup.get("validation_delay_s", 2.0))}
                    self.setup["leaves"][arn] = leaf
        return reply

    # ---- ELBv2: InUseBy and the served certificate follow the listeners ---------------------------------------------
    @handles("elasticloadbalancing", *LISTENER_CHANGES)
    def listener_change(self, call: Call) -> Reply:
        form = call.form  # read before moto consumes the request body
        keep = []
        if call.action == "ModifyListener" and form.get("Certificates.member.1.CertificateArn"):
            listener = self._listener(form.get("ListenerArn", ""), call.region)
            keep = list(listener.certificates[1:]) if listener else []
        reply = call.forward()
        if reply.ok:
            with self.lock:
                if keep:
                    listener = self._listener(form.get("ListenerArn", ""), call.region)
                    if listener is not None:
                        listener.certificates = [listener.certificate] + [c for c in keep if c != listener.certificate]
                self.sync(call.region)
        return reply

    # ---- the model ---------------------------------------------------------------------------------------------------
    def settle(self, region: str) -> None:
        """Requested certificates whose 'DNS validation' time has come are ISSUED (unless a fault holds them)."""
        now = time.time()
        with self.lock:
            for arn, r in self.requested.items():
                if now >= r["validate_after"] and arn not in self.state["certificates"]:
                    bundle = moto_backend("acm", region)._certificates.get(arn)
                    if bundle is not None and bundle.status == "PENDING_VALIDATION":
                        bundle.status = "ISSUED"

    def present(self, cert: dict, summary: bool = False) -> dict:
        arn = cert.get("CertificateArn", "")
        with self.lock:
            o = dict(self.state["certificates"].get(arn, {}))
            requested = self.requested.get(arn)
        if requested and not o and cert.get("Status") == "ISSUED" and time.time() < requested["validate_after"]:
            o = {"status": "PENDING_VALIDATION"}
        if o.get("status"):
            cert["Status"] = o["status"]
        if o.get("issued_days_ago") is not None and not summary:
            at = time.time() - o["issued_days_ago"] * 86400
            cert["IssuedAt" if cert.get("Type") == "AMAZON_ISSUED" else "ImportedAt"] = at
        dv_status = o.get("validation_status") or (o.get("status") if o.get("status") in (
            "PENDING_VALIDATION", "VALIDATION_TIMED_OUT", "FAILED") else None)
        for opt in cert.get("DomainValidationOptions", []):
            if dv_status:
                opt["ValidationStatus"] = dv_status
            elif cert.get("Status") in ("ISSUED", "EXPIRED", "INACTIVE"):
                opt["ValidationStatus"] = "SUCCESS"
        in_use = cert.get("InUse") if summary else bool(cert.get("InUseBy"))
        if cert.get("Type") == "AMAZON_ISSUED":
            cert["RenewalEligibility"] = "ELIGIBLE" if in_use else "INELIGIBLE"
        if o.get("renewal_status") and not summary:
            cert["RenewalSummary"] = {
                "RenewalStatus": o["renewal_status"],
                "DomainValidationOptions": [{**opt, "ValidationStatus": o.get("validation_status", "PENDING_VALIDATION")
                                             if o["renewal_status"] != "SUCCESS" else "SUCCESS"}
                                            for opt in cert.get("DomainValidationOptions", [])],
                "UpdatedAt": time.time() - 3600,
                **({"RenewalStatusReason": o["renewal_reason"]} if o.get("renewal_reason") else {}),
            }
        return cert

    def sync(self, region: str = REGION) -> None:
        """InUseBy = the load balancers whose listeners carry the certificate (plus CloudFront's, kept); the
        configured listener's default certificate is what the TLS endpoint serves."""
        elb = moto_backend("elbv2", region)
        using: dict[str, set[str]] = {}
        for lb_arn, lb in elb.load_balancers.items():
            for listener in lb.listeners.values():
                for cert in listener.certificates or []:
                    using.setdefault(cert, set()).add(lb_arn)
        for arn, bundle in moto_backend("acm", region)._certificates.items():
            cloudfront = [u for u in bundle.in_use_by if ":cloudfront::" in u]
            bundle.in_use_by[:] = sorted(using.get(arn, ())) + cloudfront
        self.sync_endpoint(region)

    def sync_endpoint(self, region: str) -> None:
        listener_arn, control = self.setup.get("listener"), self.setup.get("web_control")
        if not listener_arn or not control:
            return
        listener = self._listener(listener_arn, region)
        if listener is None:
            return
        leaf = self.setup["leaves"].get(listener.certificate)
        if leaf is None:
            return  # a certificate the sandbox holds no key for: the endpoint keeps what it serves
        path = Path(control)
        try:
            web = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            web = {}
        default = self.setup.get("default_leaf", "api")
        if web.get("tls_leaf", default) == leaf:
            return
        if leaf == default:
            web.pop("tls_leaf", None)
        else:
            web["tls_leaf"] = leaf
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".acm.tmp")
        tmp.write_text(json.dumps(web))
        tmp.replace(path)

    @staticmethod
    def _listener(arn: str, region: str):
        for lb in moto_backend("elbv2", region).load_balancers.values():
            if arn in lb.listeners:
                return lb.listeners[arn]
        return None

    def issue(self, leaf: str, hosts: list[str]) -> None:
        import trustme

        from sandbox import tls

        folder = Path(self.setup["tls_dir"])
        ca = trustme.CA.from_pem((folder / "ca.pem").read_bytes(), (folder / "ca.key").read_bytes())
        tls.issue(ca, folder, leaf, hosts)

    def set_material(self, arn: str, leaf: str, region: str, status: str | None = None) -> dict:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.x509.oid import NameOID

        bundle = moto_backend("acm", region)._certificates.get(arn)
        if bundle is None:
            raise AdminError(f"no certificate {arn}", 404)
        tls_dir = Path(self.setup.get("tls_dir") or "")
        try:
            pem = (tls_dir / f"{leaf}.pem").read_bytes()
            key = (tls_dir / f"{leaf}.key").read_bytes()
        except OSError as e:
            raise AdminError(f"no leaf {leaf!r} in {tls_dir}: {e}", 404) from None
        end = b"-----END CERTIFICATE-----"
        cut = pem.index(end) + len(end)
        bundle.cert, bundle.key = pem[:cut] + b"\n", key
        bundle.chain = pem[cut:].lstrip()
        bundle._cert = x509.load_pem_x509_certificate(bundle.cert)
        bundle._key = serialization.load_pem_private_key(key, password=None)
        try:
            san = bundle._cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            bundle.sans = [str(v.value) for v in san]
        except x509.ExtensionNotFound:
            bundle.sans = []
        cn = bundle._cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        bundle.common_name = cn[0].value if cn else (bundle.sans[0] if bundle.sans else "")
        icn = bundle._cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        iorg = bundle._cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        bundle.issuer_common_name = str((icn or iorg)[0].value) if (icn or iorg) else ""
        bundle.status = status or "ISSUED"
        bundle.check()  # EXPIRED when its dates say so
        not_after = bundle._cert.not_valid_after_utc
        return {"arn": arn, "leaf": leaf, "status": bundle.status, "not_after": not_after.isoformat(),
                "serial": str(bundle._cert.serial_number)}

    # ---- admin -------------------------------------------------------------------------------------------------------
    @admin("acm/sandbox")
    def configure(self, payload: dict) -> dict:
        region = payload.get("region", REGION)
        backend = moto_backend("acm", region)
        with self.lock:
            for key in ("tls_dir", "web_control", "listener", "default_leaf"):
                if key in payload:
                    self.setup[key] = need(payload, key)
            if "validation_delay_s" in payload:
                self.setup["validation_delay_s"] = float(need(payload, "validation_delay_s", (int, float)))
            self.setup["leaves"].update(need(payload, "leaves", dict) if "leaves" in payload else {})
            for arn in payload.get("present", []):
                bundle = backend._certificates.get(arn)
                if bundle is None:
                    raise AdminError(f"no certificate {arn}", 404)
                bundle.type = "AMAZON_ISSUED"  # moto then reports DNS validation options and issue dates
                if arn not in self.setup["present"]:
                    self.setup["present"].append(arn)
            self.sync(region)
        return {"setup": dict(self.setup)}

    @admin("acm/certificate")
    def override(self, payload: dict) -> dict:
        arn = need(payload, "arn")
        region = payload.get("region", REGION)
        if arn not in moto_backend("acm", region)._certificates:
            raise AdminError(f"no certificate {arn}", 404)
        with self.lock:
            if payload.get("clear"):
                self.state["certificates"].pop(arn, None)
                return {"arn": arn, "override": None}
            o = dict(self.state["certificates"].get(arn, {}))
            for key, allowed in (("status", STATUSES), ("validation_status", STATUSES + ("SUCCESS",)),
                                 ("renewal_status", RENEWAL_STATUSES)):
                if key in payload:
                    if payload[key] not in allowed:
                        raise AdminError(f"{key} must be one of {', '.join(allowed)}")
                    o[key] = payload[key]
            if "renewal_reason" in payload:
                o["renewal_reason"] = need(payload, "renewal_reason")
            if "issued_days_ago" in payload:
                o["issued_days_ago"] = float(payload["issued_days_ago"])
            self.state["certificates"][arn] = o
            return {"arn": arn, "override": o}

    @admin("acm/material")
    def material(self, payload: dict) -> dict:
        with self.lock:
            return self.set_material(need(payload, "arn"), need(payload, "leaf"), payload.get("region", REGION))

    @admin("acm/validate")
    def validate(self, payload: dict) -> dict:
        """Finish 'DNS validation' of a requested certificate now."""
        arn = need(payload, "arn")
        with self.lock:
            if arn not in self.requested:
                raise AdminError(f"{arn} was not requested through the sandbox", 404)
            self.requested[arn]["validate_after"] = 0
        self.settle(payload.get("region", REGION))
        return {"arn": arn}
