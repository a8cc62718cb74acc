"""Post-maintenance: 'Verify all services healthy' for the ECS services (runbook: "Deploy via CI/CD or manual update:
aws ecs update-service --cluster prod-cluster --service backend-service --force-new-deployment").

A deployment still in progress is waited for up to services.ecs.settle_s (goss-style `eventually`); what is still
wrong after that fails, naming the service.
"""

import pytest

from opsproof import findings
from opsproof.eventually import eventually
from opsproof.probes import ecs as probe
from opsproof.rules import services as rules

pytestmark = [pytest.mark.services]


@pytest.fixture
def ecs_cfg(env):
    if env.services.ecs is None or not env.services.ecs.services:
        pytest.skip(f"{env.file} has no [services.ecs] services")
    return env.services.ecs


def _look(aws, cfg, ok=None, with_images=False):
    """The services, looked at again (up to settle_s) until ``ok`` holds for each; once when ``ok`` is None."""
    names = [s.name for s in cfg.services]
    look = lambda: probe.services(aws("ecs", "services"), cfg.cluster, names, cfg.rollback_lookback, with_images)
    if ok is None:
        return look()
    return eventually(look, ok=lambda found: all(ok(s) for s in found), timeout_s=cfg.settle_s,
                      every_s=cfg.settle_every_s)


def _waited(evidence, out):
    evidence.value("waited", f"{out.waited_s:g}s over {out.attempts} look(s)")


def _deployments(found):
    return [{"service": s.name, "id": d.id, "status": d.status, "rollout": d.rollout_state,
             "running": d.running, "desired": d.desired, "failed tasks": d.failed_tasks,
             "task definition": d.task_definition.rsplit("/", 1)[-1], "created": d.created_at}
            for s in found for d in s.deployments] + [
        {"service": s.name, "id": t.id, "status": f"task set {t.status}", "rollout": t.stability,
         "running": t.running, "desired": t.computed_desired, "failed tasks": "-",
         "task definition": t.task_definition.rsplit("/", 1)[-1], "created": t.external_id}
        for s in found for t in s.task_sets]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_finished_rollout(aws, ecs_cfg, evidence):
    """Each service has finished its rollout: one PRIMARY deployment, its rollout COMPLETED (CODE_DEPLOY and
    EXTERNAL services, which have no deployments: one PRIMARY task set, steady)."""
    out = _look(aws, ecs_cfg, lambda s: s.rollout_finished)
    evidence.table("services", [s.summary() for s in out.value])
    evidence.table("deployments", _deployments(out.value))
    _waited(evidence, out)
    findings.expect_no_alarm(rules.rollout(out.value, ecs_cfg), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_not_rolled_back(aws, ecs_cfg, evidence):
    """No deployment failed and no circuit breaker rolled a service back (within services.ecs.rollback_lookback)."""
    found = _look(aws, ecs_cfg)
    evidence.table("deployments", _deployments(found))
    evidence.table("rollback events", [{"service": s.name, "at": e.at, "message": e.message}
                                       for s in found for e in s.rollbacks])
    findings.expect_no_alarm(rules.not_rolled_back(found, ecs_cfg), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_desired_count(aws, ecs_cfg, evidence):
    """Each service's running count equals its desired count."""
    out = _look(aws, ecs_cfg, rules.steady)
    evidence.table("services", [s.summary() for s in out.value])
    _waited(evidence, out)
    findings.expect_no_alarm(rules.desired_count(out.value, ecs_cfg), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_their_minimum(aws, ecs_cfg, evidence):
    """Each service runs at least its minimum (services.ecs.services min_running, else its Application Auto Scaling
    MinCapacity, else 1): a service scaled to 0 runs all it is asked to, and serves nothing."""
    configured = {s.name: s.min_running for s in ecs_cfg.services}
    scaling = probe.scaling_minimums(aws("application-autoscaling", "services"), ecs_cfg.cluster, list(configured))
    out = _look(aws, ecs_cfg, lambda s: probe.minimums([s], configured, scaling)[0].ok)
    judged = probe.minimums(out.value, configured, scaling)
    evidence.table("services", [m.row() for m in judged])
    _waited(evidence, out)
    findings.expect_no_alarm(rules.minimums(judged), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_expected_image(aws, ecs_cfg, evidence):
    """After a deploy every service runs the expected image tag (services.ecs.expected_tag or its own image)."""
    if not (ecs_cfg.expected_tag or any(s.image for s in ecs_cfg.services)):
        pytest.skip("neither services.ecs.expected_tag nor a service's image is set")
    found = _look(aws, ecs_cfg, with_images=True)
    evidence.table("images", [{"service": s.name, "images": ", ".join(s.images) or "(none)",
                               "task definition": s.task_definition.rsplit("/", 1)[-1]} for s in found])
    findings.expect_no_alarm(rules.expected_images(found, ecs_cfg), evidence)
