"""Elastic Load Balancing v2: the listeners with their certificates and SSL policies, and the target groups with
the health of every registered target (Describe* calls only).

    >>> [l.default_certificate for l in listeners(aws("elbv2"), "prod-alb") if l.protocol == "HTTPS"]
    ['arn:aws:acm:us-east-1:123456789012:certificate/5c1f…']
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


# ---- listeners and their certificates -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listener:
    arn: str
    load_balancer: str
    port: int
    protocol: str
    ssl_policy: str | None
    policy_protocols: tuple[str, ...]
    default_certificate: str | None
    extra_certificates: tuple[str, ...]


def load_balancer_arn(elb, name_or_arn: str) -> str | None:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    try:
        found = aws_call(f"elbv2 describe-load-balancers {name_or_arn}", elb.describe_load_balancers,
                         Names=[name_or_arn])["LoadBalancers"]
    except elb.exceptions.LoadBalancerNotFoundException:
        return None
    return found[0]["LoadBalancerArn"] if found else None


def listeners(elb, name_or_arn: str) -> list[Listener]:
    """The load balancer's listeners with their certificates (default and SNI) and SSL policy protocols; [] when
    there is no such load balancer."""
    lb_arn = load_balancer_arn(elb, name_or_arn)
    if lb_arn is None:
        return []
    name = lb_arn.split("/")[-2] if "/app/" in lb_arn or "/net/" in lb_arn else name_or_arn
    found = aws_call(f"elbv2 describe-listeners {name}", _all, elb, "describe_listeners", "Listeners",
                     LoadBalancerArn=lb_arn)
    policies = {}
    out = []
    for l in found:
        default = (l.get("Certificates") or [{}])[0].get("CertificateArn")
        extra: tuple[str, ...] = ()
        policy = l.get("SslPolicy")
        if l.get("Protocol") in ("HTTPS", "TLS"):
            certs = aws_call(f"elbv2 describe-listener-certificates {l['ListenerArn']}", _all, elb,
                             "describe_listener_certificates", "Certificates", ListenerArn=l["ListenerArn"])
            extra = tuple(c["CertificateArn"] for c in certs if not c.get("IsDefault")
                          and c["CertificateArn"] != default)
            if policy and policy not in policies:
                policies[policy] = ssl_policy_protocols(elb, policy)
        out.append(Listener(l["ListenerArn"], name, int(l.get("Port", 0)), l.get("Protocol", ""), policy,
                            policies.get(policy, ()), default, extra))
    return out


def _all(client, operation: str, key: str, **kwargs) -> list:
    """Every page's items (ELBv2 pages by Marker, up to 400 a page)."""
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def ssl_policy_protocols(elb, policy: str) -> tuple[str, ...]:
    """The protocols an ELB SSL policy enables, as AWS describes it (e.g. ('TLSv1.2', 'TLSv1.3'))."""
    try:
        found = aws_call(f"elbv2 describe-ssl-policies {policy}", elb.describe_ssl_policies,
                         Names=[policy])["SslPolicies"]
    except elb.exceptions.SSLPolicyNotFoundException:
        return ()
    return tuple(sorted(found[0].get("SslProtocols", []))) if found else ()
