"""The runbook's 'Deploy via CI/CD or manual update': `aws ecs update-service --cluster prod-cluster
--service backend-service --force-new-deployment`, then wait until the service is stable.

    python -m actions force-deploy --env prod                                  # the plan: every configured service
    python -m actions force-deploy --env prod --apply --services backend-service

One service at a time (a second deploy never starts while the first is still rolling out): UpdateService with
forceNewDeployment, then DescribeServices every services.ecs.deploy_poll_s until the NEW deployment is the only one,
COMPLETED, with running = desired; bounded by services.ecs.deploy_timeout_s. A rollout that fails (circuit breaker)
or does not finish in time stops the action and says which deployment and why. The report names each new
deployment (id, task definition, how long it took).
"""

import time

from opsproof.errors import ActionFailed, ConfigError
from opsproof.probes import ecs as probe

from . import StepFailed, action, param


class RolloutFailed(ActionFailed):
    pass


@action("force-deploy", help="ECS update-service --force-new-deployment, one service at a time, and wait until "
        "each is stable", params=[
            param("--services", nargs="*", default=None, metavar="SERVICE",
                  help="services to redeploy (default: every service in services.ecs.services)"),
            param("--timeout", type=float, default=None, metavar="SECONDS",
                  help="wait at most this long per service (default: services.ecs.deploy_timeout_s)")])
def force_deploy(ctx, services=None, timeout=None):
    cfg = ctx.env.services.ecs
    if cfg is None:
        raise ConfigError(f"{ctx.env.file}: services.ecs: section is missing")
    names = services or [s.name for s in cfg.services]
    if not names:
        raise ConfigError(f"{ctx.env.file}: services.ecs.services: no service to deploy")
    timeout = timeout or cfg.deploy_timeout_s
    ecs = ctx.aws("ecs", "services")
    before = ctx.step(f"look up {', '.join(names)} in {cfg.cluster}",
                      lambda: probe.services(ecs, cfg.cluster, names, with_images=False), always=True)
    ctx.evidence.table("before", [s.summary() for s in before])
    missing = [s.name for s in before if s.status != "ACTIVE"]
    if missing:
        raise StepFailed(f"no active service {', '.join(missing)} in cluster {cfg.cluster}")
    deployed = []
    for svc in [s for s in before if s.controller != "ECS"]:
        # UpdateService --force-new-deployment is ECS's own rolling deployment; a CODE_DEPLOY or EXTERNAL service
        # is deployed by its controller (a CodeDeploy deployment, a new task set), not here
        ctx.step(f"skip {svc.name}: its deployments are {svc.controller}'s (deploy it through that controller)")
    for svc in [s for s in before if s.controller == "ECS"]:
        old = svc.primary.id if svc.primary else None
        started = {}

        def update(name=svc.name):
            resp = ecs.update_service(cluster=cfg.cluster, service=name, forceNewDeployment=True)["service"]
            primary = next((d for d in resp.get("deployments", []) if d.get("status") == "PRIMARY"), {})
            started.update(id=primary.get("id"), at=time.monotonic(),
                           task_definition=primary.get("taskDefinition") or resp.get("taskDefinition"))
            return f"new deployment {started['id']} ({str(started['task_definition']).rsplit('/', 1)[-1]})"

        ctx.step(f"aws ecs update-service --cluster {cfg.cluster} --service {svc.name} --force-new-deployment "
                 f"(replaces deployment {old})", update)
        result = ctx.step(f"wait until {svc.name} is stable on the new deployment (at most {timeout:g}s, every "
                          f"{cfg.deploy_poll_s:g}s)",
                          lambda name=svc.name: _wait(ecs, cfg, name, started, old, timeout))
        if result:
            deployed.append(result)
    if deployed:
        ctx.evidence.table("new deployments", deployed)
    return {"deployments": deployed}


def _wait(ecs, cfg, name: str, started: dict, old: str | None, timeout: float) -> dict:
    deadline = started["at"] + timeout
    last = None
    while True:
        s = probe.services(ecs, cfg.cluster, [name], with_images=False)[0]
        last = s
        new = next((d for d in s.deployments if d.id == started["id"]), None)
        if new is None and s.primary is not None and s.primary.id != old:
            new = s.primary  # the deployment id changed again (another deploy started meanwhile): follow PRIMARY
        if new is not None and new.rollout_state == "FAILED" or s.failed_deployments:
            d = new if new is not None and new.rollout_state == "FAILED" else s.failed_deployments[0]
            raise RolloutFailed(f"{name}: deployment {d.id} FAILED ({d.reason})")
        if s.rollbacks and new is None:
            raise RolloutFailed(f"{name}: rolled back: {s.rollbacks[0].message}")
        if (new is not None and len(s.deployments) == 1 and new.rollout_state == "COMPLETED"
                and s.running >= s.desired and s.pending == 0):
            return {"service": name, "deployment": new.id, "task_definition": new.task_definition.rsplit("/", 1)[-1],
                    "running": s.running, "desired": s.desired,
                    "seconds": round(time.monotonic() - started["at"], 1)}
        if time.monotonic() >= deadline:
            state = (f"{len(last.deployments)} deployment(s), PRIMARY {last.rollout_state}, running {last.running} of "
                     f"{last.desired}") if last else "unknown"
            raise RolloutFailed(f"{name}: not stable after {timeout:g}s ({state}; services.ecs.deploy_timeout_s)")
        time.sleep(min(cfg.deploy_poll_s, max(deadline - time.monotonic(), 0.05)))
