"""The runbook's 'Manual Patching' of the GPU workers: update the packages, reboot only when the kernel changed, and
verify the instance returns healthy.

    python -m actions patch-hosts --env prod                          # the plan: pending updates per host
    python -m actions patch-hosts --env prod --apply                  # inside a maintenance window
    python -m actions patch-hosts --env prod --apply --hosts ssh://ec2-user@gpu-worker-2 --outside-window

Per host, one at a time (never two GPU workers down together): `yum update -y` (sudo comes from the host spec:
ssh://ec2-user@host?sudo=true); if the newest installed kernel is no longer the running one, `reboot`, but only with
--apply inside a maintenance window (window.schedule) or with --outside-window; then wait, bounded by
hosts.reboot_timeout_s, until the host answers, runs the new kernel and its required services (hosts.services) run.
A host that does not come back stops the action: the hosts after it are left alone.
"""

import datetime as dt
import time

from opsproof import schedule
from opsproof.errors import ActionFailed, TargetUnreachable
from opsproof.probes import hosts as probe

from . import StepFailed, action, param


class NotHealthy(ActionFailed):
    pass


@action("patch-hosts", help="yum update -y each host; reboot when the kernel changed (inside a window); wait "
        "until it is healthy", params=[
            param("--hosts", nargs="*", default=None, metavar="SPEC",
                  help="host specs or names to patch (default: every host of hosts.specs)"),
            param("--outside-window", action="store_true",
                  help="allow reboots outside a maintenance window (an emergency)"),
            param("--no-reboot", action="store_true", help="update packages only; never reboot")])
def patch_hosts(ctx, hosts=None, outside_window=False, no_reboot=False):
    env = ctx.env
    timeout = env.hosts.command_timeout_s
    fleet = probe.fleet(env)
    if hosts:
        wanted = set(hosts)
        fleet = [h for h in fleet if probe.name(h) in wanted or probe.name(h).split("://", 1)[-1] in wanted]
        unknown = wanted - {probe.name(h) for h in fleet} - {probe.name(h).split("://", 1)[-1] for h in fleet}
        if unknown:
            raise StepFailed(f"not in hosts.specs: {', '.join(sorted(unknown))}")
    now = dt.datetime.now(dt.timezone.utc)
    window = schedule.current_or_next(env.window.schedule, now)
    in_window = now in window
    may_reboot = not no_reboot and (in_window or outside_window)
    ctx.evidence.value("maintenance window", f"{window.label()} ({'now' if in_window else 'not now'})")
    results = []
    for host in fleet:
        name = probe.name(host)
        updates = ctx.step(f"{name}: list pending updates (yum check-update)",
                           lambda h=host: probe.pending_updates(h, timeout), always=True)
        kernel_update = [u for u in updates if u.package in ("kernel", "kernel-core") or
                         u.package.startswith("linux-image")]
        ctx.evidence.table(f"pending updates on {name}", updates)
        row = {"host": name, "updates": len(updates), "kernel update": ", ".join(u.version for u in kernel_update),
               "rebooted": False}
        if not updates:
            ctx.skip(f"{name}: update packages", "nothing to update")
        else:
            ctx.step(f"{name}: yum update -y ({len(updates)} update(s)"
                     + (f", kernel {kernel_update[0].version}" if kernel_update else "") + ")",
                     lambda h=host: _update(h, timeout))
        if not ctx.apply:
            if kernel_update:
                ctx.step(f"{name}: reboot (kernel update)" + ("" if may_reboot else
                         " - NOT outside a maintenance window: add --outside-window"))
            results.append(row)
            continue
        k = probe.kernel(host, timeout)
        row["kernel"] = k.running
        if not k.reboot_pending:
            ctx.skip(f"{name}: reboot", f"running the newest kernel ({k.running})")
            results.append(row)
            continue
        if not may_reboot:
            why = "--no-reboot" if no_reboot else f"outside a maintenance window (next: {window.label()})"
            ctx.skip(f"{name}: reboot into {k.newest}", f"{why}; the host keeps running {k.running}")
            row["reboot pending"] = k.newest
            results.append(row)
            continue
        ctx.step(f"{name}: reboot into kernel {k.newest} (runs {k.running})", lambda h=host: _reboot(h, timeout))
        healthy = ctx.step(f"{name}: wait until it answers, runs {k.newest} and its services run (at most "
                           f"{env.hosts.reboot_timeout_s:g}s)",
                           lambda h=host, want=k.newest: _wait_healthy(h, want, env))
        row.update(rebooted=True, kernel=healthy["kernel"], back_after_s=healthy["seconds"])
        results.append(row)
    ctx.evidence.table("hosts", results)
    return {"hosts": results}


def _update(host, timeout: float) -> str:
    out = probe.bounded(host, "yum update", lambda: probe.run(host, "yum -y update"), timeout * 20)
    if out.rc != 0:
        raise RuntimeError(f"yum update -y failed (exit {out.rc}): {out.stderr.strip()[-300:]}")
    return out.stdout.strip()[-1000:]


def _reboot(host, timeout: float) -> str:
    try:
        out = probe.bounded(host, "reboot", lambda: host.run("reboot"), timeout)
    except TargetUnreachable:
        return "connection closed by the reboot"
    if out.rc not in (0, probe.UNREACHABLE_RC, -15, 143):  # ssh drops the session when the host goes down
        raise RuntimeError(f"reboot failed (exit {out.rc}): {out.stderr.strip()[-300:]}")
    return "rebooting"


def _wait_healthy(host, kernel: str, env) -> dict:
    started = time.monotonic()
    deadline = started + env.hosts.reboot_timeout_s
    last = "did not answer"
    while time.monotonic() < deadline:
        if probe.reachable(host, env.hosts.command_timeout_s):
            try:
                k = probe.kernel(host, env.hosts.command_timeout_s)
                down = [s for s in probe.services(host, env.hosts.services, env.hosts.command_timeout_s)
                        if not s.ok]
            except TargetUnreachable as e:
                last = str(e)
            else:
                if k.running == kernel and not down:
                    probe.forget_unreachable()
                    return {"kernel": k.running, "seconds": round(time.monotonic() - started, 1)}
                last = (f"runs {k.running}, expected {kernel}" if k.running != kernel else
                        "services not running: " + ", ".join(f"{s.name} {s.state}" for s in down))
        time.sleep(env.hosts.reboot_poll_s)
    raise NotHealthy(f"{probe.name(host)} not healthy {env.hosts.reboot_timeout_s:g}s after the reboot: {last} "
                     "(hosts.reboot_timeout_s)")
