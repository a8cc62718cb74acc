"""The services rules on hand-built facts: ECS rollout, rollbacks, desired count, minimum and image; the target
groups' health; CloudWatch alarms and the watch; the API's health and the smoke tests' answers and latency. Each
way to fail is one alarm naming the service, target, alarm or request. No sandbox."""

import datetime as dt

import pytest

from opsproof.config.services import Api, Ecs, LoadBalancing, Monitoring, Smoke
from opsproof.probes import ecs
from opsproof.probes.cloudwatch import Alarm, Transition
from opsproof.probes.elbv2 import TargetHealth
from opsproof.probes.http import Response
from opsproof.probes.smoke import SmokeResult
from opsproof.rules import services as rules
from tests.unit.alarm_lines import alarms, one_alarm

ECS = Ecs(services=["backend-service", "worker-service"], settle_s=60, rollback_lookback=dt.timedelta(hours=24))
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0"


def dep(status="PRIMARY", rollout="COMPLETED", reason="", id="ecs-svc/1", running=2, desired=2):
    return ecs.Deployment(id, status, "arn:td/backend:7", desired, running, 0, 0, rollout, reason, "2026-12-03")


def svc(name="backend-service", status="ACTIVE", desired=2, running=2, pending=0, deployments=None, images=(IMAGE,),
        rollbacks=(), controller="ECS", task_sets=()) -> ecs.ServiceState:
    return ecs.ServiceState("prod-cluster", name, status, desired, running, pending, "arn:td/backend:7",
                            list(deployments if deployments is not None else [dep()]), list(images),
                            list(rollbacks), controller, list(task_sets))


def task_set(status="PRIMARY", stability="STEADY_STATE", desired=2, running=2):
    return ecs.TaskSet(f"ts-{status}", status, stability, "arn:td/backend:7", desired, running, 0, 100.0)


# ---- rollout --------------------------------------------------------------------------------------------------------
def test_finished_rollouts_are_ok_one_finding_per_service():
    found = rules.rollout([svc(), svc("render", controller="EXTERNAL", deployments=[], task_sets=[task_set()])], ECS)
    assert not alarms(found) and [f.subject for f in found] == ["backend-service", "render"]


def test_a_second_deployment_is_a_rollout_in_progress():
    one_alarm(rules.rollout([svc(deployments=[dep(rollout="IN_PROGRESS"), dep("ACTIVE", id="ecs-svc/0")])], ECS),
              "backend-service: 2 deployment(s), PRIMARY IN_PROGRESS", "after 60s", "(services.ecs.settle_s)")


def test_a_failed_primary_says_why():
    one_alarm(rules.rollout([svc(deployments=[dep(rollout="FAILED", reason="circuit breaker tripped")])], ECS),
              "PRIMARY FAILED (circuit breaker tripped)")


def test_a_missing_service_names_its_status():
    one_alarm(rules.rollout([svc(status="MISSING", deployments=[])], ECS), "backend-service: MISSING 0 deployment")


def test_code_deploy_with_two_task_sets_is_not_finished():
    s = svc("canary", controller="CODE_DEPLOY", deployments=[],
            task_sets=[task_set(), task_set("ACTIVE", "STABILIZING", running=0)])
    one_alarm(rules.rollout([s], ECS), "canary: CODE_DEPLOY: 2 task set(s), PRIMARY STEADY_STATE (2 of 2 running)",
              "ACTIVE task set STABILIZING (0 of 2 running)")


def test_an_external_task_set_stabilizing_is_not_finished():
    s = svc("render", controller="EXTERNAL", deployments=[], task_sets=[task_set(stability="STABILIZING", running=1)])
    one_alarm(rules.rollout([s], ECS), "render: EXTERNAL: 1 task set(s), PRIMARY STABILIZING (1 of 2 running)")


# ---- rollbacks ------------------------------------------------------------------------------------------------------
def test_no_rollback_is_ok_and_says_the_lookback():
    (f,) = rules.not_rolled_back([svc()], ECS)
    assert f.status == "ok" and f.reason == "no failed deployment or rollback within 1d", f


def test_a_failed_deployment_is_an_alarm_with_the_force_deploy_action():
    line = one_alarm(rules.not_rolled_back([svc(deployments=[dep(), dep("ACTIVE", "FAILED", "tasks failed to "
                                                                        "start", "ecs-svc/0")])], ECS),
                     "deployment ecs-svc/0 FAILED (tasks failed to start)")
    assert "python -m actions force-deploy --services backend-service" in line


def test_rollback_events_are_alarms_two_at_most():
    events = [ecs.Event(f"2026-12-03T0{i}:00:00+00:00", "(service backend-service) deployment circuit breaker: "
                        "rolling back") for i in range(3)]
    found = alarms(rules.not_rolled_back([svc(rollbacks=events)], ECS))
    assert len(found) == 2 and all("rolling back" in f and "(services.ecs.rollback_lookback)" in f for f in found)


# ---- desired count --------------------------------------------------------------------------------------------------
def test_running_the_desired_count_is_ok_and_more_is_fine():
    assert not alarms(rules.desired_count([svc(), svc("w", desired=1, running=2)], ECS))


def test_running_fewer_than_desired_is_an_alarm():
    one_alarm(rules.desired_count([svc(running=1)], ECS), "backend-service: runs 1 of 2 desired (0 pending)",
              "(services.ecs.settle_s)")


def test_pending_tasks_are_not_steady():
    one_alarm(rules.desired_count([svc(running=2, pending=1)], ECS), "runs 2 of 2 desired (1 pending)")


@pytest.mark.parametrize("status", ["MISSING", "INACTIVE", "DRAINING"])
def test_a_service_not_active_is_an_alarm(status):
    one_alarm(rules.desired_count([svc(status=status)], ECS), f"backend-service: is {status}")


def test_steady_is_what_desired_count_waits_for():
    assert rules.steady(svc()) and not rules.steady(svc(running=1)) and not rules.steady(svc(status="DRAINING"))


# ---- minimum --------------------------------------------------------------------------------------------------------
def test_below_the_minimum_is_an_alarm_naming_where_the_minimum_comes_from():
    m = ecs.minimums([svc("worker-service", desired=0, running=0)], {}, {"worker-service": 1})
    one_alarm(rules.minimums(m), "worker-service: runs 0 (desired 0), below its minimum 1 (autoscaling "
              "MinCapacity)", "(services.ecs.services.min_running)", "--desired-count 1")


def test_at_the_minimum_is_ok_and_a_configured_zero_allows_zero():
    m = ecs.minimums([svc(desired=2, running=2), svc("w", desired=0, running=0)], {"w": 0}, {"backend-service": 2})
    assert not alarms(rules.minimums(m))


# ---- image ----------------------------------------------------------------------------------------------------------
def test_the_expected_tag_is_ok():
    assert not alarms(rules.expected_images([svc()], ECS.model_copy(update={"expected_tag": "v1.2.0"})))


def test_another_tag_is_an_alarm_naming_the_key():
    old = IMAGE.replace("v1.2.0", "v1.1.9")
    one_alarm(rules.expected_images([svc(images=[old])], ECS.model_copy(update={"expected_tag": "v1.2.0"})),
              "backend-service: runs backend:v1.1.9, expected v1.2.0", "(services.ecs.expected_tag)", "force-deploy")


def test_a_service_own_image_overrides_the_tag():
    cfg = Ecs(services=[{"name": "backend-service", "image": "backend:v1.3.0"}], expected_tag="v1.2.0")
    one_alarm(rules.expected_images([svc()], cfg), "expected backend:v1.3.0", "(services.ecs.services.image)")


def test_no_image_is_an_alarm_and_nothing_expected_is_ok():
    one_alarm(rules.expected_images([svc(images=[])], ECS.model_copy(update={"expected_tag": "v1.2.0"})),
              "runs no image, expected v1.2.0")
    assert not alarms(rules.expected_images([svc(images=[])], ECS))


def test_one_wrong_container_among_right_ones_fails():
    sidecar = "public.ecr.aws/aws-observability/aws-otel-collector:latest"
    one_alarm(rules.expected_images([svc(images=[IMAGE, sidecar])], ECS.model_copy(update={
        "expected_tag": "v1.2.0"})), "aws-otel-collector:latest")


# ---- load balancer targets ------------------------------------------------------------------------------------------
LB = LoadBalancing(target_groups=["backend-tg"], min_targets=1, settle_s=6)


def t(target, state="healthy", reason="", description=""):
    return TargetHealth("backend-tg", target, state, reason, description)


def test_healthy_targets_are_ok_and_the_group_is_counted():
    found = rules.targets([t("172.31.1.10:8000"), t("172.31.17.10:8000")], LB, 0)
    assert not alarms(found) and found[-1].subject == "backend-tg" and found[-1].measured == 2


@pytest.mark.parametrize("state", ["unhealthy", "unused", "unavailable"])
def test_an_unhealthy_target_is_an_alarm_with_elbs_reason(state):
    one_alarm(rules.targets([t("172.31.1.10:8000"), t("172.31.17.10:8000", state, "Target.ResponseCodeMismatch",
                                                       "Health checks failed with these codes: [502]")], LB, 0),
              f"backend-tg target 172.31.17.10:8000: {state} (Target.ResponseCodeMismatch: Health checks failed")


@pytest.mark.parametrize("state", ["draining", "initial"])
def test_a_target_still_settling_after_the_wait_is_an_alarm(state):
    one_alarm(rules.targets([t("172.31.1.10:8000"), t("172.31.33.10:8000", state)], LB, 6.2),
              f"backend-tg target 172.31.33.10:8000: still {state} after 6 s", "(services.load_balancing.settle_s)")


def test_too_few_targets_not_draining_is_an_alarm():
    found = alarms(rules.targets([], LB, 0))
    assert found == ["backend-tg: 0 registered target(s) not draining, fewer than 1 "
                     "(services.load_balancing.min_targets)"]


def test_a_target_group_named_by_arn_counts_its_targets():
    by_arn = LB.model_copy(update={"target_groups": ["arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/"
                                                     "backend-tg"]})
    assert not alarms(rules.targets([t("172.31.1.10:8000")], by_arn, 0))


# ---- alarms ---------------------------------------------------------------------------------------------------------
MON = Monitoring(alarms=["backend-5xx", "prod-db-cpu-high"])


def a(name, state="OK", reason="", kind="metric"):
    return Alarm(name, state, reason, "2026-12-03T10:00:00+00:00", kind)


def test_alarms_not_firing_are_ok():
    found = rules.alarms([a("backend-5xx"), a("prod-db-cpu-high", "INSUFFICIENT_DATA")], [], MON)
    assert [f.status for f in found] == ["ok", "ok"]


def test_an_alarm_in_alarm_is_an_alarm_with_its_reason():
    one_alarm(rules.alarms([a("backend-5xx", "ALARM", "Threshold Crossed: 1 datapoint"), a("prod-db-cpu-high")],
                           [], MON), "backend-5xx: is ALARM since 2026-12-03T10:00:00+00:00: Threshold Crossed")


def test_a_configured_alarm_not_found_is_an_alarm():
    one_alarm(rules.alarms([a("backend-5xx")], ["prod-db-cpu-high"], MON), "prod-db-cpu-high: alarm not found",
              "(services.monitoring.alarms)")


@pytest.mark.parametrize("which", [["prod-db-cpu-high"], ["*"]])
def test_insufficient_data_fails_where_configured(which):
    cfg = MON.model_copy(update={"insufficient_data_fails": which})
    one_alarm(rules.alarms([a("backend-5xx"), a("prod-db-cpu-high", "INSUFFICIENT_DATA")], [], cfg),
              "prod-db-cpu-high: is INSUFFICIENT_DATA", "(services.monitoring.insufficient_data_fails)")


def test_a_composite_alarm_is_judged_like_a_metric_alarm():
    one_alarm(rules.alarms([a("worker-degraded", "ALARM", "worker-task-failures", "composite")], [], MON),
              "worker-degraded: is ALARM", "worker-task-failures")


def test_a_quiet_watch_is_ok():
    history = [Transition("backend-5xx", "2026-12-03T10:01:00.000+00:00", "INSUFFICIENT_DATA", "OK", "")]
    assert not alarms(rules.watched([a("backend-5xx")], history, MON))


def test_a_transition_into_alarm_while_watching_fails_even_once_recovered():
    history = [Transition("alb-unhealthy-hosts", "2026-12-03T10:01:00.000+00:00", "OK", "ALARM", ""),
               Transition("alb-unhealthy-hosts", "2026-12-03T10:01:01.000+00:00", "ALARM", "OK", "")]
    one_alarm(rules.watched([a("alb-unhealthy-hosts")], history, MON),
              "alb-unhealthy-hosts: went from OK to ALARM at 2026-12-03T10:01:00", "while watching")


def test_an_alarm_firing_at_the_end_of_the_watch_without_history_fails():
    one_alarm(rules.watched([a("backend-5xx", "ALARM")], [], MON), "backend-5xx: is ALARM while watching")


# ---- the API --------------------------------------------------------------------------------------------------------
API = Api(base_url="http://127.0.0.1:18080", health_budget_s=1.0)
URL = "http://127.0.0.1:18080/health"


def test_health_answering_200_within_budget_is_ok_at_the_boundary():
    (f,) = rules.health(Response(URL, 200, 1.0, "ok"), API)
    assert f.status == "ok" and f.subject == URL


def test_health_answering_another_status_is_an_alarm():
    one_alarm(rules.health(Response(URL, 503, 0.01, "Service Unavailable"), API), f"{URL}: answered 503: Service")


def test_health_over_its_budget_is_an_alarm():
    one_alarm(rules.health(Response(URL, 200, 1.5, "ok"), API), "took 1.50s, over its budget of 1s",
              "(services.api.health_budget_s)")


SMOKE = Smoke(samples=20, eventually_s=6)


def result(name="projects", problem=None, p95=120.0, budget=300.0, stopped_early=False, status=200):
    return SmokeResult(name, "GET", f"http://127.0.0.1:18080/api/{name}", 200, None, budget, status=status,
                       problem=problem, attempts=3 if problem else 1, p95_ms=p95, stopped_early=stopped_early)


def test_smoke_answers_as_expected_are_ok():
    assert not alarms(rules.smoke_answers([result(), result("status")], SMOKE))


def test_a_wrong_smoke_answer_is_an_alarm_after_its_retries():
    one_alarm(rules.smoke_answers([result(problem="answered 500, expected 200: 'boom'", p95=None, status=500),
                                   result("status")], SMOKE),
              "projects (GET http://127.0.0.1:18080/api/projects): answered 500, expected 200",
              "after 3 attempt(s) over 6s", "(services.smoke.eventually_s)")


def test_smoke_latency_within_budget_is_ok_at_the_boundary():
    assert not alarms(rules.smoke_latency([result(p95=300.0)], SMOKE))


def test_smoke_latency_over_budget_is_an_alarm():
    one_alarm(rules.smoke_latency([result(p95=412.5)], SMOKE), "projects (GET", "p95 412.5 ms over its budget of "
              "300 ms (20 samples)", "(services.smoke.requests.budget_s)")


def test_sampling_stopped_early_says_at_least():
    one_alarm(rules.smoke_latency([result(p95=900.0, stopped_early=True)], SMOKE), "p95 at least 900 ms")


def test_a_request_never_measured_is_an_error():
    (f,) = rules.smoke_latency([result(problem="answered 500", p95=None)], SMOKE)
    assert f.status == "error" and f.reason == "not measured: answered 500"
