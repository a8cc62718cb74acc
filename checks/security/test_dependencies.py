"""Dependency security (runbook: "Security Updates": `safety check --json` for the backend, `npm audit` for the
frontend). The vulnerability databases are often out of reach where checks run: each check then reads the report a
CI job produced, and says which it used and how old it is."""

import datetime as dt

import pytest

from opsproof.probes import audits

pytestmark = [pytest.mark.infrastructure]


def _check(env, ecosystem: str, evidence) -> None:
    cfg = getattr(env.security, ecosystem)
    if cfg is None:
        pytest.skip(f"no [security.{ecosystem}] audit configured")
    a = audits.audit(ecosystem, cfg, env.path, cwd=env.root)
    evidence.value("source", a.source or "none")
    if a.live_error:
        evidence.value("live run not used", a.live_error)
    if a.error:
        pytest.fail(f"{a.error} (security.{ecosystem}.report / command)", pytrace=False)
    evidence.value("dependencies audited", a.dependencies if a.dependencies is not None else "?")
    today = dt.datetime.now(dt.timezone.utc).date()
    failing, waived, expired = audits.judge(a.findings, cfg.min_severity, cfg.unknown_severity,
                                            env.security.waivers, today)
    evidence.table("findings", [{"package": f.package, "version": f.version, "id": f.id, "aliases":
                                 ", ".join(f.aliases), "severity": f.severity or "?", "fix": f.fix, "title": f.title}
                                for f in a.findings])
    evidence.table("waived", [{"id": j.finding.id, "package": j.finding.package, "reason": j.waiver.reason,
                               "expires": j.waiver.expires} for j in waived])
    bad = []
    if not a.live and a.report_age_days is not None and a.report_age_days > cfg.max_report_age_days:
        bad.append(f"the {a.tool} report is {a.report_age_days:g} days old (security.{ecosystem}."
                   f"max_report_age_days={cfg.max_report_age_days:g}): re-run the audit in CI")
    bad += [f"{j.finding.package} {j.finding.version}: {j.finding.id} ({j.severity})" + (
        f", fixed in {j.finding.fix}" if j.finding.fix else "") for j in failing]
    bad += [f"{j.finding.package} {j.finding.version}: {j.finding.id} ({j.severity}), waiver expired "
            f"{j.waiver.expires}" for j in expired]
    assert not bad, "; ".join(bad) + f" [{a.source}; security.{ecosystem}.min_severity={cfg.min_severity}" + (
        f", findings without a severity count as {cfg.unknown_severity}" if any(
            j.severity.endswith("?") for j in failing) else "") + "; waivers: security.waivers]"


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_python_dependencies_have_no_known_vulnerabilities(env, evidence):
    """The backend's Python dependencies have no known vulnerability at or above security.python.min_severity,
    unless waived with a reason (pip-audit or safety: live, or the report CI produced)."""
    _check(env, "python", evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_node_dependencies_have_no_known_vulnerabilities(env, evidence):
    """The frontend's Node dependencies have no known vulnerability at or above security.node.min_severity, unless
    waived with a reason (npm audit: live, or the report CI produced)."""
    _check(env, "node", evidence)
