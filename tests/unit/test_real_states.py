"""Judging the states AWS really produces (issue 12), on hand-built facts: each case is what the API answers in
that state, as botocore's output models shape it. The end-to-end proofs are in tests/proofs/ under the same states'
faults."""

import datetime as dt

from opsproof.probes import ssm
from opsproof.probes.ssm import utc


class FakeSsm:
    """describe_instance_patches pages as AWS does (NextToken), recording each call."""

    def __init__(self, patches: list[dict], page: int = 2):
        self.patches, self.page, self.calls = patches, page, []

    def describe_instance_patches(self, InstanceId, MaxResults, Filters, NextToken=None):
        self.calls.append((InstanceId, Filters, NextToken))
        wanted = set(Filters[0]["Values"])
        rows = [p for p in self.patches if p["State"] in wanted]
        start = int(NextToken or 0)
        out = {"Patches": rows[start:start + self.page]}
        if start + self.page < len(rows):
            out["NextToken"] = str(start + self.page)
        return out


# ---- SSM: a Scan after the window's Install --------------------------------------------------------------------------
def _patch(state, when):
    return {"Title": "kernel", "KBId": "ALAS2-1", "Classification": "Security", "Severity": "Important",
            "State": state, "InstalledTime": when}


def test_after_a_scan_the_last_install_is_the_newest_installed_patch_on_every_page():
    installed = utc(2026, 1, 11, 4, 35)
    fake = FakeSsm([_patch("Installed", utc(2025, 12, 1)), _patch("Missing", utc(1970, 1, 1)),
                    _patch("InstalledOther", utc(2025, 11, 1)), _patch("Installed", installed),
                    _patch("InstalledPendingReboot", utc(2025, 10, 1))])
    state = {"InstanceId": "i-1", "Operation": "Scan", "OperationEndTime": utc(2026, 1, 12, 9)}
    assert ssm._last_install(fake, state) == installed
    assert len(fake.calls) == 2 and fake.calls[1][2] == "2"  # the second page was read


def test_a_no_reboot_install_time_counts_even_with_no_patch_installed():
    fake = FakeSsm([])
    t = utc(2026, 1, 11, 5)
    assert ssm._last_install(fake, {"InstanceId": "i-1", "LastNoRebootInstallOperationTime": t}) == t
    assert ssm._last_install(fake, {"InstanceId": "i-1"}) is None


def _state(operation, end, last_install):
    return ssm.PatchState("i-1", "gpu-worker-1", "Online", 0, 0, 0, 400, 0, 0, operation, end, "pb-1",
                          last_install)


def test_a_scan_after_the_windows_install_is_patched_and_a_scan_alone_is_not():
    start = utc(2026, 1, 11, 4)
    assert _state("Scan", "2026-01-12T09:00:00+00:00", "2026-01-11T04:35:00+00:00").patched_since(start)
    assert not _state("Scan", "2026-01-12T09:00:00+00:00", "2026-01-05T04:35:00+00:00").patched_since(start)
    assert not _state("Scan", "2026-01-12T09:00:00+00:00", "").patched_since(start)
    assert _state("Install", "2026-01-11T04:35:00+00:00", "2026-01-11T04:35:00+00:00").patched_since(start)


# ---- ECR: enhanced scanning ------------------------------------------------------------------------------------------
class FakeEcr:
    def __init__(self, page):
        self.page = page

    def describe_image_scan_findings(self, **kwargs):
        return self.page


def test_an_active_enhanced_scan_is_judged_by_its_enhanced_findings():
    from opsproof.probes import images

    page = {"imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
            "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 1}, "enhancedFindings": [
                {"severity": "CRITICAL", "status": "ACTIVE", "title": "CVE-2023-38545 - libcurl4",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-38545", "vulnerablePackages": [
                     {"name": "libcurl4", "version": "7.88.1-10"}]}},
                {"severity": "HIGH", "status": "SUPPRESSED",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-1"}},
                {"severity": "HIGH", "status": "CLOSED", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2"}}]}}
    ref = images.parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:v1.2.0")
    scan = images.scan_findings(FakeEcr(page), ref)
    assert scan.finished and scan.status == "ACTIVE" and scan.age_days is None
    assert [(f.name, f.severity, f.package, f.version) for f in scan.findings] == [
        ("CVE-2023-38545", "CRITICAL", "libcurl4", "7.88.1-10")]
    for status in ("PENDING", "IN_PROGRESS", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE", "FAILED"):
        assert not images.scan_finished(status)


# ---- ELBv2: draining targets -----------------------------------------------------------------------------------------
def test_draining_targets_fail_only_once_the_wait_is_spent_and_do_not_count():
    from opsproof import config, findings
    from opsproof.probes.elbv2 import TargetHealth
    from opsproof.rules.services import targets

    lb = config.load("sandbox").services.load_balancing.model_copy(update={
        "target_groups": ["backend-tg"], "min_targets": 1, "settle_s": 6})

    def problems(found, waited_s):
        return [f.line() for f in findings.failing(targets(found, lb, waited_s))]

    healthy = [TargetHealth("backend-tg", "172.31.1.10:8000", "healthy"),
               TargetHealth("backend-tg", "172.31.17.10:8000", "healthy")]
    assert problems(healthy, 0.0) == []
    draining = TargetHealth("backend-tg", "172.31.33.10:8000", "draining", "Target.DeregistrationInProgress",
                            "Target deregistration is in progress")
    assert draining.settling and TargetHealth("tg", "x", "initial").settling
    assert not TargetHealth("tg", "x", "unhealthy").settling and not TargetHealth("tg", "x", "unused").settling
    (p,) = problems(healthy + [draining], 6.2)
    assert p.startswith("backend-tg target 172.31.33.10:8000: still draining after 6 s") and "settle_s" in p
    only_draining = [TargetHealth("backend-tg", "172.31.1.10:8000", "draining")]
    assert any("0 registered target(s) not draining" in p for p in problems(only_draining, 6.2))


# ---- CloudWatch: composite alarms (the sandbox evaluates their rules as AWS does) -----------------------------------
def test_composite_alarm_rules_evaluate_like_aws():
    from sandbox.aws.alarm_history import _evaluate, _rule_names

    states = {"a": "ALARM", "b": "OK", "c": "INSUFFICIENT_DATA"}.get
    assert _evaluate('ALARM("a") OR ALARM("b")', states) == (True, ["a"])
    assert _evaluate('ALARM(a) AND NOT OK(b)', states)[0] is False
    assert _evaluate('(ALARM(b) OR INSUFFICIENT_DATA(c)) AND TRUE', states)[0] is True
    assert _evaluate('ALARM("missing")', states) == (None, [])
    assert _rule_names('ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:x") OR OK(y)') == [
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x", "y"]


def test_the_alarm_probe_asks_for_composite_alarms_in_listings_and_history():
    import datetime as dt

    from opsproof.probes import cloudwatch as alarms

    class Cw:
        calls = []

        def describe_alarms(self, **kw):
            self.calls.append(("alarms", kw))
            return {"MetricAlarms": [], "CompositeAlarms": [
                {"AlarmName": "worker-degraded", "StateValue": "ALARM", "StateReason": "worker-task-failures"}]}

        def describe_alarm_history(self, **kw):
            self.calls.append(("history", kw))
            return {"AlarmHistoryItems": []}

    cw = Cw()
    found, missing = alarms.alarms(cw, ["worker-degraded"], [])
    assert [(a.name, a.state, a.kind) for a in found] == [("worker-degraded", "ALARM", "composite")] and not missing
    alarms.transitions(cw, ["worker-degraded"], dt.datetime.now(dt.timezone.utc))
    assert all("CompositeAlarm" in kw["AlarmTypes"] for _, kw in cw.calls)


# ---- ECS: CODE_DEPLOY and EXTERNAL deployment controllers ------------------------------------------------------------
class FakeEcs:
    def __init__(self, services):
        self.services = services

    def describe_services(self, cluster, services):
        assert len(services) <= 10  # the API's limit
        return {"services": [s for s in self.services if s["serviceName"] in services]}


def _task_set(status, stability, running, computed=2, scale=100.0):
    return {"id": f"ecs-svc/{status}", "status": status, "stabilityStatus": stability, "runningCount": running,
            "pendingCount": computed - running, "computedDesiredCount": computed, "scale": {"value": scale},
            "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/backend:7"}


def _service(name, controller, task_sets, deployments=()):
    return {"serviceName": name, "status": "ACTIVE", "desiredCount": 2, "runningCount": 2, "pendingCount": 0,
            "deploymentController": {"type": controller}, "deployments": list(deployments), "taskSets": task_sets,
            "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/backend:7", "events": []}


def test_other_controllers_are_judged_by_their_task_sets_not_by_a_missing_rollout_state():
    from opsproof.probes import ecs

    fake = FakeEcs([
        _service("steady-cd", "CODE_DEPLOY", [_task_set("PRIMARY", "STEADY_STATE", 2)]),
        _service("mid-blue-green", "CODE_DEPLOY", [_task_set("PRIMARY", "STEADY_STATE", 2),
                                                   _task_set("ACTIVE", "STABILIZING", 0)]),
        _service("ext-stabilizing", "EXTERNAL", [_task_set("PRIMARY", "STABILIZING", 1)]),
        _service("ext-short", "EXTERNAL", [_task_set("PRIMARY", "STEADY_STATE", 1)]),
        _service("rolling", "ECS", [], [{"id": "d1", "status": "PRIMARY", "rolloutState": "COMPLETED",
                                         "desiredCount": 2, "runningCount": 2}]),
    ])
    got = {s.name: s for s in ecs.services(fake, "prod", [s["serviceName"] for s in fake.services],
                                           with_images=False)}
    assert got["steady-cd"].rollout_finished and got["steady-cd"].rollout_state == "STEADY_STATE"
    assert got["rolling"].rollout_finished and got["rolling"].controller == "ECS"
    assert not got["mid-blue-green"].rollout_finished
    assert got["mid-blue-green"].rollout_summary == ("CODE_DEPLOY: 2 task set(s), PRIMARY STEADY_STATE (2 of 2 "
                                                     "running); ACTIVE task set STABILIZING (0 of 2 running)")
    assert not got["ext-stabilizing"].rollout_finished and not got["ext-short"].rollout_finished
    assert all(not s.failed_deployments for s in got.values())


# ---- RDS: a real parameter group (base units, formulas) --------------------------------------------------------------
def test_the_review_works_out_rds_formulas_and_base_units():
    from opsproof import findings
    from opsproof.config.database import RUNBOOK_XLARGE
    from opsproof.postgres import parameters
    from opsproof.rules.database_parameters import parameter_values

    def review(group, memory):
        return parameter_values(parameters.reviewed(RUNBOOK_XLARGE, group, None, memory), 5, check_live=False)

    memory = 32 * 1024 ** 3
    healthy = {"shared_buffers": "{DBInstanceClassMemory/32768}", "effective_cache_size":
               "{DBInstanceClassMemory*3/32768}", "work_mem": "51200", "maintenance_work_mem": "2097152",
               "max_connections": "200", "random_page_cost": "1.1"}
    assert not findings.failing(review(healthy, memory))
    defaults = {"shared_buffers": "{DBInstanceClassMemory/32768}", "effective_cache_size":
                "{DBInstanceClassMemory/16384}", "maintenance_work_mem":
                "GREATEST({DBInstanceClassMemory*1024/63963136},65536)",
                "max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)"}
    bad = {f.subject: f.reason for f in findings.failing(review(defaults, memory))}
    assert set(bad) == {"effective_cache_size", "maintenance_work_mem", "max_connections", "work_mem",
                        "random_page_cost"}
    assert "(16GB for the class)" in bad["effective_cache_size"] and "(3604 for the class)" in bad["max_connections"]
    # without the class's memory a formula cannot be judged: red, saying why
    (r,) = [f for f in review(defaults, None) if f.subject == "shared_buffers"]
    assert r.failing and "instance_memory_gib" in r.reason


def test_formulas_rds_writes_are_evaluated_and_others_are_refused():
    import pytest

    from opsproof.postgres import parameters
    from opsproof.probes import capacity

    m = 16 * 1024 ** 3
    assert parameters.formula_value("SUM({DBInstanceClassMemory/12038},-50003)", m) == m / 12038 - 50003
    assert parameters.to_number("maintenance_work_mem", "GREATEST({DBInstanceClassMemory*1024/63963136},65536)",
                               2 * 1024 ** 3) == 65536 * 1024  # the floor (64MB) wins on 2 GiB
    for f in ("GREATEST(${DBInstanceVCPU*2},8)", "GREATEST({log(DBInstanceClassMemory/21474836480)*600},200)",
              "{DBInstanceClassMemory/0"):
        with pytest.raises(ValueError, match="unsupported RDS formula"):
            parameters.formula_value(f, m)
    assert capacity.max_connections("LEAST({DBInstanceClassMemory/9531392}, 5000)", 16) == 1802
    assert capacity.max_connections("GREATEST(${DBInstanceVCPU*2},8)", 16) is None


def test_the_sandbox_refuses_what_rds_refuses():
    from sandbox.aws.rds_parameters import family_defaults, refusal

    d = family_defaults("postgres15")
    assert len(d) > 300
    assert refusal(d["shared_buffers"], "shared_buffers", "8GB", "pending-reboot")[0] == "InvalidParameterValue"
    assert refusal(d["shared_buffers"], "shared_buffers", "1048576", "immediate")[0] == \
        "InvalidParameterCombination"  # static
    assert refusal(d["shared_buffers"], "shared_buffers", "{DBInstanceClassMemory/32768}", "pending-reboot") is None
    assert refusal(d["work_mem"], "work_mem", "51200", "immediate") is None
    assert refusal(None, "no_such", "1", "immediate")[0] == "InvalidParameterValue"
    assert refusal(d["ssl"], "ssl", "0", "pending-reboot")[0] == "InvalidParameterValue"  # not modifiable


# ---- S3: objects with no replication status --------------------------------------------------------------------------
def test_no_replication_status_is_explained_from_the_rules():
    from opsproof.probes.storage import Rule, Status
    from opsproof.rules.storage import no_status_reason

    all_ = Rule("prod-to-dr", "Enabled", 1, "", "dr", "Enabled", "STANDARD")
    media = Rule("media", "Enabled", 1, "media/", "dr", "Enabled", "STANDARD", tags=(("replicate", "yes"),),
                 sse_kms=True)
    kms = Status("media/a.mp4", None, None, 0, "aws:kms")
    assert "SSE-KMS encrypted, and rule 'prod-to-dr' has no SourceSelectionCriteria" in no_status_reason(kms, [all_])
    assert "before the rule existed" in no_status_reason(kms, [media], {"replicate": "yes"})  # media replicates KMS
    assert "outside every replication rule's filter" in no_status_reason(Status("exports/x", None, None, 0), [media])
    assert "outside every" in no_status_reason(Status("media/b", None, None, 0, "AES256"), [media], {})  # no tag
    assert "no Enabled rule" in no_status_reason(Status("media/b", None, None, 0), [])


# ---- RDS: a restore passing through creating, modifying, backing-up ---------------------------------------------------
class FakeRds:
    def __init__(self, states):
        self.states = list(states)

    def describe_db_instances(self, DBInstanceIdentifier):
        st = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"DBInstances": [{"DBInstanceIdentifier": DBInstanceIdentifier, "DBInstanceStatus": st}]}


def test_the_drill_waits_through_restore_states_bounded():
    import pytest

    from actions.restore_drill import DrillFailed, _wait_available

    seen = []
    out = _wait_available(FakeRds(["creating", "creating", "modifying", "backing-up", "available"]), "test-restore-1",
                          0.01, 1, seen)
    assert seen == ["creating", "modifying", "backing-up", "available"] and "available after" in out
    with pytest.raises(DrillFailed, match=r"test-restore-1 did not become available within 0.002 min .*still "
                                          r"'backing-up' after creating → backing-up"):
        _wait_available(FakeRds(["creating", "backing-up"]), "test-restore-1", 0.01, 0.002, [])
    with pytest.raises(DrillFailed, match="went 'incompatible-restore'"):
        _wait_available(FakeRds(["creating", "incompatible-restore"]), "test-restore-1", 0.01, 1, [])
