"""ECS services: deployments, task sets, counts, the images their task definitions name, rollbacks, and the
Application Auto Scaling minimum. Read-only: Describe* only. What ECR knows of those images is in images.py.

    >>> svc = services(ecs, "prod-cluster", ["backend-service"])[0]
    >>> svc.running, svc.desired, svc.rollout_state, svc.images
    (2, 2, 'COMPLETED', ['123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0'])
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from ..connect import aws_call
from .timestamps import aware, iso

ROLLBACK_WORDS = re.compile(r"rolling back|rolled back|circuit breaker", re.I)


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str
    """PRIMARY (the newest) or ACTIVE (an older one still running tasks)."""
    task_definition: str
    desired: int
    running: int
    pending: int
    failed_tasks: int
    rollout_state: str
    reason: str
    created_at: str


@dataclass(frozen=True)
class TaskSet:
    """A task set of a CODE_DEPLOY or EXTERNAL service (which have no deployments, hence no rolloutState)."""

    id: str
    status: str
    """PRIMARY (serves production traffic), ACTIVE (a replacement or the original kept for rollback), DRAINING."""
    stability: str
    """STEADY_STATE or STABILIZING."""
    task_definition: str
    computed_desired: int
    running: int
    pending: int
    scale: float
    external_id: str = ""

    @property
    def steady(self) -> bool:
        return self.stability == "STEADY_STATE" and self.running >= self.computed_desired and self.pending == 0


@dataclass(frozen=True)
class Event:
    at: str
    message: str


@dataclass
class ServiceState:
    cluster: str
    name: str
    status: str
    desired: int
    running: int
    pending: int
    task_definition: str
    deployments: list[Deployment]
    images: list[str] = field(default_factory=list)
    """Container images of the service's task definition."""
    rollbacks: list[Event] = field(default_factory=list)
    """Circuit-breaker rollbacks among the events newer than the lookback."""
    controller: str = "ECS"
    """The deployment controller: ECS (rolling: deployments with rolloutState), CODE_DEPLOY (blue/green) or
    EXTERNAL; the last two have no deployments, their state is their task sets'."""
    task_sets: list[TaskSet] = field(default_factory=list)

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    @property
    def primary_task_set(self) -> TaskSet | None:
        return next((t for t in self.task_sets if t.status == "PRIMARY"), None)

    @property
    def rollout_state(self) -> str:
        if self.controller != "ECS":
            t = self.primary_task_set
            return t.stability if t else "NONE"
        p = self.primary
        return p.rollout_state if p else "NONE"

    @property
    def failed_deployments(self) -> list[Deployment]:
        return [d for d in self.deployments if d.rollout_state == "FAILED"]

    @property
    def rollout_finished(self) -> bool:
        """ECS: one PRIMARY deployment, COMPLETED. CODE_DEPLOY/EXTERNAL: one task set, PRIMARY and steady (all its
        computed desired tasks running); a second task set is a deployment still in progress (or its original task
        set not yet terminated)."""
        if self.controller != "ECS":
            t = self.primary_task_set
            return len(self.task_sets) == 1 and t is not None and t.steady
        return len(self.deployments) == 1 and self.primary is not None and self.rollout_state == "COMPLETED"

    @property
    def rollout_summary(self) -> str:
        """How far the rollout is, in the controller's own terms (for failure messages)."""
        if self.controller != "ECS":
            t = self.primary_task_set
            others = ", ".join(f"{o.status} task set {o.stability} ({o.running} of {o.computed_desired} running)"
                               for o in self.task_sets if o is not t)
            return (f"{self.controller}: {len(self.task_sets)} task set(s), PRIMARY "
                    + (f"{t.stability} ({t.running} of {t.computed_desired} running)" if t else "none")
                    + (f"; {others}" if others else ""))
        return f"{len(self.deployments)} deployment(s), PRIMARY {self.rollout_state}"

    def summary(self) -> dict:
        return {"service": self.name, "status": self.status, "controller": self.controller,
                "desired": self.desired, "running": self.running,
                "pending": self.pending, "rollout": self.rollout_state, "deployments": len(self.deployments),
                "task sets": len(self.task_sets),
                "task_definition": self.task_definition.rsplit("/", 1)[-1], "images": ", ".join(self.images)}


DESCRIBE_SERVICES_MAX = 10
"""DescribeServices takes at most 10 services a call; AWS refuses more (InvalidParameterException)."""


def describe_services(ecs, cluster: str, names: list[str]) -> dict[str, dict]:
    """DescribeServices for any number of names, 10 per call: the services found, by name (a name ECS does not
    know is absent; ECS lists it under failures, MISSING)."""
    found: dict[str, dict] = {}
    for i in range(0, len(names), DESCRIBE_SERVICES_MAX):
        resp = aws_call(f"ecs describe-services {cluster}", ecs.describe_services, cluster=cluster,
                        services=names[i:i + DESCRIBE_SERVICES_MAX])
        for s in resp.get("services", []):
            found[s["serviceName"]] = s
    return found


def services(ecs, cluster: str, names: list[str], rollback_lookback: dt.timedelta | None = None,
             with_images: bool = True, now: dt.datetime | None = None) -> list[ServiceState]:
    """Describe the services (10 per call, the API's limit). A name the cluster does not have (or an inactive
    service) comes back with status MISSING/INACTIVE and no deployments: every check fails it."""
    now = now or dt.datetime.now(dt.timezone.utc)
    found = describe_services(ecs, cluster, names)
    task_defs: dict[str, dict] = {}
    out = []
    for n in names:
        s = found.get(n)
        if s is None:
            out.append(ServiceState(cluster, n, "MISSING", 0, 0, 0, "", []))
            continue
        deployments = [Deployment(d.get("id", ""), d.get("status", ""), d.get("taskDefinition", ""),
                                  d.get("desiredCount", 0), d.get("runningCount", 0), d.get("pendingCount", 0),
                                  d.get("failedTasks", 0), d.get("rolloutState", "UNKNOWN"),
                                  d.get("rolloutStateReason", ""), iso(d.get("createdAt")))
                       for d in s.get("deployments", [])]
        rollbacks = []
        for e in s.get("events", []):
            at = aware(e.get("createdAt"))
            if ROLLBACK_WORDS.search(e.get("message", "")) and (
                    rollback_lookback is None or at is None or at >= now - rollback_lookback):
                rollbacks.append(Event(iso(e.get("createdAt")), e.get("message", "")))
        td = s.get("taskDefinition", "")
        images = []
        if with_images and td:
            if td not in task_defs:
                task_defs[td] = aws_call(f"ecs describe-task-definition {td.rsplit('/', 1)[-1]}",
                                         ecs.describe_task_definition, taskDefinition=td)["taskDefinition"]
            images = [c.get("image", "") for c in task_defs[td].get("containerDefinitions", [])]
        task_sets = [TaskSet(t.get("id", ""), t.get("status", ""), t.get("stabilityStatus", ""),
                             t.get("taskDefinition", ""), t.get("computedDesiredCount", 0), t.get("runningCount", 0),
                             t.get("pendingCount", 0), float((t.get("scale") or {}).get("value", 0.0)),
                             t.get("externalId", "")) for t in s.get("taskSets", []) or []]
        controller = (s.get("deploymentController") or {}).get("type", "ECS")
        out.append(ServiceState(cluster, n, s.get("status", ""), s.get("desiredCount", 0), s.get("runningCount", 0),
                                s.get("pendingCount", 0), td, deployments, images, rollbacks, controller, task_sets))
    return out


def deployed_images(ecs, cluster: str, names: list[str]) -> dict[str, list[str]]:
    """{image reference: [the services running it]}, in image order: what production actually runs."""
    by_image: dict[str, list[str]] = {}
    for s in services(ecs, cluster, names, with_images=True):
        for image in s.images:
            by_image.setdefault(image, []).append(s.name)
    return dict(sorted(by_image.items()))


# ---- minimum running count -------------------------------------------------------------------------------------------
SCALING_DIMENSION = "ecs:service:DesiredCount"
DEFAULT_MINIMUM = 1


def scaling_minimums(aas, cluster: str, names: list[str]) -> dict[str, int]:
    """{service: its Application Auto Scaling MinCapacity} for the services that have a scalable target
    (ResourceIds takes at most 50 per call; each call's pages are followed)."""
    by_resource = {f"service/{cluster}/{n}": n for n in names}
    resources = list(by_resource)
    found: dict[str, int] = {}
    paginator = aas.get_paginator("describe_scalable_targets")
    for i in range(0, len(resources), 50):
        batch = resources[i:i + 50]
        pages = aws_call(f"application-autoscaling describe-scalable-targets ecs {cluster}",
                         lambda: list(paginator.paginate(ServiceNamespace="ecs", ResourceIds=batch,
                                                         ScalableDimension=SCALING_DIMENSION)))
        for page in pages:
            for t in page.get("ScalableTargets", []):
                name = by_resource.get(t.get("ResourceId", ""))
                if name is not None:  # a sandbox (or an API) that ignores the filter must not leak others in
                    found[name] = int(t.get("MinCapacity", 0))
    return found


@dataclass(frozen=True)
class Minimum:
    service: str
    status: str
    desired: int
    running: int
    minimum: int
    source: str
    """Where the minimum came from: the configuration, the service's scalable target, or the default."""

    @property
    def ok(self) -> bool:
        return self.running >= self.minimum  # a missing service runs 0 (its status is the desired-count check's)

    def row(self) -> dict:
        return {"service": self.service, "status": self.status, "desired": self.desired, "running": self.running,
                "minimum": self.minimum, "minimum from": self.source}


def minimums(found: list[ServiceState], configured: dict[str, int | None],
             scaling: dict[str, int]) -> list[Minimum]:
    """Each service's running count against its minimum: configured min_running, else its Auto Scaling
    MinCapacity, else 1. Desired is not the yardstick: a service scaled to 0 runs all it is asked to."""
    out = []
    for s in found:
        if configured.get(s.name) is not None:
            minimum, source = configured[s.name], "services.ecs.services min_running"
        elif s.name in scaling:
            minimum, source = scaling[s.name], "autoscaling MinCapacity"
        else:
            minimum, source = DEFAULT_MINIMUM, "default (no scalable target)"
        out.append(Minimum(s.name, s.status, s.desired, s.running, minimum, source))
    return out
