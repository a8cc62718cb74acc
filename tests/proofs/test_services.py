"""Proofs of the services checks: each passes on the healthy sandbox and fails under its fault, naming the service,
target, request or alarm. (test_api_health_answers_within_budget's proof is in test_foundation.py.)"""

import threading
import time

from sandbox import faults

faults.all_faults()  # imported before pytester's sys.modules snapshot: a fault module imports numpy, which cannot be
#                      imported twice in one process (tests/conftest.py's sandbox fixture should do this)

SMOKE = "checks/services/test_smoke.py"
ECS = "checks/services/test_ecs.py"


def test_smoke_requests_answer_as_expected(healthy, broken, sandbox):
    healthy.assert_passed("test_smoke_requests_answer_as_expected")
    run = broken("smoke-endpoint-error", SMOKE)
    msg = run.assert_failed("test_smoke_requests_answer_as_expected", "projects",
                            f"http://127.0.0.1:{sandbox.ports.http}/api/projects", "answered 500, expected 200",
                            "services.smoke.eventually_s")
    assert "health (GET" in msg and "answered 503" in msg
    rows = [r for e in run.evidence("test_smoke_requests_answer_as_expected") if e["title"] == "smoke tests"
            for r in e["payload"]]
    assert {r["request"]: r["attempts"] for r in rows}["projects"] > 1  # retried while "settling"


def test_smoke_p95_latency_within_budget(healthy, broken, sandbox):
    healthy.assert_passed("test_smoke_p95_latency_within_budget")
    metrics = next(e["payload"] for e in healthy.evidence("test_smoke_p95_latency_within_budget")
                   if e["kind"] == "json" and e["title"] == "metrics")
    assert set(metrics) == {"smoke.health.p95_ms", "smoke.projects.p95_ms", "smoke.status.p95_ms"}
    assert all(0 < v < 300 for v in metrics.values()), metrics
    run = broken("smoke-endpoint-slow", SMOKE)
    run.assert_failed("test_smoke_p95_latency_within_budget", "projects",
                      f"http://127.0.0.1:{sandbox.ports.http}/api/projects", "over its budget of 300 ms")
    run.assert_passed("test_smoke_requests_answer_as_expected")  # right answers, too slowly


def test_ecs_services_finished_rollout(healthy, broken):
    healthy.assert_passed("test_ecs_services_finished_rollout")
    run = broken("rollout-stuck", ECS)
    msg = run.assert_failed("test_ecs_services_finished_rollout", "worker-service", "2 deployment(s)",
                            "PRIMARY IN_PROGRESS", "services.ecs.settle_s")
    assert "backend-service" not in msg


def test_ecs_services_finished_rollout_other_controllers(healthy, broken):
    """CODE_DEPLOY and EXTERNAL services have no deployments (no rolloutState): judged by their task sets."""
    rows = [r for e in healthy.evidence("test_ecs_services_finished_rollout") if e["title"] == "services"
            for r in e["payload"]]
    assert {r["service"]: r["controller"] for r in rows if r["controller"] != "ECS"} == {
        "backend-canary": "CODE_DEPLOY", "render-service": "EXTERNAL"}  # and the healthy run passed
    run = broken("codedeploy-replacement-stabilizing", ECS)
    msg = run.assert_failed("test_ecs_services_finished_rollout", "backend-canary: CODE_DEPLOY: 2 task set(s)",
                            "PRIMARY STEADY_STATE (2 of 2 running)", "ACTIVE task set STABILIZING (0 of 2 running)",
                            "services.ecs.settle_s")
    assert "render-service" not in msg and "backend-service" not in msg
    run.assert_passed("test_ecs_services_not_rolled_back")


def test_ecs_services_external_controller_stabilizing(broken):
    run = broken("external-task-set-stabilizing", ECS)
    msg = run.assert_failed("test_ecs_services_finished_rollout", "render-service: EXTERNAL: 1 task set(s), PRIMARY "
                            "STABILIZING (1 of 2 running)")
    assert "backend-canary" not in msg
    run.assert_failed("test_ecs_services_run_desired_count", "render-service: runs 1 of 2 desired")


def test_ecs_services_not_rolled_back(healthy, broken):
    healthy.assert_passed("test_ecs_services_not_rolled_back")
    run = broken("rollback-happened", ECS)
    run.assert_failed("test_ecs_services_not_rolled_back", "backend-service", "FAILED", "circuit breaker",
                      "rolling back")
    run.assert_passed("test_ecs_services_run_desired_count")  # steady again, on the old code


def test_ecs_services_run_desired_count(healthy, broken):
    healthy.assert_passed("test_ecs_services_run_desired_count")
    run = broken("service-degraded", ECS)
    msg = run.assert_failed("test_ecs_services_run_desired_count", "backend-service: runs 1 of 2 desired")
    assert "worker-service" not in msg


def test_ecs_services_run_their_minimum(healthy, broken):
    healthy.assert_passed("test_ecs_services_run_their_minimum")
    rows = [r for e in healthy.evidence("test_ecs_services_run_their_minimum") if e["title"] == "services"
            for r in e["payload"]]
    assert {r["service"]: (r["minimum"], r["minimum from"]) for r in rows} == {
        "backend-service": (2, "autoscaling MinCapacity"), "worker-service": (1, "autoscaling MinCapacity"),
        "backend-canary": (1, "default (no scalable target)"), "render-service": (1, "default (no scalable target)")}
    run = broken("service-scaled-to-zero", ECS)
    msg = run.assert_failed("test_ecs_services_run_their_minimum", "worker-service: runs 0 (desired 0)",
                            "below its minimum 1 (autoscaling MinCapacity)", "services.ecs.services.min_running")
    assert "backend-service" not in msg
    run.assert_passed("test_ecs_services_run_desired_count")  # running = desired = 0: the gap this check closes


def test_ecs_services_run_expected_image(healthy, broken):
    healthy.assert_passed("test_ecs_services_run_expected_image")
    run = broken("wrong-image-tag", ECS)
    run.assert_failed("test_ecs_services_run_expected_image", "backend-service: runs backend:v1.1.9",
                      "expected v1.2.0", "services.ecs.expected_tag")


def test_load_balancer_targets_healthy(healthy, broken):
    healthy.assert_passed("test_load_balancer_targets_healthy")
    run = broken("target-unhealthy", "checks/services/test_load_balancer.py")
    msg = run.assert_failed("test_load_balancer_targets_healthy", "backend-tg", "172.31.17.10:8000", "unhealthy",
                            "Target.ResponseCodeMismatch")
    assert "172.31.1.10" not in msg


def test_load_balancer_targets_healthy_after_draining(broken):
    """A target draining after a deploy is waited for: once it is gone the check passes."""
    run = broken("target-draining", "checks/services/test_load_balancer.py")
    run.assert_passed("test_load_balancer_targets_healthy")
    ev = run.evidence("test_load_balancer_targets_healthy")
    waited = next(e["payload"] for e in ev if e["title"].startswith("waited"))
    assert 0.4 < waited[0] < 6, waited  # it waited (retries every 0.5 s) for the drain, not the whole budget
    rows = [r for e in ev if e["title"] == "targets" for r in e["payload"]]
    assert "172.31.33.10:8000" not in {r["target"] for r in rows}


def test_load_balancer_targets_healthy_draining_never_settles(broken):
    started = time.monotonic()
    run = broken("target-draining-stuck", "checks/services/test_load_balancer.py")
    msg = run.assert_failed("test_load_balancer_targets_healthy", "backend-tg target 172.31.17.10:8000: still "
                            "draining after 6 s", "(services.load_balancing.settle_s)",
                            "Target.DeregistrationInProgress")
    assert "172.31.1.10" not in msg
    assert time.monotonic() - started < 20, "bounded by settle_s"


def test_no_alarm_firing(healthy, broken):
    healthy.assert_passed("test_no_alarm_firing")
    run = broken("alarm-firing", "checks/services/test_monitoring.py")
    msg = run.assert_failed("test_no_alarm_firing", "backend-5xx: is ALARM", "Threshold Crossed")
    assert "prod-db-cpu-high" not in msg


def test_no_alarm_firing_composite(broken, sandbox):
    """Composite alarms are watched: AWS lists them only when AlarmTypes asks (so does the sandbox)."""
    cw = sandbox.client("cloudwatch")
    assert cw.describe_alarms(AlarmNames=["worker-degraded"])["CompositeAlarms"] == []
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=["worker-degraded"], MaxRecords=100, AlarmTypes=[
        "CompositeAlarm"])["CompositeAlarms"]] == ["worker-degraded"]
    run = broken("composite-alarm-firing", "checks/services/test_monitoring.py")
    msg = run.assert_failed("test_no_alarm_firing", "worker-degraded: is ALARM", "worker-task-failures")
    assert "backend-5xx" not in msg
    rows = [r for e in run.evidence("test_no_alarm_firing") if e["title"] == "alarms" for r in e["payload"]]
    assert {r["name"]: r["kind"] for r in rows}["worker-degraded"] == "composite"


def test_no_alarm_firing_while_watching_composite(sandbox, run_checks):
    """A composite alarm that fires and recovers while watching (its child flapped) fails the watch: its history
    is read with AlarmTypes CompositeAlarm (omitted, AWS returns metric alarms' history only)."""
    cw = sandbox.client("cloudwatch")
    child = "worker-queue-age-high"

    def flap():
        time.sleep(6)
        cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="Threshold Crossed: 3 datapoints")
        time.sleep(0.3)
        cw.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="recovered")

    t = threading.Thread(target=flap)
    t.start()
    try:
        run = run_checks("checks/services/test_monitoring.py", "--watch", "30s")
    finally:
        t.join()
        cw.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="healed")
    run.assert_failed("test_no_alarm_firing", "while watching", "worker-degraded: went from OK to ALARM")


def test_no_alarm_firing_while_watching(sandbox, run_checks):
    """--watch keeps looking: an alarm that fires and recovers between two looks still fails the check, with the
    alarm history as evidence; a quiet watch passes after its duration."""
    quiet = run_checks("checks/services/test_monitoring.py", "--watch", "2s")
    quiet.assert_passed("test_no_alarm_firing")
    assert any("2s" in str(e["payload"]) for e in quiet.evidence("test_no_alarm_firing") if e["title"] == "watched")

    cw = sandbox.client("cloudwatch")

    def flap():
        time.sleep(6)  # the pytest subprocess is watching by then (it starts in about 2 s)
        cw.set_alarm_state(AlarmName="alb-unhealthy-hosts", StateValue="ALARM",
                           StateReason="Threshold Crossed: 2 datapoints [1.0, 1.0] were greater than the threshold")
        time.sleep(0.3)
        cw.set_alarm_state(AlarmName="alb-unhealthy-hosts", StateValue="OK", StateReason="recovered")

    t = threading.Thread(target=flap)
    t.start()
    started = time.monotonic()
    try:
        run = run_checks("checks/services/test_monitoring.py", "--watch", "30s")
    finally:
        t.join()
        cw.set_alarm_state(AlarmName="alb-unhealthy-hosts", StateValue="OK", StateReason="healed")
    run.assert_failed("test_no_alarm_firing", "while watching", "alb-unhealthy-hosts: went from OK to ALARM")
    assert time.monotonic() - started < 25, "a transition must fail the watch at once, not after 30 s"
    history = [r for e in run.evidence("test_no_alarm_firing") if e["title"] == "alarm history while watching"
               for r in e["payload"]]
    # the watch fails at its first look after the transition: the recovery may or may not have happened by then
    assert [(h["old"], h["new"]) for h in history if h["alarm"] == "alb-unhealthy-hosts"][0] == ("OK", "ALARM")
