"""The completion email against the sandbox's SMTP server (sandbox/smtp.py: aiosmtpd with STARTTLS and AUTH, started
in-process on a free port with the sandbox's TLS material): delivered over TLS, authenticated, the verdict in the
body and the report attached; an undeliverable mail is a Delivery with one line, never an exception."""

import email
import email.policy
import json
import socket

import pytest

from opsproof import completion_email
from opsproof.config.change_record import Email
from sandbox import smtp, tls

RECORD = {"environment": "sandbox", "change_request": "CHG0030001",
          "window": {"id": "2026-01-11", "label": "2026-01-11 02:00-06:00 UTC"},
          "checks": [{"nodeid": "checks/x.py::test_a", "outcome": "passed"},
                     {"nodeid": "checks/x.py::test_b", "outcome": "failed", "message": "prod-db: 3 invalid indexes"}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = tmp_path_factory.mktemp("smtp-state")
    (state / "run").mkdir()
    tls.ensure(state / "tls")
    port = _free_port()
    controller = smtp.start(state, port, state / "tls")
    yield state, port
    controller.stop()


def _cfg(state, port, **kw) -> Email:
    return Email(host="127.0.0.1", port=port, to=["cab@aifilmstudio.test", "ops@aifilmstudio.test"], user_env=None,
                 password_env=None, credentials_file=state / "secrets" / smtp.CREDENTIALS_FILE,
                 ca_file=state / "tls" / "ca.pem", **kw)


def test_completion_email_is_delivered_over_starttls_with_the_report(server, tmp_path):
    state, port = server
    (state / "run" / "web.json").write_text("{}")
    report = tmp_path / "change-request.html"
    report.write_text("<!doctype html><title>CHG0030001</title><h1>FAILED</h1>")
    body = "\n".join(completion_email.verdict_lines(RECORD))
    msg = completion_email.compose("Maintenance complete: CHG0030001", body, "opsproof@aifilmstudio.test",
                                   ["cab@aifilmstudio.test", "ops@aifilmstudio.test"], report)
    d = completion_email.send(_cfg(state, port), msg)
    assert d.ok, d.line()
    assert "to 2 recipient(s)" in d.detail and "STARTTLS" in d.detail
    got = smtp.mails(state)[-1]
    assert got["tls"] and got["authenticated"] and len(got["to"]) == 2
    received = email.message_from_bytes((state / "receivers" / "mail" / got["file"]).read_bytes(),
                                        policy=email.policy.default)
    text = received.get_body(("plain",)).get_content()
    assert "1 passed, 1 failed" in text and "test_b: prod-db: 3 invalid indexes" in text
    (att,) = list(received.iter_attachments())
    assert att.get_filename() == "change-request.html" and att.get_content().startswith("<!doctype html>")
    password = json.loads((state / "secrets" / smtp.CREDENTIALS_FILE).read_text())["password"]
    assert password not in d.line()


def test_rejected_recipients_are_recorded_not_raised(server):
    state, port = server
    (state / "run" / "web.json").write_text(json.dumps({"smtp_reject": "550 5.1.1 mailbox unavailable"}))
    try:
        msg = completion_email.compose("x", "y", "opsproof@aifilmstudio.test", ["cab@aifilmstudio.test"])
        d = completion_email.send(_cfg(state, port), msg)
    finally:
        (state / "run" / "web.json").write_text("{}")
    assert not d.ok and "refused every recipient" in d.detail and "550" in d.detail


def test_wrong_credentials_and_a_dead_server_are_one_line(server, tmp_path):
    state, port = server
    bad = tmp_path / "creds.json"
    bad.write_text(json.dumps({"user": "opsproof-sandbox", "password": "wrong"}))
    msg = completion_email.compose("x", "y", "opsproof@aifilmstudio.test", ["cab@aifilmstudio.test"])
    d = completion_email.send(_cfg(state, port).model_copy(update={"credentials_file": bad}), msg)
    assert not d.ok and "refused the credentials (535)" in d.detail
    d = completion_email.send(_cfg(state, _free_port(), timeout_s=1), msg)
    assert not d.ok and "\n" not in d.line() and "127.0.0.1" in d.detail
