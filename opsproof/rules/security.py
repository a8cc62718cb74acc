"""The runbook's "Security Updates" (dependency audits) and "Container Image Updates" (scan findings, pinned tags,
rebuilt on the current base, scanned) as rules over opsproof/probes/audits.py's Audit, opsproof/probes/images.py's
ImageScan and ImageFacts and the image references the services run, with the [security] section's limits and its
waivers (each with a reason and an expiry), and [infrastructure.images]'s for the rebuild."""

import datetime as dt

from ..config.infrastructure import Images as RebuildImages
from ..config.security import DependencyAudit, Images, Security, Waiver, severity_rank
from ..findings import ERROR, WAIVED, Finding, alarm, ok
from ..probes.audits import Audit
from ..probes.images import ImageFacts, ImageRef, ImageScan, parse_image, same_image, scan_finished

REBUILD = "rebuild on the current base image and deploy (runbook: Container Image Updates)"


def waiver_for(waivers: list[Waiver], ids: set[str], packages: set[str]) -> Waiver | None:
    """The waiver naming one of a finding's ids, and its package (or image repository) when it names one."""
    packages = {p.lower() for p in packages}
    return next((w for w in waivers if w.id in ids and (w.package is None or w.package.lower() in packages)), None)


def _waived(subject: str, what: str, w: Waiver, today: dt.date, fail: Finding) -> Finding:
    """A finding under a waiver: waived while the waiver runs, else ``fail`` saying it expired."""
    if w.active(today):
        return Finding(WAIVED, subject, f"{what} waived: {w.reason}" + (f" (until {w.expires})" if w.expires else ""),
                       key="security.waivers")
    return alarm(fail.subject, f"{fail.reason}, waiver expired {w.expires}", measured=fail.measured,
                 limit=fail.limit, key="security.waivers", fix=fail.fix)


# ---- dependency audits ------------------------------------------------------------------------------------------------
def dependencies(a: Audit, security: Security, ecosystem: str, today: dt.date) -> list[Finding]:
    """No known vulnerability at or above [security.ECOSYSTEM] min_severity (a finding without a severity counts
    as unknown_severity) unless waived, from a live run or a report no older than max_report_age_days; an audit
    that could not run and has no usable report is an error."""
    cfg: DependencyAudit = getattr(security, ecosystem)
    section = f"security.{ecosystem}"
    if a.error:
        return [Finding(ERROR, f"{ecosystem} audit", a.error, key=f"{section}.report")]
    found = []
    if not a.live and a.report_age_days is not None and a.report_age_days > cfg.max_report_age_days:
        found.append(alarm(f"the {a.tool} report", f"is {a.report_age_days:g} days old", measured=a.report_age_days,
                           limit=cfg.max_report_age_days, key=f"{section}.max_report_age_days",
                           fix="re-run the audit in CI"))
    floor = severity_rank(cfg.min_severity)
    for f in a.findings:
        known = severity_rank(f.severity) >= 0
        severity = f.severity if known else cfg.unknown_severity
        if severity_rank(severity) < floor:
            continue
        subject = f"{f.package} {f.version}"
        fail = alarm(subject, f"{f.id} ({severity}{'' if known else '?'})"
                     + (f", fixed in {f.fix}" if f.fix else "") + f", found by {a.tool}"
                     + ("" if known else f"; no severity given: counts as {cfg.unknown_severity}"),
                     measured=severity, limit=cfg.min_severity, key=f"{section}.min_severity",
                     fix=f"upgrade {f.package} to {f.fix}" if f.fix else None)
        w = waiver_for(security.waivers, f.ids, {f.package})
        found.append(fail if w is None else _waived(subject, f.id, w, today, fail))
    if not any(f.failing for f in found):
        found.append(ok(f"{ecosystem} dependencies", f"no unwaived finding at or above {cfg.min_severity} "
                        f"({a.source})", measured=a.dependencies, limit=cfg.min_severity))
    return found


def _start_scan(ref: ImageRef) -> str:
    image_id = f"imageTag={ref.tag}" if ref.tag else f"imageDigest={ref.digest}"
    return f"aws ecr start-image-scan --repository-name {ref.repository} --image-id {image_id}"


# ---- container images -------------------------------------------------------------------------------------------------
def image_findings(scans: list[tuple[ImageRef, list[str], ImageScan]], cfg: Images, waivers: list[Waiver],
                   today: dt.date) -> list[Finding]:
    """Each deployed image (with the services running it) has a finished scan (COMPLETE, or ACTIVE under enhanced
    scanning) no older than max_scan_age_days, with no finding at or above min_severity unless waived."""
    floor = severity_rank(cfg.min_severity)
    out = []
    for ref, services, scan in scans:
        subject = f"{ref.short} ({', '.join(services)})"
        if not scan.finished:
            out.append(alarm(subject, f"no finished scan ({scan.status})", measured=scan.status,
                             limit="COMPLETE or ACTIVE", fix=_start_scan(ref)))
            continue
        wrong = []
        if scan.age_days is not None and scan.age_days > cfg.max_scan_age_days:
            wrong.append(alarm(subject, f"last scanned {scan.age_days:g} days ago", measured=scan.age_days,
                               limit=cfg.max_scan_age_days, key="security.images.max_scan_age_days"))
        for f in scan.findings:
            if severity_rank(f.severity) < floor:
                continue
            fail = alarm(subject, f"{f.name} {f.severity} in {f.package} {f.version}", measured=f.severity,
                         limit=cfg.min_severity, key="security.images.min_severity",
                         fix=REBUILD)
            w = waiver_for(waivers, {f.name}, {ref.repository, f.package})
            wrong.append(fail if w is None else _waived(subject, f.name, w, today, fail))
        out += wrong or [ok(subject, f"scan {scan.status}: nothing at or above {cfg.min_severity}",
                            measured=scan.counts, limit=cfg.min_severity)]
    return out


def unpinned(ref: ImageRef, forbidden_tags: list[str], require_digest: bool) -> str | None:
    """Why an image reference is not pinned, or None when it is.

    >>> from opsproof.probes.images import parse_image
    >>> unpinned(parse_image("backend"), ["latest"], False), unpinned(parse_image("backend:v1.2.0"), ["latest"], True)
    ("no tag (Docker's default: 'latest')", 'a tag, not a digest')
    """
    if ref.digest:
        return None
    if require_digest:
        return "a tag, not a digest" if ref.tag else "no digest"
    if not ref.tag:
        return "no tag (Docker's default: 'latest')"
    if ref.tag.lower() in {t.lower() for t in forbidden_tags}:
        return f"moving tag {ref.tag!r}"
    return None


def pinned(deployed: list[tuple[ImageRef, list[str]]], cfg: Images) -> list[Finding]:
    """Every deployed image is named by a fixed version tag or a digest (only a digest with require_digest),
    never a moving tag (forbidden_tags) or none."""
    out = []
    for ref, services in deployed:
        why = unpinned(ref, cfg.forbidden_tags, cfg.require_digest)
        subject = f"{ref.image} (run by {', '.join(services)})"
        out.append(ok(subject, f"pinned by {'digest' if ref.digest else 'tag ' + repr(ref.tag)}") if why is None
                   else alarm(subject, why, measured=ref.tag or ref.digest, key="security.images.require_digest"
                              if cfg.require_digest else "security.images.forbidden_tags",
                              fix="deploy a release tag (v1.2.0) or a digest (runbook: Container Image Updates)"))
    return out


# ---- rebuilt and scanned (runbook: "Rebuild with Updated Base Images", "Scan Docker images") ------------------------
def rebuilt(facts: list[ImageFacts], cfg: RebuildImages) -> list[Finding]:
    """Each deployed image was built within [infrastructure.images] max_age_days, on base_image when that is set;
    an image ECR cannot describe (not ECR, no such tag) fails."""
    out = []
    for f in facts:
        short = parse_image(f.image).short
        if f.problem:
            out.append(alarm(short, f.problem))
            continue
        wrong = []
        if f.age_days is None:
            wrong.append(alarm(short, "build time unknown", key="infrastructure.images.created_annotation"))
        elif f.age_days > cfg.max_age_days:
            wrong.append(alarm(short, f"built {f.age_days:g} days ago, over {cfg.max_age_days}", measured=f.age_days,
                               limit=cfg.max_age_days,
                               key="infrastructure.images.max_age_days", fix=REBUILD))
        if cfg.base_image and not same_image(f.base, cfg.base_image):
            wrong.append(alarm(short, f"built on {f.base or 'an unrecorded base'}, not {cfg.base_image}",
                               measured=f.base, limit=cfg.base_image, key="infrastructure.images.base_image",
                               fix=REBUILD))
        out += wrong or [ok(short, f"built {f.age_days:g} days ago on {f.base or 'its base'}", measured=f.age_days,
                            limit=cfg.max_age_days)]
    return out


def scanned(facts: list[ImageFacts]) -> list[Finding]:
    """ECR finished scanning each deployed image (COMPLETE, or ACTIVE under enhanced scanning)."""
    out = []
    for f in facts:
        ref = parse_image(f.image)
        if f.problem or not scan_finished(f.scan_status):
            out.append(alarm(ref.short, f"image scan not finished: {f.problem or 'scan ' + str(f.scan_status)}",
                             measured=f.scan_status, limit="COMPLETE or ACTIVE", fix=_start_scan(ref)))
        else:
            out.append(ok(ref.short, f"scan {f.scan_status}", measured=f.findings))
    return out
