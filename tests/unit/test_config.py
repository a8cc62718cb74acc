"""Bad configuration ends the run with ONE line naming the file and the key, and exit code 4 (usage error)."""

import subprocess
import sys

import pytest

from opsproof import ROOT, config

SANDBOX = (ROOT / "environments" / "sandbox.toml").read_text()


def run(*args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart",
                           "--collect-only", "-q", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def one_error_line(proc) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    assert len(errors) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return errors[0]


def test_sandbox_environment_loads_with_runbook_defaults():
    env = config.load("sandbox")
    assert env.is_sandbox and env.database.dbname == "aifilmstudio" and env.rds.instance_id == "prod-db"
    assert env.certificates.min_days_left == 30


def test_every_example_environment_is_valid():
    for path in (ROOT / "environments").glob("*.toml"):
        config.load(str(path))


def test_unknown_environment(tmp_path):
    p = run("--env", "nosuchenv")
    assert p.returncode == 4
    assert "environments/nosuchenv.toml: no such environment file" in one_error_line(p)


def test_environment_variable_selects_the_environment(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, env={**__import__("os").environ,
                                                                         "OPSPROOF_ENV": "staging-typo"})
    assert p.returncode == 4 and "staging-typo.toml" in one_error_line(p)


@pytest.mark.parametrize("change, culprit", [
    (lambda s: s + "\n[database\n", "not valid TOML"),
    (lambda s: s.replace("port = 15432", 'port = "fivefive"'), "database.port:"),
    (lambda s: s.replace("[rds]", "[rds]\nbackup_retention = 7"), "rds.backup_retention: unknown key"),
    (lambda s: s.replace("min_days_left = 30", "min_days_left = -3"), "certificates.min_days_left:"),
    (lambda s: s.replace('host = "127.0.0.1"\nport = 15432', "port = 15432"), "database: host: required"),
])
def test_bad_configuration_names_file_and_key(tmp_path, change, culprit):
    bad = tmp_path / "broken.toml"
    bad.write_text(change(SANDBOX))
    p = run(f"--env={bad}")
    assert p.returncode == 4, p.stdout + p.stderr
    line = one_error_line(p)
    assert str(bad) in line and culprit in line, line


def test_marker_typo_is_a_usage_error_not_a_green_run():
    p = run("-m", "post_maintenace")
    assert p.returncode == 4
    assert "unknown marker(s) post_maintenace" in one_error_line(p)


def test_selecting_nothing_is_red():
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-sandbox-autostart",
                        "-m", "quarterly and post_maintenance and not database and not services and not "
                        "certificates and not infrastructure and not storage and not backups and not secrets and "
                        "not capacity", "--html=/dev/null", "--junitxml=/dev/null"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 5
    assert "nothing was selected" in p.stdout and "NOT a pass" in p.stdout
