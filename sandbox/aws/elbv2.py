"""ELBv2 target health that can go bad.

What moto 5.2.5 does: DescribeTargetHealth reports every registered target ``healthy`` (an instance target that is
stopped: ``unused``). Nothing ever fails a health check.

What this overlay adds: per-target overrides of TargetHealth (State, Reason, Description) in DescribeTargetHealth.
Healthy by default.

Faults (admin API):

    POST /_sandbox/elbv2/target-health {"target_group": NAME|ARN, "target": ID, "port": 8000 (optional),
                                        "state": "unhealthy"|"draining"|"initial"|"unused"|"unavailable"|null,
                                        "reason": "Target.ResponseCodeMismatch", "description": "...",
                                        "region": "us-east-1", "for_s": 3, "then": "gone"|"healthy"}
        state null clears the override for that target. for_s: the state lasts that many seconds from the first
        DescribeTargetHealth that reports it (a deregistration delay), then the target is "gone" (deregistered:
        DescribeTargetHealth stops listing it, as AWS does once draining ends) or "healthy"; without for_s the state
        lasts until healed.
"""

import time

import xml.etree.ElementTree as ET

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, moto_backend, need

NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
STATES = ("healthy", "unhealthy", "initial", "unused", "draining", "unavailable")
DEFAULT_REASONS = {
    "unhealthy": ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]"),
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused": ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"),
    "unavailable": ("Target.HealthCheckDisabled", "Health checks disabled"),
}


class Elbv2(Overlay):
    name = "elbv2"

    def initial_state(self) -> dict:
        return {"targets": {}}  # target group ARN -> {"id:port" or "id:*": {"State", "Reason", "Description"}}

    @handles("elasticloadbalancing", "DescribeTargetHealth")
    def describe_target_health(self, call: Call) -> Reply:
        reply = call.forward()
        with self.lock:
            overrides = dict(self.state["targets"].get(call.form.get("TargetGroupArn", ""), {}))
        if not reply.ok or not overrides:
            return reply
        ET.register_namespace("", NS)
        root = ET.fromstring(reply.body)
        gone = []
        for member in root.iter(f"{{{NS}}}member"):
            target, health = member.find(f"{{{NS}}}Target"), member.find(f"{{{NS}}}TargetHealth")
            if target is None or health is None:
                continue
            tid, port = target.findtext(f"{{{NS}}}Id"), target.findtext(f"{{{NS}}}Port")
            o = overrides.get(f"{tid}:{port}") or overrides.get(f"{tid}:*")
            if not o:
                continue
            if o.get("for_s") is not None and "until" not in o:
                # the delay runs from the first look, so a slow reader still meets the state it is meant to wait out
                o["until"] = time.time() + o["for_s"]
            if o.get("until") and time.time() >= o["until"]:
                if o.get("then") == "gone":
                    gone.append(member)
                continue
            for child in list(health):
                health.remove(child)
            for tag in ("State", "Reason", "Description"):
                if o.get(tag):
                    ET.SubElement(health, f"{{{NS}}}{tag}").text = o[tag]
        for parent in root.iter(f"{{{NS}}}TargetHealthDescriptions"):
            for member in list(parent):
                if member in gone:
                    parent.remove(member)
        return reply.with_body(ET.tostring(root, encoding="utf-8", xml_declaration=True))

    @admin("elbv2/target-health")
    def set_target_health(self, payload: dict) -> dict:
        tg_arn = self.target_group_arn(need(payload, "target_group"), payload.get("region", "us-east-1"))
        target = need(payload, "target")
        port = payload.get("port")
        key = f"{target}:{port if port is not None else '*'}"
        state = payload.get("state")
        if state is not None and state not in STATES:
            raise AdminError(f"state must be one of {', '.join(STATES)} or null")
        with self.lock:
            group = self.state["targets"].setdefault(tg_arn, {})
            if state is None or state == "healthy" and not payload.get("reason"):
                group.pop(key, None)
                if not group:
                    self.state["targets"].pop(tg_arn)
                return {"target_group": tg_arn, "target": key, "override": None}
            reason, description = DEFAULT_REASONS.get(state, (None, None))
            group[key] = {"State": state, "Reason": payload.get("reason", reason),
                          "Description": payload.get("description", description)}
            if payload.get("for_s") is not None:
                then = payload.get("then", "healthy")
                if then not in ("gone", "healthy"):
                    raise AdminError("then must be 'gone' or 'healthy'")
                group[key].update(for_s=float(payload["for_s"]), then=then)
            return {"target_group": tg_arn, "target": key, "override": group[key]}

    @staticmethod
    def target_group_arn(name_or_arn: str, region: str) -> str:
        groups = moto_backend("elbv2", region).target_groups
        if name_or_arn in groups:
            return name_or_arn
        for arn, tg in groups.items():
            if tg.name == name_or_arn:
                return arn
        raise AdminError(f"no target group {name_or_arn!r} in {region}", 404)
