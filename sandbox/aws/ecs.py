"""ECS services that actually reach their desired count.

What moto 5.2.5 does: a new service has runningCount 0 and pendingCount = desiredCount forever, its PRIMARY
deployment stays IN_PROGRESS, and UpdateService with a new task definition leaves the deployment's taskDefinition
and counts as they were.

What this overlay adds, on DescribeServices and UpdateService replies (and DescribeClusters' task counts): the
service is steady, i.e. runningCount == desiredCount, pendingCount 0, one PRIMARY deployment on the service's
current task definition with rolloutState COMPLETED, and a "has reached a steady state" event; unless an override
says otherwise. Tasks themselves (ListTasks, DescribeTasks) stay moto's: there are none. DescribeServices with
more than 10 services is refused (InvalidParameterException), as AWS does; moto would answer it.

Faults (admin API):

    POST /_sandbox/ecs/service {"cluster": C, "service": S, ...fields}
        runningCount, pendingCount, failedTasks, rolloutState (IN_PROGRESS|FAILED|COMPLETED), rolloutStateReason:
            the PRIMARY deployment's values (the service's counts are the sum over its deployments);
        activeDeployment: {"taskDefinition": ARN (default: the previous revision), "runningCount": N}
            a second, ACTIVE deployment still running the old task definition (a rollout in progress);
        circuitBreakerRollback: true (or {"failedTasks": N, "rollbackTo": ARN})
            the last deployment failed and the circuit breaker rolled back: the PRIMARY runs the previous revision,
            the failed deployment is ACTIVE with rolloutState FAILED, and the events say so;
        taskSet: {"stabilityStatus": "STABILIZING", "runningCount": N, "pendingCount": N}
            (CODE_DEPLOY / EXTERNAL services) the PRIMARY task set's values;
        replacementTaskSet: {"stabilityStatus": ..., "runningCount": N, "scale": PERCENT, "taskDefinition": ARN}
            a second, ACTIVE task set beside the PRIMARY one (a blue/green replacement CodeDeploy is starting);
        "clear": true drops the service's override.
    POST /_sandbox/ecs/rollout-seconds {"seconds": 2.0}
        how long a deployment started by UpdateService stays IN_PROGRESS (default 2 s).

Services whose deploymentController is CODE_DEPLOY or EXTERNAL have no ``deployments`` (so no rolloutState), as on
AWS: their state is their task sets' (``taskSets``: status PRIMARY/ACTIVE/DRAINING, stabilityStatus STEADY_STATE or
STABILIZING, computedDesiredCount = desiredCount x scale). Moto keeps the task sets without counts; the overlay
gives them steady counts (running = computed desired) unless an override says otherwise.

Deployments: UpdateService with forceNewDeployment or a new task definition starts a new PRIMARY deployment (a new
id, createdAt now), as ECS does; for rollout-seconds it is IN_PROGRESS with the previous deployment ACTIVE beside
it, then COMPLETED alone. Fault overrides apply on top of it.
"""

import hashlib
import time
import uuid

from .overlay import (AdminError, Call, Overlay, Reply, admin, epoch, handles, json_error, moto_backend,
                      need, now)

FIELDS = {"runningCount": int, "pendingCount": int, "failedTasks": int, "rolloutState": str,
          "rolloutStateReason": str, "activeDeployment": dict, "circuitBreakerRollback": (bool, dict),
          "taskSet": dict, "replacementTaskSet": dict}
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
ROLLOUT_SECONDS = 2.0
DESCRIBE_SERVICES_MAX = 10
"""DescribeServices takes at most 10 services (botocore's model says so; AWS answers InvalidParameterException,
'service names can have at most 10 items.'). Moto takes any number: the overlay refuses like AWS."""


class Ecs(Overlay):
    name = "ecs"

    def initial_state(self) -> dict:
        # "cluster/service" -> override fields; "cluster/service" -> the latest deployment UpdateService started
        return {"services": {}, "rollouts": {}, "rollout_seconds": ROLLOUT_SECONDS}

    @handles("ecs", "DescribeServices")
    def describe_services(self, call: Call) -> Reply:
        if len(call.json.get("services") or []) > DESCRIBE_SERVICES_MAX:
            return json_error("InvalidParameterException",
                              f"service names can have at most {DESCRIBE_SERVICES_MAX} items.")
        reply = call.forward()
        if reply.ok:
            data = reply.json()
            data["services"] = [self.present(svc) for svc in data.get("services", [])]
            reply.with_json(data)
        return reply

    @handles("ecs", "UpdateService")
    def update_service(self, call: Call) -> Reply:
        body = call.json
        cluster = str(body.get("cluster") or "default").rsplit("/", 1)[-1]
        service = str(body.get("service", "")).rsplit("/", 1)[-1]
        before = self._task_definition(call.region, cluster, service)
        reply = call.forward()
        after = self._task_definition(call.region, cluster, service) if reply.ok else None
        if reply.ok and before and (body.get("forceNewDeployment") or after != before):
            with self.lock:
                self.state["rollouts"][f"{cluster}/{service}"] = {
                    "id": "ecs-svc/" + str(uuid.uuid4().int % 10 ** 19), "started": time.time(),
                    "taskDefinition": after, "previous": before}
        if reply.ok:
            data = reply.json()
            if "service" in data:
                data["service"] = self.present(data["service"])
            reply.with_json(data)
        return reply

    @handles("ecs", "DescribeClusters")
    def describe_clusters(self, call: Call) -> Reply:
        """The clusters' counts agree with the services' (moto counts their tasks as pending and no service as
        active)."""
        reply = call.forward()
        if not reply.ok:
            return reply
        data = reply.json()
        backend = moto_backend("ecs", call.region)
        for cluster in data.get("clusters", []):
            running = pending = active = 0
            for svc in backend.services.values():
                if svc.cluster_name != cluster.get("clusterName") or svc.status != "ACTIVE":
                    continue
                active += 1
                shown = self.present({"clusterArn": svc.cluster_arn, "serviceName": svc.name,
                                      "desiredCount": svc.desired_count, "taskDefinition": svc.task_definition,
                                      "deployments": [{**d, "createdAt": epoch(d["createdAt"])}
                                                      for d in svc.deployments]})
                running += shown["runningCount"]
                pending += shown["pendingCount"]
            cluster.update(runningTasksCount=running, pendingTasksCount=pending, activeServicesCount=active)
        return reply.with_json(data)

    @staticmethod
    def _task_definition(region: str, cluster: str, service: str) -> str | None:
        try:
            backend = moto_backend("ecs", region)
            svc = backend.services.get(f"{cluster}:{service}")
            return svc.task_definition if svc is not None else None
        except Exception:  # noqa: BLE001 - only used to notice a new deployment
            return None

    # ---- what a steady (or overridden) service looks like ------------------------------------------------------------
    def present(self, svc: dict) -> dict:
        cluster = svc.get("clusterArn", "").rsplit("/", 1)[-1]
        key = f"{cluster}/{svc.get('serviceName')}"
        with self.lock:
            override = dict(self.state["services"].get(key, {}))
            rollout = dict(self.state["rollouts"].get(key, {}))
            rollout_s = float(self.state.get("rollout_seconds", ROLLOUT_SECONDS))
        deployments = svc.get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is not None and rollout:
            # the deployment UpdateService started: a new id; in progress beside the previous one for a while
            primary = {**primary, "id": rollout["id"], "createdAt": rollout["started"]}
            elapsed = time.time() - rollout["started"]
            if elapsed < rollout_s:
                desired = svc.get("desiredCount", 0)
                progress = {"activeDeployment": {"taskDefinition": rollout["previous"], "runningCount": desired},
                            "runningCount": int(desired * elapsed / rollout_s), "rolloutState": "IN_PROGRESS"}
                override = {**progress, **override}
        if primary is None:  # not an ECS deployment controller: no deployments, its task sets say how it is
            if svc.get("taskSets") or override.get("replacementTaskSet"):
                return self.present_task_sets(svc, override)
            svc["runningCount"] = override.get("runningCount", svc.get("desiredCount", 0))
            svc["pendingCount"] = override.get("pendingCount", 0)
            return svc
        desired = svc.get("desiredCount", 0)
        task_def = svc.get("taskDefinition")
        created = primary.get("createdAt") or epoch(now())
        rollback = override.get("circuitBreakerRollback")
        events = list(svc.get("events") or [])
        name = svc.get("serviceName")

        if rollback:
            opts = rollback if isinstance(rollback, dict) else {}
            failed_td = task_def
            task_def = opts.get("rollbackTo") or previous_revision(task_def)
            failed = deployment(primary["id"], "ACTIVE", failed_td, desired, running=0, pending=0,
                                failed_tasks=opts.get("failedTasks", 3), state="FAILED",
                                reason=CIRCUIT_BREAKER_REASON, created=created, like=primary)
            new_id = deployment_id(primary["id"] + ":rollback")
            running = override.get("runningCount", desired)
            primary = deployment(new_id, "PRIMARY", task_def, desired, running=running,
                                 pending=override.get("pendingCount", max(desired - running, 0)),
                                 failed_tasks=0, state=override.get("rolloutState", "COMPLETED"),
                                 reason=override.get("rolloutStateReason"), created=created + 60, like=primary)
            deployments = [primary, failed]
            svc["taskDefinition"] = task_def
            t = created + 60
            events = [event(f"(service {name}) rolling back to deployment {new_id}.", t),
                      event(f"(service {name}) (deployment {failed['id']}) deployment failed: tasks failed to "
                            f"start.", t - 1)] + events
        else:
            active = override.get("activeDeployment")
            old_running = active.get("runningCount", desired) if active else 0
            running = override.get("runningCount", max(desired - old_running, 0) if active else desired)
            pending = override.get("pendingCount", max(desired - running, 0))
            state = override.get("rolloutState") or ("COMPLETED" if running >= desired and not active
                                                     else "IN_PROGRESS")
            primary = deployment(primary["id"], "PRIMARY", task_def, desired, running=running, pending=pending,
                                 failed_tasks=override.get("failedTasks", 0), state=state,
                                 reason=override.get("rolloutStateReason"), created=created, like=primary)
            deployments = [primary]
            if active:
                old = deployment(deployment_id(primary["id"] + ":active"), "ACTIVE",
                                 active.get("taskDefinition") or previous_revision(task_def), desired,
                                 running=old_running, pending=0, failed_tasks=0,
                                 state="COMPLETED", reason=None, created=created - 86400, like=primary)
                deployments.append(old)
            if state == "COMPLETED" and not events:
                events = [event(f"(service {name}) has reached a steady state.", created + 120)]

        svc["deployments"] = deployments
        svc["runningCount"] = sum(d["runningCount"] for d in deployments)
        svc["pendingCount"] = sum(d["pendingCount"] for d in deployments)
        svc["events"] = events
        return svc

    @staticmethod
    def present_task_sets(svc: dict, override: dict) -> dict:
        desired = svc.get("desiredCount", 0)
        sets = [dict(t) for t in svc.get("taskSets") or []]
        extra = override.get("replacementTaskSet")
        if extra and sets:
            like = sets[0]
            sets.append({**like, "id": deployment_id(like.get("id", "") + ":replacement"),
                         "taskSetArn": like.get("taskSetArn", "") + "-replacement", "status": "ACTIVE",
                         "taskDefinition": extra.get("taskDefinition") or like.get("taskDefinition"),
                         "externalId": like.get("externalId", "") + "-replacement",
                         "scale": {"value": float(extra.get("scale", 100.0)), "unit": "PERCENT"},
                         "createdAt": epoch(now()), "_override": extra})
        for t in sets:
            o = t.pop("_override", None) or (override.get("taskSet") or {} if t.get("status") == "PRIMARY" else {})
            computed = int(desired * float((t.get("scale") or {}).get("value", 100.0)) / 100)
            running = o.get("runningCount", computed)
            t.update(computedDesiredCount=computed, runningCount=running,
                     pendingCount=o.get("pendingCount", max(computed - running, 0)),
                     stabilityStatus=o.get("stabilityStatus", "STEADY_STATE"))
        svc["taskSets"] = sets
        svc["runningCount"] = sum(t["runningCount"] for t in sets)
        svc["pendingCount"] = sum(t["pendingCount"] for t in sets)
        return svc

    # ---- admin -----------------------------------------------------------------------------------------------------
    @admin("ecs/service")
    def set_service(self, payload: dict) -> dict:
        cluster, service = need(payload, "cluster"), need(payload, "service")
        name = f"{cluster.rsplit('/', 1)[-1]}/{service.rsplit('/', 1)[-1]}"
        with self.lock:
            if payload.get("clear"):
                self.state["services"].pop(name, None)
                return {"service": name, "override": None}
            fields = {}
            for key, value in payload.items():
                if key in ("cluster", "service", "clear"):
                    continue
                if key not in FIELDS:
                    raise AdminError(f"unknown field {key!r} (known: {', '.join(FIELDS)})")
                need(payload, key, FIELDS[key])
                fields[key] = value
            if fields.get("rolloutState") not in (None, "IN_PROGRESS", "FAILED", "COMPLETED"):
                raise AdminError("rolloutState must be IN_PROGRESS, FAILED or COMPLETED")
            merged = {**self.state["services"].get(name, {}), **fields}
            self.state["services"][name] = merged
            return {"service": name, "override": merged}

    @admin("ecs/rollout-seconds")
    def set_rollout_seconds(self, payload: dict) -> dict:
        seconds = need(payload, "seconds", (int, float))
        if seconds < 0:
            raise AdminError("seconds must not be negative")
        with self.lock:
            self.state["rollout_seconds"] = float(seconds)
        return {"rollout_seconds": float(seconds)}


def deployment(dep_id: str, status: str, task_def: str, desired: int, *, running: int, pending: int,
               failed_tasks: int, state: str, reason: str | None, created: float, like: dict) -> dict:
    d = {k: v for k, v in like.items() if k not in ("id", "status", "taskDefinition")}
    d.update(id=dep_id, status=status, taskDefinition=task_def, desiredCount=desired if status == "PRIMARY" else 0,
             runningCount=running, pendingCount=pending, failedTasks=failed_tasks, rolloutState=state,
             createdAt=created, updatedAt=created + (120 if state != "IN_PROGRESS" else 0))
    d["rolloutStateReason"] = reason or {
        "COMPLETED": f"ECS deployment {dep_id} completed.",
        "IN_PROGRESS": f"ECS deployment {dep_id} in progress.",
        "FAILED": f"ECS deployment {dep_id} failed.",
    }.get(state, "")
    return d


def event(message: str, at: float) -> dict:
    return {"id": hashlib.md5(message.encode()).hexdigest()[:8] + "-0000-4000-8000-000000000000",
            "createdAt": at, "message": message}


def deployment_id(seed: str) -> str:
    return "ecs-svc/" + str(int(hashlib.sha1(seed.encode()).hexdigest()[:15], 16))


def previous_revision(task_def_arn: str | None) -> str | None:
    """family:N -> family:N-1 (N itself when it is the first revision)."""
    if not task_def_arn or ":" not in task_def_arn:
        return task_def_arn
    base, rev = task_def_arn.rsplit(":", 1)
    return f"{base}:{max(int(rev) - 1, 1)}" if rev.isdigit() else task_def_arn

