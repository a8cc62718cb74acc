"""The runbook's "Manual Certificate Renewal (if needed)":

    1. Request new certificate in ACM
    2. Complete domain validation (DNS or email)
    3. Update load balancer listener
    4. Verify new certificate is active
    5. Delete old certificate after 30 days

    python -m actions renew-certificate --domain api.aifilmstudio.com            # the plan
    python -m actions renew-certificate --domain api.aifilmstudio.com --apply    # request, then wait for DNS
    python -m actions renew-certificate --new-certificate-arn ARN --apply        # resume once DNS has validated

The action requests a DNS-validated certificate with the old one's names, prints the CNAME records to create, and
waits (certificates.renewal.validation_wait_s) for ACM to issue it; if DNS is not there yet it stops and says how to
resume. Once issued, every ALB listener that serves the old certificate (as default or SNI certificate) is switched
to the new one, the listeners are read back, and each configured endpoint for the domain must serve the new
certificate's serial. The old certificate is listed for deletion after certificates.renewal.old_certificate_
retention_days (never deleted here: a rollback needs it). A distribution on CloudFront using it is named, not changed.
"""

import datetime as dt
import time
import types
import uuid

from opsproof import connect
from opsproof.errors import ConfigError
from opsproof.probes import acm, elbv2, tls

from . import StepFailed, action, param


@action("renew-certificate", help="Request a new ACM certificate, show its DNS validation records, swap the load "
        "balancer listeners to it once issued, verify it is served (runbook: Manual Certificate Renewal)", params=[
            param("--domain", default=None, help="the certificate's domain (default: the first "
                  "certificates.load_balancers entry's certificate)"),
            param("--certificate-arn", default=None, help="the certificate to replace (default: the one in use for "
                  "--domain)"),
            param("--new-certificate-arn", default=None, help="resume with a certificate requested earlier"),
            param("--wait", type=float, default=None, metavar="SECONDS",
                  help="wait this long for DNS validation (default: certificates.renewal.validation_wait_s)")])
def renew_certificate(ctx, domain=None, certificate_arn=None, new_certificate_arn=None, wait=None):
    env, cfg = ctx.env, ctx.env.certificates
    r = cfg.renewal
    wait = r.validation_wait_s if wait is None else wait
    client, elb = ctx.aws("acm", "certificates"), ctx.aws("elbv2", "certificates")

    def find_old():
        certs = acm.certificates(client)
        if certificate_arn:
            found = [c for c in certs if c.arn == certificate_arn]
        else:
            name = domain or (cfg.load_balancers[0].certificate if cfg.load_balancers else None)
            if not name:
                raise ConfigError("give --domain or --certificate-arn (or configure certificates.load_balancers)")
            found = [c for c in acm.resolve(certs, name) if not new_certificate_arn or c.arn != new_certificate_arn]
        if not found:
            raise StepFailed(f"ACM has no certificate {certificate_arn or domain} in {env.aws_target('certificates').region}")
        old = found[0]
        uses = _listeners_using(elb, old)
        others = [u for u in old.in_use_by if ":loadbalancer/" not in u]
        return types.SimpleNamespace(cert=old, listeners=uses, others=others)

    old = ctx.step("find the certificate to replace and the listeners serving it", find_old, always=True)
    c = old.cert
    names = [n for n in (c.names or (c.domain,)) if not _is_ip(n)]
    ctx.evidence.table("certificate to replace", [{"certificate": c.label, "arn": c.arn, "names": ", ".join(names),
                                                   "status": c.status, "days left": c.days_left,
                                                   "in use by": ", ".join(c.in_use_by) or "-"}])
    where = ", ".join(f"{l.load_balancer}:{l.port} ({'default' if l.default_certificate == c.arn else 'SNI'})"
                      for l in old.listeners) or "no listener"
    s = types.SimpleNamespace(arn=new_certificate_arn, cert=None)

    def request():
        token = "renew" + uuid.uuid4().hex[:24]  # a run requests once; resuming names the ARN it printed
        s.arn = connect.aws_call(f"acm request-certificate {c.domain}", client.request_certificate,
                                 DomainName=c.domain, SubjectAlternativeNames=names, ValidationMethod="DNS",
                                 IdempotencyToken=token, Tags=[{"Key": "opsproof:replaces", "Value": c.arn}]
                                 )["CertificateArn"]
        return s.arn

    def records():
        deadline = time.monotonic() + 30
        while True:
            new = acm.describe(client, s.arn)
            recs = [v for v in new.validations if v.record]
            if recs or time.monotonic() > deadline:
                break
            time.sleep(1)
        ctx.evidence.table("DNS validation records to create", [
            {"domain": v.domain, "record": v.record, "status": v.status} for v in new.validations])
        return "; ".join(f"{v.domain}: {v.record} ({v.status})" for v in new.validations) or "none shown yet"

    def issued():
        deadline = time.monotonic() + wait
        while True:
            s.cert = acm.describe(client, s.arn)
            if s.cert.status == "ISSUED":
                return f"{s.cert.label} ISSUED, serial {s.cert.serial}, not after {s.cert.not_after:%Y-%m-%d}"
            if s.cert.status not in ("PENDING_VALIDATION",) or time.monotonic() >= deadline:
                raise StepFailed(f"{s.cert.label} is {s.cert.status} after {wait:g}s: create the DNS records above, "
                                 f"then resume: python -m actions renew-certificate --new-certificate-arn {s.arn} "
                                 "--apply")
            time.sleep(min(r.poll_s, max(deadline - time.monotonic(), 0.05)))

    def swap():
        done = []
        for l in old.listeners:
            if l.default_certificate == c.arn:
                connect.aws_call(f"elbv2 modify-listener {l.load_balancer}:{l.port}", elb.modify_listener,
                                 ListenerArn=l.arn, Certificates=[{"CertificateArn": s.arn}])
                done.append(f"{l.load_balancer}:{l.port} default")
            if c.arn in l.extra_certificates:
                connect.aws_call(f"elbv2 add-listener-certificates {l.load_balancer}:{l.port}",
                                 elb.add_listener_certificates, ListenerArn=l.arn,
                                 Certificates=[{"CertificateArn": s.arn}])
                connect.aws_call(f"elbv2 remove-listener-certificates {l.load_balancer}:{l.port}",
                                 elb.remove_listener_certificates, ListenerArn=l.arn,
                                 Certificates=[{"CertificateArn": c.arn}])
                done.append(f"{l.load_balancer}:{l.port} SNI")
        return ", ".join(done) or "no listener served the old certificate"

    def verify():
        problems, rows = [], []
        for l in old.listeners:
            now = [x for x in elbv2.listeners(elb, l.load_balancer) if x.arn == l.arn]
            serving = set(now[0].extra_certificates + (now[0].default_certificate,)) if now else set()
            rows.append({"listener": f"{l.load_balancer}:{l.port}", "serves new": s.arn in serving,
                         "still serves old": c.arn in serving})
            if s.arn not in serving or c.arn in serving:
                problems.append(f"listener {l.load_balancer}:{l.port} does not serve the new certificate alone")
        endpoints = [ep for ep in cfg.endpoints if ep.acm_certificate and ep.acm_certificate in (c.domain, c.arn)]
        ca = env.path(cfg.ca_file) if cfg.ca_file else None
        deadline = time.monotonic() + 30  # a load balancer takes a moment to pick the new certificate up
        while True:
            served = tls.probe_many(endpoints, ca, env.timeouts.connect_s, min_version=cfg.min_tls_version)
            stale = [x for x in served if x.error or not tls.serial_matches(x.serial, s.cert.serial)]
            if not stale or time.monotonic() >= deadline:
                break
            time.sleep(1)
        for x in served:
            ok = not x.error and tls.serial_matches(x.serial, s.cert.serial)
            rows.append({"endpoint": x.endpoint, "serial served": x.serial, "new serial": s.cert.serial, "ok": ok})
            if not ok:
                problems.append(f"{x.endpoint} ({x.server_name}) serves {x.error or 'serial ' + x.serial}, not the "
                                f"new certificate")
        ctx.evidence.table("new certificate active", rows)
        if problems:
            raise StepFailed("; ".join(problems))
        return f"{len(old.listeners)} listener(s) and {len(endpoints)} endpoint(s) serve {s.cert.label}"

    if new_certificate_arn:
        ctx.skip(f"request a new certificate for {', '.join(names)} (DNS validation)", f"resuming {s.arn}")
    else:
        ctx.step(f"request a new certificate for {', '.join(names)} (DNS validation, tagged opsproof:replaces)",
                 request)
    ctx.step("show the DNS validation records to create", records)
    ctx.step(f"wait until ACM has validated it and it is ISSUED (at most {wait:g}s)", issued)
    ctx.step(f"switch {where} from {c.label} to the new certificate", swap)
    ctx.step("verify the new certificate is active: listeners read back, each configured endpoint serves its serial",
             verify)
    if old.others:
        ctx.skip(f"also used by {', '.join(old.others)}", "not changed by this action: update it to the new "
                 "certificate by hand (CloudFront: update-distribution ViewerCertificate)")
    after = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=r.old_certificate_retention_days)).date()
    ctx.skip(f"delete the old certificate {c.arn}", f"not before {after} (runbook: after "
             f"{r.old_certificate_retention_days} days): aws acm delete-certificate --certificate-arn {c.arn}")
    ctx.evidence.value("old certificate: delete after", f"{after}: {c.arn}")
    if ctx.apply:
        return {"old": c.arn, "new": s.arn, "delete_old_after": str(after)}
    return None


def _listeners_using(elb, cert: acm.Certificate) -> list[elbv2.Listener]:
    found = []
    for lb in sorted({u for u in cert.in_use_by if ":loadbalancer/" in u}):
        found += [l for l in elbv2.listeners(elb, lb) if l.default_certificate == cert.arn
                  or cert.arn in l.extra_certificates]
    return found


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False
