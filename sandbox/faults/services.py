"""Faults of the services area: the API's smoke endpoints, ECS services, the load balancer's targets, alarms."""

import time

from ..aws import admin
from ..aws.seed_states import COMPOSITE_ALARM, COMPOSITE_CHILDREN
from ..aws.seed import ALARMS, BACKEND_PORT, BACKEND_TARGETS, ECS_CLUSTER, ECS_SERVICES, IMAGE_TAG, TARGET_GROUP
from . import fault

SMOKE_PATH = "/api/projects"
"""The smoke request the API faults break besides /health (environments/sandbox.toml's "projects")."""


def _routes(sb, path: str, override: dict | None) -> None:
    """Set or drop one route override in the web part's control file, keeping other faults' routes."""
    routes = dict(sb.web_state().get("routes") or {})
    if override is None:
        routes.pop(path, None)
    else:
        routes[path] = override
    sb.set_web_state(routes=routes or None)


@fault("smoke-endpoint-error", area="services", part="web")
class SmokeEndpointError:
    """The API's health endpoint answers 503 and GET /api/projects answers 500 (a broken deploy)."""

    def apply(self, sb):
        sb.set_web_state(health_status=503)
        _routes(sb, SMOKE_PATH, {"status": 500, "body": {"error": "internal server error"}})

    def heal(self, sb):
        sb.set_web_state(health_status=None)
        _routes(sb, SMOKE_PATH, None)


@fault("smoke-endpoint-slow", area="services", part="web")
class SmokeEndpointSlow:
    """The API's health endpoint answers only after 1.6 s (its budget is 1 s), and GET /api/projects after 0.6 s
    (its smoke budget is 0.3 s): right answers, too slowly."""

    def apply(self, sb):
        sb.set_web_state(health_delay_s=1.6)
        _routes(sb, SMOKE_PATH, {"status": 200, "delay_s": 0.6,
                                 "body": {"projects": [{"id": 1, "title": "Project 1"}]}})

    def heal(self, sb):
        sb.set_web_state(health_delay_s=None)
        _routes(sb, SMOKE_PATH, None)


# ---- ECS -------------------------------------------------------------------------------------------------------------
@fault("service-degraded", area="services")
class ServiceDegraded:
    """backend-service runs 1 task of its desired 2 (a task keeps failing its health check and is replaced)."""

    def apply(self, sb):
        admin.set_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-service", runningCount=1, pendingCount=1)

    def heal(self, sb):
        admin.clear_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-service")


@fault("rollout-stuck", area="services")
class RolloutStuck:
    """worker-service's deployment never finishes: its new deployment stays IN_PROGRESS beside the old one."""

    def apply(self, sb):
        admin.set_ecs_service(sb.endpoint_url, ECS_CLUSTER, "worker-service", rolloutState="IN_PROGRESS",
                              runningCount=0, pendingCount=1, activeDeployment={"runningCount": 1})

    def heal(self, sb):
        admin.clear_ecs_service(sb.endpoint_url, ECS_CLUSTER, "worker-service")


@fault("rollback-happened", area="services")
class RollbackHappened:
    """backend-service's last deployment failed and the circuit breaker rolled it back to the previous revision:
    the service is steady again, on the old code."""

    def apply(self, sb):
        admin.set_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-service", circuitBreakerRollback=True)

    def heal(self, sb):
        admin.clear_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-service")


@fault("service-scaled-to-zero", area="services")
class ServiceScaledToZero:
    """worker-service was scaled to 0 (desired 0, running 0) through the real UpdateService, below its Auto Scaling
    minimum of 1: it runs all it is asked to, and nothing works the queue."""

    def apply(self, sb):
        sb.client("ecs").update_service(cluster=ECS_CLUSTER, service="worker-service", desiredCount=0)

    def heal(self, sb):
        sb.client("ecs").update_service(cluster=ECS_CLUSTER, service="worker-service",
                                        desiredCount=ECS_SERVICES["worker-service"][1])


@fault("codedeploy-replacement-stabilizing", area="services")
class CodeDeployReplacementStabilizing:
    """backend-canary (deploymentController CODE_DEPLOY, no deployments) is mid blue/green: CodeDeploy's replacement
    task set is ACTIVE and STABILIZING with none of its 2 tasks running, beside the PRIMARY one."""

    def apply(self, sb):
        admin.set_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-canary",
                              replacementTaskSet={"stabilityStatus": "STABILIZING", "runningCount": 0})

    def heal(self, sb):
        admin.clear_ecs_service(sb.endpoint_url, ECS_CLUSTER, "backend-canary")


@fault("external-task-set-stabilizing", area="services")
class ExternalTaskSetStabilizing:
    """render-service (deploymentController EXTERNAL, no deployments) never stabilises: its PRIMARY task set stays
    STABILIZING with 1 of its 2 tasks running."""

    def apply(self, sb):
        admin.set_ecs_service(sb.endpoint_url, ECS_CLUSTER, "render-service",
                              taskSet={"stabilityStatus": "STABILIZING", "runningCount": 1})

    def heal(self, sb):
        admin.clear_ecs_service(sb.endpoint_url, ECS_CLUSTER, "render-service")


WRONG_TAG = "v1.1.9"


@fault("wrong-image-tag", area="services")
class WrongImageTag:
    """backend-service was deployed with backend:v1.1.9 (the previous release) instead of v1.2.0: a new task
    definition revision, through the real RegisterTaskDefinition and UpdateService."""

    def apply(self, sb):
        ecs = sb.client("ecs")
        svc = ecs.describe_services(cluster=ECS_CLUSTER, services=["backend-service"])["services"][0]
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        containers = [{**c, "image": c["image"].rsplit(":", 1)[0] + f":{WRONG_TAG}"}
                      for c in td["containerDefinitions"]]
        keep = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn",
                "taskRoleArn")
        new = ecs.register_task_definition(containerDefinitions=containers,
                                           **{k: td[k] for k in keep if td.get(k)})["taskDefinition"]
        ecs.update_service(cluster=ECS_CLUSTER, service="backend-service", taskDefinition=new["taskDefinitionArn"])
        _wait_steady(sb, "backend-service")

    def heal(self, sb):
        """Deploy the newest revision that runs the seeded tag again (stateless: whatever apply registered)."""
        ecs = sb.client("ecs")
        arns = ecs.list_task_definitions(familyPrefix="backend", sort="DESC")["taskDefinitionArns"]
        for arn in arns:
            images = [c["image"] for c in ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
                      ["containerDefinitions"]]
            if images and all(i.endswith(f":{IMAGE_TAG}") for i in images):
                ecs.update_service(cluster=ECS_CLUSTER, service="backend-service", taskDefinition=arn)
                _wait_steady(sb, "backend-service")
                return
        raise RuntimeError(f"no backend task definition runs :{IMAGE_TAG} any more")


def _wait_steady(sb, service: str, timeout_s: float = 15.0) -> None:
    """Wait out the sandbox's simulated rollout (a couple of seconds), so the next run sees a steady service."""
    ecs = sb.client("ecs")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        s = ecs.describe_services(cluster=ECS_CLUSTER, services=[service])["services"][0]
        if len(s["deployments"]) == 1 and s["deployments"][0].get("rolloutState") == "COMPLETED":
            return
        time.sleep(0.25)


# ---- load balancer ---------------------------------------------------------------------------------------------------
@fault("target-unhealthy", area="services")
class TargetUnhealthy:
    """The backend target 172.31.17.10:8000 in backend-tg fails its health checks (HTTP 502)."""

    def apply(self, sb):
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, BACKEND_TARGETS[1], "unhealthy", port=BACKEND_PORT,
                                reason="Target.ResponseCodeMismatch",
                                description="Health checks failed with these codes: [502]")

    def heal(self, sb):
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, BACKEND_TARGETS[1], None, port=BACKEND_PORT)


OLD_TASK_TARGET = "172.31.33.10"
"""The previous deployment's task, deregistered by the deploy: it drains, then is gone."""
DRAIN_S = 2.0


def _target_group_arn(sb) -> str:
    return sb.client("elbv2").describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]


@fault("target-draining", area="services")
class TargetDraining:
    """Right after a deploy: the old task's target 172.31.33.10:8000 in backend-tg is draining (deregistration in
    progress) for 2 s, then gone, as AWS drains for the deregistration delay. Healthy once it settles: the
    load-balancer check must wait for it and pass."""

    def apply(self, sb):
        sb.client("elbv2").register_targets(TargetGroupArn=_target_group_arn(sb),
                                            Targets=[{"Id": OLD_TASK_TARGET, "Port": BACKEND_PORT}])
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, OLD_TASK_TARGET, "draining", port=BACKEND_PORT,
                                for_s=DRAIN_S, then="gone")

    def heal(self, sb):
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, OLD_TASK_TARGET, None, port=BACKEND_PORT)
        sb.client("elbv2").deregister_targets(TargetGroupArn=_target_group_arn(sb),
                                              Targets=[{"Id": OLD_TASK_TARGET, "Port": BACKEND_PORT}])


@fault("target-draining-stuck", area="services")
class TargetDrainingStuck:
    """The backend target 172.31.17.10:8000 in backend-tg stays draining (long-lived connections under a long
    deregistration delay): it never settles within services.load_balancing.settle_s."""

    def apply(self, sb):
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, BACKEND_TARGETS[1], "draining", port=BACKEND_PORT)

    def heal(self, sb):
        admin.set_target_health(sb.endpoint_url, TARGET_GROUP, BACKEND_TARGETS[1], None, port=BACKEND_PORT)


# ---- monitoring ------------------------------------------------------------------------------------------------------
FIRING = "backend-5xx"


@fault("alarm-firing", area="services")
class AlarmFiring:
    """The CloudWatch alarm backend-5xx is in ALARM (the backend answers 5xx above its threshold)."""

    def apply(self, sb):
        assert FIRING in ALARMS
        sb.client("cloudwatch").set_alarm_state(
            AlarmName=FIRING, StateValue="ALARM",
            StateReason="Threshold Crossed: 1 datapoint [87.0] was greater than the threshold (50.0).")

    def heal(self, sb):
        sb.client("cloudwatch").set_alarm_state(AlarmName=FIRING, StateValue="OK",
                                                StateReason="Threshold Crossed: no datapoints breaching")


@fault("composite-alarm-firing", area="services")
class CompositeAlarmFiring:
    """The composite alarm worker-degraded is in ALARM: its child worker-task-failures (an alarm no configuration
    names) fired. DescribeAlarms shows composite alarms only to a caller asking for AlarmTypes CompositeAlarm."""

    def apply(self, sb):
        assert COMPOSITE_ALARM
        sb.client("cloudwatch").set_alarm_state(
            AlarmName=COMPOSITE_CHILDREN[1], StateValue="ALARM",
            StateReason="Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (3.0).")

    def heal(self, sb):
        sb.client("cloudwatch").set_alarm_state(AlarmName=COMPOSITE_CHILDREN[1], StateValue="OK",
                                                StateReason="Threshold Crossed: no datapoints breaching")
