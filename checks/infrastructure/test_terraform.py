"""Terraform Infrastructure Updates (runbook: "terraform version", "terraform providers", "terraform plan"): every
configured root module plans no changes, and the CLI and providers are within the configured constraints."""

import pytest

from opsproof import findings
from opsproof.probes import terraform as tf
from opsproof.rules import infrastructure as rules

pytestmark = [pytest.mark.infrastructure]


@pytest.fixture
def terraform(env):
    cfg = env.infrastructure.terraform
    if not cfg.directories:
        pytest.skip(f"{env.file} lists no infrastructure.terraform.directories")
    try:
        tf.find(cfg.binary)
    except tf.TerraformMissing as e:
        if cfg.when_missing == "skip":
            pytest.skip(f"{e} (infrastructure.terraform.when_missing=skip)")
        pytest.fail(f"{e} (infrastructure.terraform.when_missing=fail)", pytrace=False)
    return cfg


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_terraform_plan_has_no_drift(env, terraform, evidence):
    """`terraform plan -detailed-exitcode` reports no changes in any configured directory (exit 2 is drift)."""
    plans = [tf.plan(env.path(d), terraform.binary, terraform.timeout_s, terraform.refresh)
             for d in terraform.directories]
    evidence.table("plans", [{"directory": p.directory, "exit": p.exit_code, "summary": p.summary or p.error,
                              "seconds": p.duration_s} for p in plans])
    for p in plans:
        if p.drift or p.error:
            evidence.text(f"plan of {p.directory}", p.output[-4000:] or p.error)
    findings.expect_no_alarm(rules.terraform_plans(plans), evidence)


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_terraform_versions_within_constraints(env, terraform, evidence):
    """The terraform CLI and every provider the lock file selects are within infrastructure.terraform.versions."""
    found = {str(env.path(d)): tf.versions(env.path(d), terraform.binary, terraform.timeout_s)
             if env.path(d).is_dir() else None for d in terraform.directories}
    findings.expect_no_alarm(rules.terraform_versions(found, terraform), evidence)
