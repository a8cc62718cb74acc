"""Post-maintenance: 'Verify all services healthy' at the load balancer: every registered target is healthy."""

import pytest

from opsproof import findings
from opsproof.eventually import eventually
from opsproof.probes import elbv2
from opsproof.rules import services as rules

pytestmark = [pytest.mark.services]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_load_balancer_targets_healthy(env, aws, evidence):
    """Every target registered in each target group (services.load_balancing.target_groups) is healthy; targets
    still draining or registering are waited for up to services.load_balancing.settle_s."""
    cfg = env.services.load_balancing
    if not cfg.target_groups:
        pytest.skip(f"{env.file} lists no services.load_balancing.target_groups")
    elb = aws("elbv2", "services")
    # after a deploy the old tasks' targets drain for the deregistration delay, then are gone: wait for them
    look = eventually(lambda: [t for name in cfg.target_groups for t in elbv2.target_health(elb, name)],
                      ok=lambda ts: not any(t.settling for t in ts), timeout_s=cfg.settle_s,
                      every_s=cfg.settle_every_s)
    evidence.table("targets", look.value)
    evidence.value("waited for draining/initial targets", look.waited_s, "s")
    findings.expect_no_alarm(rules.targets(look.value, cfg, look.waited_s), evidence)
