"""Load balancer target groups and the health of every registered target (DescribeTargetHealth). Read-only.

    >>> [t.state for t in target_health(elbv2, "backend-tg")]
    ['healthy', 'healthy']
"""

from dataclasses import dataclass

from ..connect import aws_call


@dataclass(frozen=True)
class TargetHealth:
    target_group: str
    target: str
    """id:port (an instance id, an IP address or a Lambda ARN)."""
    state: str
    reason: str = ""
    description: str = ""

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


def target_group_arn(elbv2, name_or_arn: str) -> tuple[str, str]:
    """(ARN, name) of a target group given either."""
    if name_or_arn.startswith("arn:"):
        tg = aws_call(f"elbv2 describe-target-groups {name_or_arn}", elbv2.describe_target_groups,
                      TargetGroupArns=[name_or_arn])["TargetGroups"][0]
    else:
        tg = aws_call(f"elbv2 describe-target-groups {name_or_arn}", elbv2.describe_target_groups,
                      Names=[name_or_arn])["TargetGroups"][0]
    return tg["TargetGroupArn"], tg["TargetGroupName"]


def target_health(elbv2, name_or_arn: str) -> list[TargetHealth]:
    arn, name = target_group_arn(elbv2, name_or_arn)
    resp = aws_call(f"elbv2 describe-target-health {name}", elbv2.describe_target_health, TargetGroupArn=arn)
    out = []
    for d in resp.get("TargetHealthDescriptions", []):
        t, h = d.get("Target", {}), d.get("TargetHealth", {})
        target = f"{t.get('Id')}:{t.get('Port')}" if t.get("Port") else str(t.get("Id"))
        out.append(TargetHealth(name, target, h.get("State", "unknown"), h.get("Reason", ""),
                                h.get("Description", "")))
    return sorted(out, key=lambda x: x.target)
