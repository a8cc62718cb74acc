"""Terraform: version constraints as Terraform reads them; plan drift on a real (provider-free) root module; and the
checks where terraform is not installed: skipped or failed, as configuration says, in one line."""

import json
import shutil
import subprocess
import sys

import pytest

from opsproof import ROOT
from opsproof.probes import terraform as tf
from sandbox.aws.seed_infrastructure import TERRAFORM_MAIN
from sandbox.private import private_env

needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@pytest.mark.parametrize("version, constraint, ok", [
    ("5.31.0", "~> 5.0", True), ("6.0.0", "~> 5.0", False), ("4.67.0", "~> 5.0", False),
    ("5.0.9", "~> 5.0.3", True), ("5.1.0", "~> 5.0.3", False), ("1.11.4", ">= 1.6.0, < 2.0.0", True),
    ("1.5.7", ">= 1.6.0", False), ("1.6.0", "1.6.0", True), ("1.6.1", "!= 1.6.1", False), ("v1.7.0", "> 1.6", True),
])
def test_constraints_read_like_terraform(version, constraint, ok):
    assert tf.satisfies(version, constraint) is ok


@pytest.mark.parametrize("bad", ["", "~>", "latest", ">= 1.x", "5.0.0.1"])
def test_a_bad_constraint_is_refused(bad):
    with pytest.raises(ValueError):
        tf.parse_constraint(bad)


def test_a_bad_constraint_is_a_configuration_error():
    from opsproof.config.infrastructure import Terraform

    with pytest.raises(ValueError, match="hashicorp/aws: not a version constraint"):
        Terraform(versions={"hashicorp/aws": "five"})


@needs_terraform
def test_plan_reports_drift_with_its_summary(tmp_path):
    (tmp_path / "main.tf").write_text(TERRAFORM_MAIN)
    for cmd in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *cmd], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    clean = tf.plan(tmp_path, "terraform", 60)
    assert (clean.exit_code, clean.drift) == (0, False) and clean.summary.startswith("No changes.")
    (tmp_path / "main.tf").write_text(TERRAFORM_MAIN.replace("desired_count = 1", "desired_count = 4"))
    drift = tf.plan(tmp_path, "terraform", 60)
    assert drift.drift and drift.summary == "Plan: 0 to add, 1 to change, 0 to destroy."
    assert drift.changes == ["terraform_data.worker_service will be updated in-place"]
    assert not (tmp_path / ".terraform.tfstate.lock.info").exists()  # -lock=false: never holds the state lock
    assert tf.versions(tmp_path, "terraform", 30).providers == {}


def test_a_missing_directory_is_a_failed_plan(tmp_path):
    p = tf.plan(tmp_path / "nope", "terraform", 10)
    assert p.exit_code == 1 and "no such directory" in p.error


@pytest.mark.parametrize("when, outcome", [("fail", "failed"), ("skip", "skipped")])
def test_without_terraform_the_checks_do_as_configured(tmp_path, when, outcome):
    env_file, _ = private_env("no-terraform", 64100, tmp_path)
    text = env_file.read_text()
    assert 'when_missing = "skip"' in text
    env_file.write_text(text.replace('when_missing = "skip"',
                                     f'binary = "/nonexistent/terraform"\nwhen_missing = "{when}"'))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart",
                           f"--env={env_file}", f"--html={tmp_path}/r.html", f"--junitxml={tmp_path}/j.xml",
                           "checks/infrastructure/test_terraform.py", "-rs"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    checks = json.loads((tmp_path / "evidence.json").read_text())["checks"]
    assert {c["outcome"] for c in checks} == {outcome}, proc.stdout[-2000:]
    if outcome == "failed":
        assert all(c["message"] == "terraform is not installed ('/nonexistent/terraform' not found on PATH; "
                   "infrastructure.terraform.binary) (infrastructure.terraform.when_missing=fail)" for c in checks)
        assert "Traceback" not in proc.stdout
    else:
        assert "terraform is not installed" in proc.stdout
