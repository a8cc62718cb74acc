"""The force-deploy action on the sandbox's ECS (whose rollouts take ~2 s, sandbox/aws/ecs.py): the plan changes
nothing; --apply starts a new deployment, waits until it is the only one and COMPLETED, and reports it; a rollout
that never finishes stops the action within its bound, naming the service."""

import time

import pytest

import actions
from actions import StepFailed
from sandbox import faults, lifecycle
from sandbox.aws.seed import ECS_CLUSTER


def primary(sandbox, service):
    s = sandbox.client("ecs").describe_services(cluster=ECS_CLUSTER, services=[service])["services"][0]
    return next(d for d in s["deployments"] if d["status"] == "PRIMARY")["id"], len(s["deployments"])


def test_the_plan_changes_nothing(sandbox):
    before = primary(sandbox, "backend-service")
    report = actions.run("force-deploy", sandbox.env, services=["backend-service"])
    text = report.as_text()
    assert "[planned] aws ecs update-service --cluster prod-cluster --service backend-service " \
           "--force-new-deployment" in text
    assert "[planned] wait until backend-service is stable" in text
    assert primary(sandbox, "backend-service") == before


def test_apply_deploys_and_waits_until_stable(sandbox):
    old, _ = primary(sandbox, "worker-service")
    t0 = time.monotonic()
    report = actions.run("force-deploy", sandbox.env, apply=True, services=["worker-service"])
    assert report.ok, report.as_text()
    [new] = report.result["deployments"]
    assert new["service"] == "worker-service" and new["deployment"] != old
    assert new["seconds"] >= 1.5 and time.monotonic() - t0 < 15  # it waited out the rollout, and no longer
    assert primary(sandbox, "worker-service") == (new["deployment"], 1)
    assert f"new deployment {new['deployment']}" in report.as_text()


def test_a_rollout_that_never_finishes_stops_the_action(sandbox):
    with lifecycle.lock(sandbox):
        faults.apply(sandbox, "rollout-stuck")
    try:
        t0 = time.monotonic()
        with pytest.raises(StepFailed, match=r"worker-service: not stable after 2s \(2 deployment\(s\), PRIMARY "
                                             r"IN_PROGRESS"):
            actions.run("force-deploy", sandbox.env, apply=True, services=["worker-service"], timeout=2)
        assert time.monotonic() - t0 < 6
    finally:
        with lifecycle.lock(sandbox):
            faults.heal(sandbox, "rollout-stuck")


def test_an_unknown_service_is_refused(sandbox):
    with pytest.raises(StepFailed, match="no active service nosuch-service in cluster prod-cluster"):
        actions.run("force-deploy", sandbox.env, services=["nosuch-service"])


def test_services_of_other_deployment_controllers_are_skipped(sandbox):
    """CODE_DEPLOY and EXTERNAL services are deployed by their controller, not by --force-new-deployment."""
    report = actions.run("force-deploy", sandbox.env)
    text = report.as_text()
    assert "skip backend-canary: its deployments are CODE_DEPLOY's" in text
    assert "skip render-service: its deployments are EXTERNAL's" in text
    assert "--service backend-canary" not in text and "--service backend-service" in text
