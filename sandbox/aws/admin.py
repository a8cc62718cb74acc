"""A small client for the sandbox AWS server's admin API (``/_sandbox/...``, JSON over HTTP; standard library only).

Every function takes the server's endpoint URL (``sb.endpoint_url``) first.

    set_replication_status(sb.endpoint_url, "ai-film-studio-media-prod", "media/u1/p1/a.mp4", "FAILED")
    set_ecs_service(sb.endpoint_url, "prod-cluster", "backend-service", runningCount=1)
    reset(sb.endpoint_url)
"""

import json
import time
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_S = 10.0


class AdminError(RuntimeError):
    """The admin API refused a request (its message is the server's) or could not be reached."""


def request(endpoint: str, method: str, route: str, payload: dict | None = None, timeout: float = TIMEOUT_S) -> dict:
    url = f"{endpoint.rstrip('/')}/_sandbox/{route.lstrip('/')}"
    data = json.dumps(payload or {}).encode() if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read()).get("error", "")
        except ValueError:
            message = e.reason
        raise AdminError(f"{method} /_sandbox/{route}: HTTP {e.code}: {message}") from None
    except (urllib.error.URLError, OSError) as e:
        raise AdminError(f"{method} /_sandbox/{route}: cannot reach {endpoint}: {getattr(e, 'reason', e)}") from None


def post(endpoint: str, route: str, payload: dict | None = None, timeout: float = TIMEOUT_S) -> dict:
    """POST a JSON payload to /_sandbox/ROUTE and return the JSON answer."""
    return request(endpoint, "POST", route, payload, timeout)


def get(endpoint: str, route: str, timeout: float = TIMEOUT_S) -> dict:
    return request(endpoint, "GET", route, None, timeout)


# ---- the server ----------------------------------------------------------------------------------------------------
def health(endpoint: str, timeout: float = 1.0) -> bool:
    """True when the server answers its readiness endpoint."""
    try:
        return bool(get(endpoint, "health", timeout).get("ok"))
    except AdminError:
        return False


def wait_ready(endpoint: str, timeout: float = 10.0, interval: float = 0.05) -> float:
    """Wait until the server is ready; returns the seconds waited. Raises AdminError after timeout."""
    start = time.monotonic()
    while not health(endpoint, timeout=1.0):
        if time.monotonic() - start > timeout:
            raise AdminError(f"sandbox AWS server at {endpoint} not ready after {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


def state(endpoint: str) -> dict:
    """Every overlay's current overrides."""
    return get(endpoint, "state")


def reset(endpoint: str) -> dict:
    """Drop every override (S3 keys marked PENDING/FAILED are replicated again): back to healthy production."""
    return post(endpoint, "reset")


# ---- S3 replication ------------------------------------------------------------------------------------------------
def set_replication_status(endpoint: str, bucket: str, key: str, status: str | None,
                           drop_replica: bool = True) -> dict:
    """PENDING/FAILED: the key reports it and (drop_replica) its replica disappears; COMPLETED/None: heal it."""
    return post(endpoint, "s3/replication-status",
                {"bucket": bucket, "key": key, "status": status, "drop_replica": drop_replica})


def pause_replication(endpoint: str, bucket: str, paused: bool = True) -> dict:
    """Paused: new objects stay PENDING. Un-pausing copies them all."""
    return post(endpoint, "s3/replication-paused", {"bucket": bucket, "paused": paused})


def put_objects(endpoint: str, bucket: str, objects: list[dict[str, Any]]) -> dict:
    """Bulk PutObject straight into the backend, replicated like a PUT: [{"key", "body" (text) or "body_b64",
    "content_type", "metadata", "last_modified" (ISO 8601)}]."""
    return post(endpoint, "s3/objects", {"bucket": bucket, "objects": objects}, timeout=60)


# ---- ECS -----------------------------------------------------------------------------------------------------------
def set_ecs_service(endpoint: str, cluster: str, service: str, **fields: Any) -> dict:
    """Override what DescribeServices reports: runningCount, pendingCount, failedTasks, rolloutState,
    rolloutStateReason, activeDeployment={...}, circuitBreakerRollback=True."""
    return post(endpoint, "ecs/service", {"cluster": cluster, "service": service, **fields})


def clear_ecs_service(endpoint: str, cluster: str, service: str) -> dict:
    return post(endpoint, "ecs/service", {"cluster": cluster, "service": service, "clear": True})


# ---- SSM -----------------------------------------------------------------------------------------------------------
def set_patch_state(endpoint: str, *, instance_id: str | None = None, instance_ids: list[str] | None = None,
                    patch_group: str | None = None, **fields: Any) -> dict:
    """Override patch state fields (missing=3, failed=1, operationAgeHours=24*40, pingStatus="ConnectionLost",
    ...) for one instance, several, or a whole patch group; clear=True drops the override."""
    target = ({"instance_id": instance_id} if instance_id else {"instance_ids": instance_ids} if instance_ids
              else {"patch_group": patch_group})
    return post(endpoint, "ssm/patch-state", {**target, **fields})


# ---- ELBv2 ---------------------------------------------------------------------------------------------------------
def set_target_health(endpoint: str, target_group: str, target: str, state: str | None, *, port: int | None = None,
                      reason: str | None = None, description: str | None = None, for_s: float | None = None,
                      then: str | None = None) -> dict:
    """Make a target report State (unhealthy, draining, ...); state None heals it. for_s: only that long, then the
    target is gone (then="gone") or healthy."""
    payload = {"target_group": target_group, "target": target, "state": state}
    for k, v in (("port", port), ("reason", reason), ("description", description), ("for_s", for_s),
                 ("then", then)):
        if v is not None:
            payload[k] = v
    return post(endpoint, "elbv2/target-health", payload)


# ---- RDS -----------------------------------------------------------------------------------------------------------
def put_snapshot(endpoint: str, instance: str, *, age_hours: float = 0, snapshot: str | None = None,
                 type: str = "automated", **fields: Any) -> dict:
    """Create (or change) a DB snapshot stamped age_hours ago; fields: status, encrypted, delete."""
    payload = {"instance": instance, "age_hours": age_hours, "type": type, **fields}
    if snapshot:
        payload["snapshot"] = snapshot
    return post(endpoint, "rds/snapshot", payload)


def set_instance_age(endpoint: str, instance: str, age_days: float) -> dict:
    return post(endpoint, "rds/instance", {"instance": instance, "age_days": age_days})


# ---- Secrets Manager -----------------------------------------------------------------------------------------------
def set_secret_rotated(endpoint: str, secret: str, age_days: float) -> dict:
    """The secret was last rotated age_days ago (moto stamps every rotation "now")."""
    return post(endpoint, "secretsmanager/rotated", {"secret": secret, "age_days": age_days})
