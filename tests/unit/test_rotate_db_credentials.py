"""The rotate-db-credentials action leaves a working credential whatever step fails: proven on the sandbox with
real failures (AWS refusing a call, RDS not applying the password, a deployment failing) and, for every step,
with a failure injected before and after the step's own effect."""

import pytest

import actions
from actions import Context, rotate_db_credentials as rot
from opsproof import secrets as registry
from opsproof.probes import secrets as probe
from sandbox.aws import admin
from sandbox.aws.seed import DB_INSTANCE, ECS_CLUSTER

STEPS = ("generate", "stage", "set the new password", "verify the new password", "promote", "force a new deployment",
         "verify AWSCURRENT")


@pytest.fixture
def env(sandbox):
    return sandbox.env


@pytest.fixture
def sm(sandbox):
    return sandbox.client("secretsmanager")


@pytest.fixture
def before(env, sm):
    """The credential before the test; after it, AWSCURRENT must log in and nothing may be left pending."""
    name = env.secrets.rotation.secret
    value = sm.get_secret_value(SecretId=name)["SecretString"]
    yield value
    ids = probe.version_ids(sm, name)
    assert "AWSPENDING" not in ids or ids["AWSPENDING"] == ids["AWSCURRENT"], ids
    assert probe.connects(probe.value_of(sm, name), 3).ok, "AWSCURRENT does not log in after the test"


def run(env) -> actions.Report:
    report = actions.Report("rotate-db-credentials", applied=True)
    ctx = Context(env, report)
    try:
        report.result = rot.rotate_db_credentials(ctx)
    except rot.RotationFailed as e:
        report.result = e
    finally:
        ctx.close()
    return report


def assert_rolled_back(report, sm, env, before_value):
    name = env.secrets.rotation.secret
    assert isinstance(report.result, rot.RotationFailed), report.as_text()
    assert "rolled back: the previous credential is AWSCURRENT and logs in" in str(report.result), str(report.result)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == before_value
    assert probe.connects(before_value, 3).ok
    assert_no_secret_in(report)


def assert_no_secret_in(report):
    raw = "\n".join(f"{s.description} {s.output}" for s in report.steps) + str(report.result) + \
        report.evidence.as_text()
    leaked = [k for k in registry.known() if len(k) >= 8 and k in raw]
    assert not leaked, "a secret value reached the report"


# ---- success and the plan ----------------------------------------------------------------------------------------
def test_dry_run_changes_nothing(env, sm, before):
    report = actions.run("rotate-db-credentials", env, apply=False)
    assert [s.status for s in report.steps] == ["done"] + ["planned"] * 7
    assert sm.get_secret_value(SecretId=env.secrets.rotation.secret)["SecretString"] == before
    assert "*** --apply-immediately" in report.as_text()


def test_rotation_changes_the_password_and_the_new_one_logs_in(env, sm, before):
    name = env.secrets.rotation.secret
    report = run(env)
    assert isinstance(report.result, dict), report.as_text()
    after = sm.get_secret_value(SecretId=name)["SecretString"]
    assert after != before and probe.connects(after, 3).ok and not probe.connects(before, 3).ok
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == before
    assert probe.parse_database(after)[0] == probe.parse_database(before)[0]  # only the password changed
    assert len(probe.parse_database(after)[1]) == env.secrets.rotation.password_length
    assert_no_secret_in(report)


# ---- real failures -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("route, payload, failed_step", [
    ("secretsmanager/fail", {"action": "PutSecretValue", "count": 1}, "stage"),
    ("rds/master-password-fault", {"instance": DB_INSTANCE, "mode": "reject"}, "set the new password"),
    ("rds/master-password-fault", {"instance": DB_INSTANCE, "mode": "ignore"}, "verify the new password"),
    ("secretsmanager/fail", {"action": "UpdateSecretVersionStage", "count": 1}, "promote"),
], ids=["stage-denied", "rds-rejects", "rds-never-applies", "promote-denied"])
def test_a_failing_step_is_rolled_back(sandbox, env, sm, before, route, payload, failed_step):
    admin.post(sandbox.endpoint_url, route, payload)
    try:
        report = run(env)
    finally:
        admin.post(sandbox.endpoint_url, route, {**payload, "count": 0} if "count" in payload
                   else {**payload, "mode": None})
    failed = [s.description for s in report.steps if s.status == "failed"]
    assert failed and failed[0].startswith(failed_step), report.as_text()
    assert_rolled_back(report, sm, env, before)


def test_a_failed_deployment_is_rolled_back(sandbox, env, sm, before):
    service = env.secrets.rotation.ecs_services[0]
    admin.set_ecs_service(sandbox.endpoint_url, ECS_CLUSTER, service, rolloutState="FAILED",
                          rolloutStateReason="tasks failed to start")
    try:
        report = run(env)
    finally:
        admin.clear_ecs_service(sandbox.endpoint_url, ECS_CLUSTER, service)
    text = report.as_text()
    assert "[failed] force a new deployment" in text and "roll back: move AWSCURRENT back" in text, text
    assert sm.get_secret_value(SecretId=env.secrets.rotation.secret)["SecretString"] == before
    assert probe.connects(before, 3).ok
    assert "previous credential" in str(report.result)
    assert_no_secret_in(report)


# ---- every step, failing before and after its own effect --------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", STEPS)
def test_every_step_failing_leaves_a_working_credential(monkeypatch, env, sm, before, step, when):
    real = Context.step

    def step_with_failure(self, description, fn=None, *, always=False):
        if fn is not None and description.startswith(step) and not description.startswith("roll back"):
            inner = fn

            def failing():
                if when == "after":
                    inner()
                raise RuntimeError(f"injected failure {when} '{step}'")
            fn = failing
        return real(self, description, fn, always=always)

    monkeypatch.setattr(Context, "step", step_with_failure)
    report = run(env)
    monkeypatch.undo()
    assert_rolled_back(report, sm, env, before)
