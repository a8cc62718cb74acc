"""The change-request report and its hand-over on the real sandbox: the healthy run (shared, no extra run) left
reports/change-request.html beside its evidence.json; attach-evidence uploads the run's three files to the sandbox's
ServiceNow and Jira stand-ins (served by the sandbox's web part), which keep them byte for byte; completion-email
reaches the sandbox's SMTP server over STARTTLS with the report attached."""

import email
import email.policy

import actions
from sandbox import change_records, smtp

FILES = ("change-request.html", "junit.xml", "evidence.json")


def test_a_run_writes_the_change_request_report(healthy):
    html = (healthy.out / "change-request.html").read_text()
    failed = [c for c in healthy.record["checks"] if c["outcome"] == "failed"]
    assert ("FAILED" if failed else "PASSED") in html.split('aria-label="verdict"')[1][:200]
    assert "Runbook coverage" in html and "Database Maintenance" in html and 'href="report.html"' in html


def _with_system(env, system):
    attach = env.window.attach.model_copy(update={"system": system})
    return env.model_copy(update={"window": env.window.model_copy(update={"attach": attach})})


def test_attach_evidence_round_trips_to_servicenow_and_jira(sandbox, healthy):
    for system, record, folder in (("servicenow", "CHG0030001", change_records.sys_id_of("CHG0030001")),
                                   ("jira", "OPS-1234", "OPS-1234")):
        rep = actions.run("attach-evidence", _with_system(sandbox.env, system), apply=True, change_request=record,
                          reports=str(healthy.out))
        assert rep.ok, rep.as_text()
        for name in FILES:
            kept = sandbox.dir / "receivers" / system / folder / name
            assert kept.read_bytes() == (healthy.out / name).read_bytes(), f"{system}: {name} changed on the way"


def test_completion_email_reaches_the_sandbox_smtp_server(sandbox, healthy):
    before = len(smtp.mails(sandbox.dir))
    rep = actions.run("completion-email", sandbox.env, apply=True, reports=str(healthy.out))
    assert rep.ok, rep.as_text()
    got = smtp.mails(sandbox.dir)[before:]
    assert len(got) == 1 and got[0]["tls"] and got[0]["authenticated"]
    msg = email.message_from_bytes((sandbox.dir / "receivers" / "mail" / got[0]["file"]).read_bytes(),
                                   policy=email.policy.default)
    assert "passed" in msg.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in msg.iter_attachments()] == ["change-request.html"]
