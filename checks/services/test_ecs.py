"""Post-maintenance: 'Verify all services healthy' for the ECS services (runbook: "Deploy via CI/CD or manual update:
aws ecs update-service --cluster prod-cluster --service backend-service --force-new-deployment").

A deployment still in progress is waited for up to services.ecs.settle_s (goss-style `eventually`); what is still
wrong after that fails, naming the service.
"""

import pytest

from opsproof.config.window import format_duration
from opsproof.eventually import eventually
from opsproof.probes import ecs as probe

pytestmark = [pytest.mark.services]


@pytest.fixture
def ecs_cfg(env):
    if env.services.ecs is None or not env.services.ecs.services:
        pytest.skip(f"{env.file} has no [services.ecs] services")
    return env.services.ecs


def _look(aws, cfg, ok, with_images=False):
    names = [s.name for s in cfg.services]
    return eventually(lambda: probe.services(aws("ecs", "services"), cfg.cluster, names, cfg.rollback_lookback, with_images),
                      ok=lambda found: all(ok(s) for s in found), timeout_s=cfg.settle_s, every_s=cfg.settle_every_s)


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
    evidence.value("waited", f"{out.waited_s:g}s over {out.attempts} look(s)")
    bad = [s for s in out.value if not s.rollout_finished]
    assert not bad, (
        f"rollout not finished after {ecs_cfg.settle_s:g}s (services.ecs.settle_s): "
        + "; ".join(f"{s.name} {s.status if s.status != 'ACTIVE' else ''}{s.rollout_summary}"
                    + (f" ({s.primary.reason})" if s.primary and s.primary.reason else "") for s in bad))


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_not_rolled_back(aws, ecs_cfg, evidence):
    """No deployment failed and no circuit breaker rolled a service back (within services.ecs.rollback_lookback)."""
    found = probe.services(aws("ecs", "services"), ecs_cfg.cluster, [s.name for s in ecs_cfg.services],
                           ecs_cfg.rollback_lookback, with_images=False)
    evidence.table("deployments", _deployments(found))
    evidence.table("rollback events", [{"service": s.name, "at": e.at, "message": e.message}
                                       for s in found for e in s.rollbacks])
    bad = [s for s in found if s.failed_deployments or s.rollbacks]
    assert not bad, "; ".join(
        f"{s.name}: " + ", ".join([f"deployment {d.id} {d.rollout_state} ({d.reason})" for d in s.failed_deployments]
                                  + [f"{e.message} at {e.at}" for e in s.rollbacks[:2]])
        for s in bad) + f" (services.ecs.rollback_lookback={format_duration(ecs_cfg.rollback_lookback)})"


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_desired_count(aws, ecs_cfg, evidence):
    """Each service's running count equals its desired count."""
    out = _look(aws, ecs_cfg, lambda s: s.status == "ACTIVE" and s.running >= s.desired and s.pending == 0)
    evidence.table("services", [s.summary() for s in out.value])
    bad = [s for s in out.value if not (s.status == "ACTIVE" and s.running >= s.desired and s.pending == 0)]
    assert not bad, (f"after {ecs_cfg.settle_s:g}s (services.ecs.settle_s): " + "; ".join(
        f"{s.name} {s.status}" if s.status != "ACTIVE" else
        f"{s.name} runs {s.running} of {s.desired} desired ({s.pending} pending)" for s in bad))


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_their_minimum(aws, ecs_cfg, evidence):
    """Each service runs at least its minimum (services.ecs.services min_running, else its Application Auto Scaling
    MinCapacity, else 1): a service scaled to 0 runs all it is asked to, and serves nothing."""
    names = [s.name for s in ecs_cfg.services]
    configured = {s.name: s.min_running for s in ecs_cfg.services}
    scaling = probe.scaling_minimums(aws("application-autoscaling", "services"), ecs_cfg.cluster, names)
    out = _look(aws, ecs_cfg, lambda s: s.running >= probe.minimums([s], configured, scaling)[0].minimum)
    judged = probe.minimums(out.value, configured, scaling)
    evidence.table("services", [m.row() for m in judged])
    evidence.value("waited", f"{out.waited_s:g}s over {out.attempts} look(s)")
    bad = [m for m in judged if not m.ok]
    assert not bad, (f"after {ecs_cfg.settle_s:g}s (services.ecs.settle_s): " + "; ".join(
        f"{m.service} runs {m.running} (desired {m.desired}), below its minimum {m.minimum} ({m.source})"
        for m in bad) + " (services.ecs.services min_running)")


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_ecs_services_run_expected_image(aws, ecs_cfg, evidence):
    """After a deploy every service runs the expected image tag (services.ecs.expected_tag or its own image)."""
    wanted = {s.name: s.image or ecs_cfg.expected_tag for s in ecs_cfg.services}
    if not any(wanted.values()):
        pytest.skip("neither services.ecs.expected_tag nor a service's image is set")
    found = probe.services(aws("ecs", "services"), ecs_cfg.cluster, list(wanted), with_images=True)
    rows, bad = [], []
    for s in found:
        expected = wanted[s.name]
        refs = [probe.parse_image(i) for i in s.images]
        wrong = [r for r in refs if expected and not probe.image_matches(r, expected)]
        rows.append({"service": s.name, "expected": expected or "(not checked)",
                     "running": ", ".join(r.short for r in refs) or "(none)",
                     "task definition": s.task_definition.rsplit("/", 1)[-1]})
        if expected and (wrong or not refs):
            bad.append(f"{s.name} runs {', '.join(r.short for r in refs) or 'no image'}, expected {expected}")
    evidence.table("images", rows)
    assert not bad, "; ".join(bad) + " (services.ecs.expected_tag / services.ecs.services image)"
