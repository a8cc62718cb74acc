"""The runbook's infrastructure procedures as rules: "Automated Patching with AWS Systems Manager" (the baseline, the
window, each instance's patch state), "Manual Patching" (each host's kernel, services, disks, clock), "Container
Image Updates" (the deployed images) and "Terraform Infrastructure Updates" (plans, versions). Facts from
opsproof/probes/{ssm,hosts,ecs,terraform}.py; limits from [infrastructure] and [hosts]."""

import datetime as dt

from ..config.hosts import Hosts
from ..config.infrastructure import Patching, Terraform
from ..findings import Finding, alarm, ok
from ..probes import terraform as tf
from ..probes.hosts import Clock, Disk, Kernel, Service
from ..probes.ssm import Baseline, PatchState, Window

PATCH_HOSTS = "python -m actions patch-hosts --apply"


# ---- SSM patching ----------------------------------------------------------------------------------------------------
def _rules_shown(rules) -> str:
    return "; ".join(f"{'/'.join(r.classifications) or 'any'} {'/'.join(r.severities) or 'any'} after "
                     f"{r.approve_after_days} days" for r in rules) or "no rules"


def patch_baseline(b: Baseline | None, group_baseline: str, p: Patching) -> list[Finding]:
    """The baseline exists, is for the configured operating system, has the runbook's approval rule, and is the
    patch group's baseline: each its own Finding."""
    want = p.baseline
    subject = f"patch baseline {want.name}"
    if b is None:
        return [alarm(subject, "does not exist", key="infrastructure.patching.baseline.name",
                      fix="runbook: Automated Patching with AWS Systems Manager (aws ssm create-patch-baseline)")]
    found = []
    if b.operating_system == want.operating_system:
        found.append(ok(subject, f"for {b.operating_system}", measured=b.operating_system))
    else:
        found.append(alarm(subject, f"operating system {b.operating_system}, expected {want.operating_system}",
                           measured=b.operating_system, limit=want.operating_system,
                           key="infrastructure.patching.baseline.operating_system"))
    expected = f"{'/'.join(want.classifications)} {'/'.join(want.severities)} after {want.approve_after_days} days"
    if any(sorted(r.classifications) == sorted(want.classifications) and sorted(r.severities) == sorted(want.severities)
           and r.approve_after_days == want.approve_after_days for r in b.rules):
        found.append(ok(subject, f"approves {expected}", limit=expected))
    else:
        found.append(alarm(subject, f"approves {_rules_shown(b.rules)}, expected {expected}",
                           measured=_rules_shown(b.rules), limit=expected, key="infrastructure.patching.baseline",
                           fix="aws ssm update-patch-baseline (runbook: Automated Patching with AWS Systems Manager)"))
    if group_baseline.rsplit("/", 1)[-1] == b.id:
        found.append(ok(f"patch group {p.patch_group}", f"uses baseline {b.id}", measured=b.id))
    else:
        found.append(alarm(f"patch group {p.patch_group}", f"uses baseline {group_baseline or 'none'}, not {b.id} "
                           f"({want.name})", measured=group_baseline or None, limit=b.id,
                           key="infrastructure.patching.patch_group",
                           fix=f"aws ssm register-patch-baseline-for-patch-group --baseline-id {b.id} "
                               f"--patch-group {p.patch_group}"))
    return found


def patch_window(w: Window | None, p: Patching) -> list[Finding]:
    """The maintenance window exists with the runbook's schedule, duration and cutoff, and is enabled."""
    want = p.window
    subject = f"maintenance window {want.name}"
    if w is None:
        return [alarm(subject, "does not exist", key="infrastructure.patching.window.name",
                      fix="runbook: Automated Patching with AWS Systems Manager (aws ssm create-maintenance-window)")]
    fix = f"aws ssm update-maintenance-window --window-id {w.id}"
    checks = [("schedule", w.schedule, want.schedule, w.schedule.replace(" ", "") == want.schedule.replace(" ", ""),
               ""),
              ("duration", w.duration_h, want.duration_h, w.duration_h == want.duration_h, " h"),
              ("cutoff", w.cutoff_h, want.cutoff_h, w.cutoff_h == want.cutoff_h, " h")]
    keys = {"schedule": "schedule", "duration": "duration_h", "cutoff": "cutoff_h"}
    found = []
    for what, measured, limit, same, unit in checks:
        if same:
            found.append(ok(subject, f"{what} {measured}{unit}", measured=measured, limit=limit))
        else:
            found.append(alarm(subject, f"{what} {measured}{unit}, expected {limit}{unit}", measured=measured,
                               limit=limit, key=f"infrastructure.patching.window.{keys[what]}", fix=fix))
    found.append(ok(subject, "enabled", measured=True) if w.enabled else
                 alarm(subject, "disabled", measured=False, limit=True, fix=fix + " --enabled"))
    return found


def _enough(states: list[PatchState], p: Patching) -> Finding:
    subject = f"patch group {p.patch_group}"
    if len(states) < p.min_instances:
        return alarm(subject, f"has {len(states)} managed instance(s), fewer than {p.min_instances}",
                     measured=len(states), limit=p.min_instances, key="infrastructure.patching.min_instances")
    return ok(subject, f"{len(states)} managed instance(s)", measured=len(states), limit=p.min_instances)


def patch_compliance(states: list[PatchState], p: Patching) -> list[Finding]:
    """Each instance of the patch group: no missing or failed patches (nor one pending a reboot, when that fails)
    and an SSM agent that reports; the group has at least min_instances."""
    found = [_enough(states, p)]
    for s in states:
        why = []
        if s.missing:
            why.append(f"{s.missing} missing")
        if s.failed:
            why.append(f"{s.failed} failed")
        if s.pending_reboot and p.pending_reboot_fails:
            why.append(f"{s.pending_reboot} installed pending reboot")
        if s.ping != "Online":
            why.append(f"SSM agent {s.ping}")
        subject = f"{s.name} ({s.instance_id})"
        measured = {"missing": s.missing, "failed": s.failed, "pending_reboot": s.pending_reboot, "ping": s.ping}
        if why:
            found.append(alarm(subject, f"not compliant in patch group {p.patch_group}: {', '.join(why)}",
                               measured=measured, key="infrastructure.patching.baseline",
                               fix="aws ssm send-command --document-name AWS-RunPatchBaseline (or "
                                   f"{PATCH_HOSTS})"))
        else:
            found.append(ok(subject, "compliant, SSM agent Online", measured=measured))
    return found


def patched_in_window(states: list[PatchState], started: dt.datetime, p: Patching) -> list[Finding]:
    """Each instance's last Install ended at or after the window's latest start (a later Scan is not an install)."""
    found = [_enough(states, p)]
    window = f"the window that started {started:%Y-%m-%d %H:%M} UTC ({p.window.schedule})"
    for s in states:
        subject = f"{s.name} ({s.instance_id})"
        if s.patched_since(started):
            found.append(ok(subject, f"last Install ended {s.last_install}", measured=s.last_install,
                            limit=started.isoformat()))
            continue
        latest = f" (latest operation: {s.operation} ended {s.operation_end})" if s.operation != "Install" else ""
        found.append(alarm(subject, f"not patched in {window}: last Install ended {s.last_install or 'never'}"
                           + latest, measured=s.last_install or None, limit=started.isoformat(),
                           key="infrastructure.patching.window.schedule", fix=PATCH_HOSTS))
    return found


# ---- the hosts -------------------------------------------------------------------------------------------------------
def kernel(k: Kernel) -> list[Finding]:
    """The running kernel is the newest installed one (no reboot pending after a kernel update)."""
    if not k.reboot_pending:
        return [ok(k.host, f"runs the newest installed kernel {k.running}", measured=k.running, limit=k.newest)]
    return [alarm(k.host, f"reboot pending: runs kernel {k.running}, newest installed is {k.newest}"
                  + (" (/var/run/reboot-required exists)" if k.reboot_required_file else ""),
                  measured=k.running, limit=k.newest, fix=f"reboot it inside a window: {PATCH_HOSTS}")]


def services(found: list[Service], h: Hosts) -> list[Finding]:
    """Each required service (hosts.services) is running and enabled."""
    return [ok(f"{s.name} on {s.host}", s.state, measured=s.state) if s.ok else
            alarm(f"{s.name} on {s.host}", s.state, measured=s.state, limit="running, enabled", key="hosts.services",
                  fix=f"systemctl enable --now {s.name}" if s.running is not None else None)
            for s in found]


def disks(host: str, found: list[Disk], missing: list[str], h: Hosts) -> list[Finding]:
    """Each watched mount point (hosts.disk_mounts) exists and is used at most hosts.disk_max_percent."""
    limit = h.disk_max_percent
    out = []
    for d in found:
        usage = f"{d.used_percent}% used ({d.used_gb:g} of {d.size_gb:g} GiB)"
        if d.used_percent > limit:
            out.append(alarm(f"{d.mount} on {d.host}", f"{usage}, over {limit:g}%", measured=d.used_percent,
                             limit=limit, key="hosts.disk_max_percent",
                             fix="free space or grow the volume (runbook: Manual Patching)"))
        else:
            out.append(ok(f"{d.mount} on {d.host}", usage, measured=d.used_percent, limit=limit))
    out += [alarm(f"{m} on {host}", "not found", key="hosts.disk_mounts") for m in missing]
    return out


def clock(c: Clock, h: Hosts) -> list[Finding]:
    """The clock is synchronised and off by at most hosts.clock_max_offset_ms."""
    limit = h.clock_max_offset_ms
    if not c.synchronised:
        return [alarm(c.host, f"clock not synchronised ({c.source}: {c.detail})", measured=c.detail,
                      fix="systemctl restart chronyd")]
    if c.offset_ms is not None and c.offset_ms > limit:
        return [alarm(c.host, f"clock off by {c.offset_ms:g} ms, over {limit:g} ms", measured=c.offset_ms,
                      limit=limit, key="hosts.clock_max_offset_ms", fix="systemctl restart chronyd")]
    return [ok(c.host, f"synchronised ({c.source}" + (f", off by {c.offset_ms:g} ms)" if c.offset_ms is not None
                                                      else ")"), measured=c.offset_ms, limit=limit)]


def listening(host: str, address: str, is_listening: bool) -> list[Finding]:
    """Something listens on the database's address on its host."""
    if is_listening:
        return [ok(f"{address} on {host}", "listening")]
    return [alarm(f"{address} on {host}", f"nothing listens on {address} on {host}", key="database.port")]


# ---- Terraform -------------------------------------------------------------------------------------------------------
def terraform_plans(plans: list[tf.Plan]) -> list[Finding]:
    """Every configured directory plans no changes (exit 2 is drift, exit 1 an error)."""
    found = []
    for p in plans:
        if p.drift:
            found.append(alarm(p.directory, f"drift: {p.summary} ({', '.join(p.changes[:5])})", measured=p.summary,
                               limit="No changes.", key="infrastructure.terraform.directories",
                               fix="review the plan, then terraform apply inside a window (runbook: Terraform "
                                   "Infrastructure Updates)"))
        elif p.exit_code == 1:
            found.append(alarm(p.directory, f"plan failed: {p.error}", measured=p.exit_code,
                               key="infrastructure.terraform.directories"))
        else:
            found.append(ok(p.directory, p.summary or "no changes", measured=p.exit_code))
    return found


def terraform_versions(by_directory: dict[str, tf.Versions | None], t: Terraform) -> list[Finding]:
    """The CLI and every provider the lock file selects are within infrastructure.terraform.versions; a directory
    that is not there (None) is an alarm."""
    constraints = {tf.short_source(k): v for k, v in t.versions.items()}
    found = []
    for directory, v in by_directory.items():
        if v is None:
            found.append(alarm(directory, "no such directory", key="infrastructure.terraform.directories"))
            continue
        selected = {"terraform": v.terraform, **{tf.short_source(k): ver for k, ver in v.providers.items()}}
        for name, version in sorted(selected.items()):
            want = constraints.get(name)
            if want is None or tf.satisfies(version, want):
                found.append(ok(v.directory, f"{name} {version}" + (f" is within {want!r}" if want else ""),
                                measured=version, limit=want))
            else:
                found.append(alarm(f"{v.directory}", f"{name} {version} is outside {want!r}", measured=version,
                                   limit=want, key="infrastructure.terraform.versions",
                                   fix="terraform init -upgrade (runbook: Terraform Infrastructure Updates)"))
    return found
