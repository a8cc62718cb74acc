"""Terraform Infrastructure Updates (runbook: "terraform version", "terraform providers", "terraform plan"): every
configured root module plans no changes, and the CLI and providers are within the configured constraints."""

import pytest

from opsproof.probes import terraform as tf

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
    drift = [f"{p.directory}: {p.summary} ({', '.join(p.changes[:5])})" for p in plans if p.drift]
    errors = [f"{p.directory}: plan failed: {p.error}" for p in plans if p.exit_code == 1]
    assert not drift and not errors, "; ".join(
        (["drift: " + d for d in drift] if drift else []) + errors) + " (infrastructure.terraform.directories)"


@pytest.mark.post_maintenance
@pytest.mark.monthly
def test_terraform_versions_within_constraints(env, terraform, evidence):
    """The terraform CLI and every provider the lock file selects are within infrastructure.terraform.versions."""
    constraints = {tf.short_source(k): v for k, v in terraform.versions.items()}
    rows, bad = [], []
    for d in terraform.directories:
        if not env.path(d).is_dir():
            bad.append(f"{env.path(d)}: no such directory")
            continue
        v = tf.versions(env.path(d), terraform.binary, terraform.timeout_s)
        selected = {"terraform": v.terraform, **{tf.short_source(k): ver for k, ver in v.providers.items()}}
        for name, version in sorted(selected.items()):
            want = constraints.get(name)
            ok = want is None or tf.satisfies(version, want)
            rows.append({"directory": v.directory, "component": name, "version": version,
                         "constraint": want or "(none)", "ok": ok})
            if not ok:
                bad.append(f"{v.directory}: {name} {version} is outside {want!r}")
    evidence.table("versions", rows)
    assert not bad, "; ".join(bad) + " (infrastructure.terraform.versions)"
