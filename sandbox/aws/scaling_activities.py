"""Application Auto Scaling activity history (capacity planning, issue 8): DescribeScalingActivities.

What moto 5.2.5 does: scalable targets and scaling policies work (RegisterScalableTarget, PutScalingPolicy,
Describe*), but nothing ever scales and DescribeScalingActivities is not implemented (HTTP 500, which botocore
retries).

What this overlay adds: ``DescribeScalingActivities`` answered from an activity history, newest first, filtered by
ServiceNamespace / ResourceId / ScalableDimension, paged like AWS (MaxResults at most 50, NextToken). The history
is the seed's (a daily scale-out in the morning and scale-in at night) plus any a fault adds; ``/_sandbox/reset``
drops only the fault's.

    POST /_sandbox/autoscaling/activities {"activities": [{"resource_id": "service/prod-cluster/backend-service",
              "start": ISO|EPOCH, "to": 4, "from": 2, "end": ..., "status": "Successful", "cause": "...",
              "scalable_dimension": "ecs:service:DesiredCount", "service_namespace": "ecs"}, ...],
              "kind": "history"|"fault"}
        Add activities (kind history: part of healthy production; fault: dropped on heal).
    POST /_sandbox/autoscaling/clear {"kind": "fault"|"all"}
        Drop the fault's activities (or every activity).
"""

import base64
import datetime as dt
import json
import uuid

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, json_error, json_reply, need, parse_time

STATUSES = ("Pending", "InProgress", "Successful", "Overridden", "Unfulfilled", "Failed")
MAX_RESULTS = 50


class ScalingActivities(Overlay):
    name = "scaling-activities"

    def __init__(self):
        super().__init__()
        self.history: list[dict] = []
        self.faults: list[dict] = []

    def initial_state(self) -> dict:
        return {"history": 0, "fault": 0}

    def reset(self) -> None:
        with self.lock:
            self.faults = []
            self.state = {"history": len(self.history), "fault": 0}

    @handles("application-autoscaling", "DescribeScalingActivities")
    def describe_scaling_activities(self, call: Call) -> Reply:
        req = call.json
        ns = req.get("ServiceNamespace")
        if not ns:
            return json_error("ValidationException", "1 validation error detected: Value null at "
                                                     "'serviceNamespace' failed to satisfy constraint: Member must "
                                                     "not be null")
        limit = int(req.get("MaxResults") or MAX_RESULTS)
        if not 1 <= limit <= MAX_RESULTS:
            return json_error("ValidationException", f"MaxResults must be between 1 and {MAX_RESULTS}")
        with self.lock:
            found = [a for a in self.history + self.faults if a["ServiceNamespace"] == ns
                     and req.get("ResourceId") in (None, a["ResourceId"])
                     and req.get("ScalableDimension") in (None, a["ScalableDimension"])]
        found.sort(key=lambda a: a["StartTime"], reverse=True)
        offset = 0
        if req.get("NextToken"):
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(req["NextToken"]))["o"])
            except (ValueError, KeyError, TypeError):
                return json_error("InvalidNextTokenException", "Invalid NextToken")
        page = found[offset:offset + limit]
        body = {"ScalingActivities": page}
        if offset + limit < len(found):
            body["NextToken"] = base64.urlsafe_b64encode(json.dumps({"o": offset + limit}).encode()).decode()
        return json_reply(body)

    @admin("autoscaling/activities")
    def add(self, payload: dict) -> dict:
        kind = payload.get("kind", "history")
        if kind not in ("history", "fault"):
            raise AdminError("kind must be history or fault")
        made = [_activity(a) for a in need(payload, "activities", list)]
        with self.lock:
            (self.history if kind == "history" else self.faults).extend(made)
            self.state = {"history": len(self.history), "fault": len(self.faults)}
        return {"added": len(made), "kind": kind}

    @admin("autoscaling/clear")
    def clear(self, payload: dict) -> dict:
        kind = payload.get("kind", "fault")
        with self.lock:
            if kind == "all":
                self.history = []
            self.faults = []
            self.state = {"history": len(self.history), "fault": 0}
        return {"cleared": kind}


def _activity(a: dict) -> dict:
    if not isinstance(a, dict):
        raise AdminError("each activity must be an object")
    resource = need(a, "resource_id")
    start = parse_time(need(a, "start", (str, int, float)))
    end = parse_time(a.get("end"), start + dt.timedelta(seconds=45))
    status = a.get("status", "Successful")
    if status not in STATUSES:
        raise AdminError(f"status must be one of {', '.join(STATUSES)}")
    to = int(need(a, "to", int))
    frm = a.get("from")
    direction = "out" if frm is None or to > int(frm) else "in"
    cause = a.get("cause") or (
        f"monitor alarm TargetTracking-{resource}-Alarm{'High' if direction == 'out' else 'Low'}-"
        f"{uuid.uuid5(uuid.NAMESPACE_URL, resource)} in state ALARM triggered policy cpu-target-tracking")
    return {"ActivityId": str(uuid.uuid4()), "ServiceNamespace": a.get("service_namespace", "ecs"),
            "ResourceId": resource, "ScalableDimension": a.get("scalable_dimension", "ecs:service:DesiredCount"),
            "Description": f"Setting desired count to {to}.", "Cause": cause, "StartTime": start.timestamp(),
            "EndTime": end.timestamp(), "StatusCode": status,
            "StatusMessage": f"Successfully set desired count to {to}. Change successfully fulfilled by ecs."
            if status == "Successful" else status}


# ---- a client for the admin routes -------------------------------------------------------------------------------
def add_activities(endpoint: str, activities: list[dict], kind: str = "history") -> dict:
    from . import admin as _admin

    return _admin.post(endpoint, "autoscaling/activities", {"activities": activities, "kind": kind}, timeout=60)


def clear_activities(endpoint: str, kind: str = "fault") -> dict:
    from . import admin as _admin

    return _admin.post(endpoint, "autoscaling/clear", {"kind": kind})
