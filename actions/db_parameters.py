"""Quarterly 'Database Parameter Tuning': the runbook's reviewed parameters against the recommended values for the
instance's class, and, with --apply, the RDS parameter group changed to them (ApplyMethod=pending-reboot).

    python -m actions db-parameters --env prod                    # the review: recommended / group / live
    python -m actions db-parameters --env prod --apply            # change the group; takes effect at next reboot
    python -m actions db-parameters --env prod --apply --reboot   # ... and reboot, only inside the window

A reboot is an outage: it happens only with --reboot AND inside a scheduled maintenance window ([window.schedule];
runbook: 2nd and 4th Sunday, 02:00-06:00 UTC). Asked for outside one, the reboot is refused and the run fails, so
the pending change is not forgotten.
"""

import datetime as dt

from opsproof import schedule
from opsproof.connect import aws_call
from opsproof.errors import OpsproofError
from opsproof.postgres import parameters
from opsproof.rules.database_parameters import within

from . import Step, action, param


def rds_value(name: str, value) -> str:
    """The runbook's '8GB' in the unit RDS takes for the parameter (shared_buffers: 8kB pages → '1048576')."""
    if name in parameters.BASE_UNIT:
        return str(int(parameters.to_number(name, value) // parameters.BASE_UNIT[name]))
    return str(value)


@action("db-parameters", help="review the runbook's parameters for the instance class; --apply changes the RDS "
        "parameter group (pending-reboot)", params=[
            param("--reboot", action="store_true", help="with --apply: reboot to apply, only inside the window")])
def db_parameters(ctx, reboot=False):
    p = ctx.env.database.parameters
    rds = ctx.aws("rds", "rds")
    inst = parameters.instance(rds, ctx.env.rds.instance_id)
    recommended = p.recommended.get(inst.instance_class)
    if recommended is None:
        raise OpsproofError(f"no recommended values for {inst.instance_class} ({inst.id}): add "
                            f"[database.parameters.recommended.\"{inst.instance_class}\"]")
    review, running = parameters.review(rds, ctx.db, inst, p)
    ctx.evidence.table("instance", [inst])
    ctx.evidence.table(f"review for {inst.instance_class} (group {inst.parameter_group})", review)
    ctx.evidence.table("live values (pg_settings)", list(running.values()))

    changes = [r for r in review if not within(r.group_number, r.want, p.tolerance_percent)]
    for r in changes:
        value = rds_value(r.name, recommended[r.name])
        ctx.step(f"modify-db-parameter-group {inst.parameter_group}: {r.name} {r.parameter_group or '(default)'} → "
                 f"{value} ({r.recommended}), ApplyMethod=pending-reboot",
                 lambda n=r.name, v=value: aws_call(
                     f"rds modify-db-parameter-group {inst.parameter_group}", rds.modify_db_parameter_group,
                     DBParameterGroupName=inst.parameter_group,
                     Parameters=[{"ParameterName": n, "ParameterValue": v, "ApplyMethod": "pending-reboot"}]))
    if not changes:
        ctx.skip(f"modify-db-parameter-group {inst.parameter_group}", "every parameter matches its recommendation")

    live_off = [r.name for r in review if r not in changes and p.check_live
                and not within(r.live_number, r.want, p.tolerance_percent)]
    needs_reboot = bool(changes) or inst.parameter_apply_status == "pending-reboot" or bool(live_off)
    now = dt.datetime.now(dt.timezone.utc)
    window = schedule.current_or_next(ctx.env.window.schedule, now)
    if not reboot:
        if needs_reboot:
            ctx.skip(f"reboot-db-instance {inst.id}", f"not asked (--reboot): the change waits for a reboot in the "
                     f"window ({window.label()})")
        return {"changed": [r.name for r in changes], "rebooted": False}
    if now not in window:
        ctx.report.steps.append(Step(f"reboot-db-instance {inst.id}", "failed",
                                     f"refused: {now:%Y-%m-%d %H:%M} UTC is outside a maintenance window; the next is "
                                     f"{window.label()} ([window.schedule])"))
        return {"changed": [r.name for r in changes], "rebooted": False}
    ctx.step(f"reboot-db-instance {inst.id} (inside the window {window.label()})",
             lambda: aws_call(f"rds reboot-db-instance {inst.id}", rds.reboot_db_instance,
                              DBInstanceIdentifier=inst.id))
    return {"changed": [r.name for r in changes], "rebooted": ctx.apply}
