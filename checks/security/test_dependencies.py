"""Dependency security (runbook: "Security Updates": `safety check --json` for the backend, `npm audit` for the
frontend). The vulnerability databases are often out of reach where checks run: each check then reads the report a
CI job produced, and says which it used and how old it is."""

import datetime as dt

import pytest

from opsproof import findings
from opsproof.probes import audits
from opsproof.rules import security as rules

pytestmark = [pytest.mark.security]


def _audit(env, ecosystem: str, evidence) -> audits.Audit:
    """The ecosystem's audit (live, else the report CI produced), with what it used as evidence."""
    cfg = getattr(env.security, ecosystem)
    if cfg is None:
        pytest.skip(f"no [security.{ecosystem}] audit configured")
    a = audits.audit(ecosystem, cfg, env.path, cwd=env.root)
    evidence.value("source", a.source or "none")
    if a.live_error:
        evidence.value("live run not used", a.live_error)
    evidence.value("dependencies audited", a.dependencies if a.dependencies is not None else "?")
    evidence.table("advisories", [{"package": f.package, "version": f.version, "id": f.id, "aliases":
                                   ", ".join(f.aliases), "severity": f.severity or "?", "fix": f.fix,
                                   "title": f.title} for f in a.findings])
    return a


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_python_dependencies_have_no_known_vulnerabilities(env, evidence):
    """The backend's Python dependencies have no known vulnerability at or above security.python.min_severity,
    unless waived with a reason (pip-audit or safety: live, or the report CI produced)."""
    a = _audit(env, "python", evidence)
    findings.expect_no_alarm(rules.dependencies(a, env.security, "python", _today()), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_node_dependencies_have_no_known_vulnerabilities(env, evidence):
    """The frontend's Node dependencies have no known vulnerability at or above security.node.min_severity, unless
    waived with a reason (npm audit: live, or the report CI produced)."""
    a = _audit(env, "node", evidence)
    findings.expect_no_alarm(rules.dependencies(a, env.security, "node", _today()), evidence)
