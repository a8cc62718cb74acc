"""Evidence: what a run leaves behind is complete, and holds no secret."""

from opsproof.evidence import Evidence, SecretInEvidence
from opsproof import secrets

import pytest
from pydantic import SecretStr


def test_no_secret_reaches_any_report(healthy, sandbox):
    """Every password and secret value the sandbox holds is absent from the HTML report, JUnit and evidence."""
    values = [p.read_text().strip() for p in sandbox.secrets_dir.iterdir()]
    assert values
    for name in ("report.html", "junit.xml", "evidence.json"):
        text = (healthy.out / name).read_text()
        for v in values:
            assert v not in text, f"a sandbox secret leaked into {name}"
    assert "PASSWORD" not in (healthy.out / "report.html").read_text().upper().replace("PASSWORD_", "")


def test_the_report_is_titled_and_self_contained(healthy):
    html = (healthy.out / "report.html").read_text()
    assert "opsproof — sandbox" in html
    assert '<link rel="stylesheet"' not in html  # self-contained: styles inlined
    assert healthy.record["environment"] == "sandbox" or healthy.record["environment"].startswith("sandbox")


def test_evidence_records_measured_values(healthy):
    ev = healthy.evidence("test_rds_instance_is_available")
    assert any(e["kind"] == "table" and e["payload"][0]["status"] == "available" for e in ev)


def test_secret_values_are_refused_and_masked():
    ev = Evidence()
    with pytest.raises(SecretInEvidence):
        ev.value("password", SecretStr("hunter22"))
    secrets.register("s3cr3t-value")
    ev.text("log", "connected with s3cr3t-value")
    assert "s3cr3t-value" not in ev.as_text() and "s3cr3t-value" not in ev.as_html()
