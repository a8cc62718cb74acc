"""Post-maintenance: 'Verify all services healthy' at the load balancer: every registered target is healthy."""

import pytest

from opsproof.probes import elbv2

pytestmark = [pytest.mark.services]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_load_balancer_targets_healthy(env, aws, evidence):
    """Every target registered in each target group (services.load_balancing.target_groups) is healthy."""
    cfg = env.services.load_balancing
    if not cfg.target_groups:
        pytest.skip(f"{env.file} lists no services.load_balancing.target_groups")
    found = [t for name in cfg.target_groups for t in elbv2.target_health(aws("elbv2"), name)]
    evidence.table("targets", found)
    problems = [f"{t.target_group} target {t.target} is {t.state}"
                + (f" ({t.reason}: {t.description})" if t.reason else "") for t in found if not t.healthy]
    for name in cfg.target_groups:
        n = sum(1 for t in found if t.target_group == name or name.endswith(f"/{t.target_group}"))
        if n < cfg.min_targets:
            problems.append(f"{name} has {n} registered target(s), fewer than services.load_balancing.min_targets="
                            f"{cfg.min_targets}")
    assert not problems, "; ".join(problems)
