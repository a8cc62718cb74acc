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

    @property
    def settling(self) -> bool:
        """In a state AWS leaves by itself: ``draining`` (deregistered, connections drain for the target group's
        deregistration delay, 300 s by default, then the target is gone) or ``initial`` (registering)."""
        return self.state in SETTLING


SETTLING = ("draining", "initial")


def target_problems(found: list[TargetHealth], target_groups: list[str], min_targets: int, waited_s: float,
                    settle_s: float) -> list[str]:
    """What is wrong with the target groups once settling targets were waited for (``waited_s``) up to
    ``settle_s``: every target not healthy (a draining or initial one: still so after the wait), and groups with
    fewer than ``min_targets`` targets that are not draining away.

    >>> t = [TargetHealth("tg", "10.0.0.1:80", "healthy"), TargetHealth("tg", "10.0.0.2:80", "draining",
    ...      "Target.DeregistrationInProgress", "Target deregistration is in progress")]
    >>> target_problems(t, ["tg"], 2, 6.1, 6)
    ['tg target 10.0.0.2:80 is still draining after 6 s (services.load_balancing.settle_s=6) (Target.DeregistrationInProgress: Target deregistration is in progress)', 'tg has 1 registered target(s) not draining, fewer than services.load_balancing.min_targets=2']
    """
    problems = []
    for t in found:
        if t.healthy:
            continue
        state = (f"still {t.state} after {waited_s:.0f} s (services.load_balancing.settle_s={settle_s:g})"
                 if t.settling else t.state)
        problems.append(f"{t.target_group} target {t.target} is {state}"
                        + (f" ({t.reason}: {t.description})" if t.reason else ""))
    for name in target_groups:
        n = sum(1 for t in found if (t.target_group == name or name.endswith(f"/{t.target_group}"))
                and t.state != "draining")
        if n < min_targets:
            problems.append(f"{name} has {n} registered target(s) not draining, fewer than "
                            f"services.load_balancing.min_targets={min_targets}")
    return problems


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
