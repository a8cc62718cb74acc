"""The [services], [hosts] and [infrastructure] sections: runbook defaults, and one line naming file and key when a
value is wrong (exit 4), including --watch."""

import subprocess
import sys

import pytest

from opsproof import ROOT, config

SANDBOX = (ROOT / "environments" / "sandbox.toml").read_text()


def test_runbook_defaults():
    env = config.load(str(ROOT / "environments" / "prod.example.toml"))
    p = env.infrastructure.patching
    assert (p.baseline.name, p.baseline.classifications, p.baseline.severities, p.baseline.approve_after_days) == (
        "AI-Film-Studio-Baseline", ["Security"], ["Critical", "Important"], 7)
    assert (p.window.schedule, p.window.duration_h, p.window.cutoff_h) == ("cron(0 4 ? * SUN *)", 4, 1)
    assert env.services.monitoring.watch.total_seconds() == 1800
    assert env.infrastructure.terraform.when_missing == "fail"


def run(env_file, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart",
                           f"--env={env_file}", "--collect-only", "-q", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("change, culprit", [
    (lambda s: s.replace('path = "/api/projects"', 'path = "api/projects"'), "services.smoke.requests.1.path:"),
    (lambda s: s.replace('name = "status"', 'name = "projects"'), "services.smoke: smoke request "
                                                                  "names must be unique (twice: projects)"),
    (lambda s: s.replace('disk_mounts = ["/", "/data"]', 'disk_mounts = ["data"]'), "hosts.disk_mounts:"),
    (lambda s: s.replace('when_missing = "skip"', 'when_missing = "ignore"'),
     "infrastructure.terraform.when_missing:"),
    (lambda s: s.replace('"hashicorp/aws" = "~> 5.0"', '"hashicorp/aws" = "five"'),
     "infrastructure.terraform.versions: hashicorp/aws: not a version constraint"),
    (lambda s: s.replace('watch = "30m"', 'watch = 30'), "services.monitoring.watch:"),
])
def test_bad_values_name_file_and_key(tmp_path, change, culprit):
    bad = tmp_path / "broken.toml"
    bad.write_text(change(SANDBOX))
    assert bad.read_text() != SANDBOX
    p = run(bad)
    assert p.returncode == 4, p.stdout + p.stderr
    errors = [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and culprit in errors[0], errors


def test_a_bad_watch_is_a_usage_error():
    p = run("sandbox", "--watch", "soon", "checks/services/test_monitoring.py")
    assert p.returncode == 4
    assert "--watch: not a duration: 'soon'" in p.stdout + p.stderr and "Traceback" not in p.stdout + p.stderr
