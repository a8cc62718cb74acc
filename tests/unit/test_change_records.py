"""attach-evidence against the sandbox's ServiceNow and Jira stand-ins (sandbox/change_records.py, served in-process
by sandbox/web.py's handler over real HTTP): what they receive is read back byte for byte; refused credentials, a
file over the size limit and no answer are one line each, and the local files are untouched."""

import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from opsproof import change_record
from opsproof.config.change_record import Attach
from sandbox import change_records, web


@pytest.fixture
def stand_in(tmp_path):
    state = tmp_path / "state"
    (state / "run").mkdir(parents=True)
    web.STATE = state
    change_records.ensure_credentials(state)
    server = ThreadingHTTPServer(("127.0.0.1", 0), web.Api)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def evidence_files(tmp_path) -> list[Path]:
    out = tmp_path / "reports"
    out.mkdir()
    files = {"change-request.html": "<!doctype html><title>CR</title><p>ünïcode ✓</p>".encode(),
             "junit.xml": b'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1"/></testsuites>',
             "evidence.json": json.dumps({"checks": [], "bytes": list(range(256))}).encode() + bytes(range(256))}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / n for n in files]


def _cfg(system: str, url: str, state: Path, **kw) -> Attach:
    return Attach(system=system, servicenow={"instance_url": url}, jira={"base_url": url},
                  credentials_file=state / "secrets" / change_records.CREDENTIALS_FILE, **kw)


def _control(state: Path, **kw) -> None:
    (state / "run" / "web.json").write_text(json.dumps(kw))


def test_servicenow_round_trip(stand_in, evidence_files):
    state, url = stand_in
    ups = change_record.attach(_cfg("servicenow", url, state), "CHG0030001", evidence_files)
    assert all(u.ok for u in ups), [u.line() for u in ups]
    sys_id = change_records.sys_id_of("CHG0030001")
    for f in evidence_files:
        assert (state / "receivers" / "servicenow" / sys_id / f.name).read_bytes() == f.read_bytes()
    got = change_records.received(state)
    assert [g["file_name"] for g in got] == [f.name for f in evidence_files]
    assert got[0]["query"] == {"table_name": "change_request", "table_sys_id": sys_id,
                               "file_name": "change-request.html"}
    assert got[0]["headers"]["Content-Type"] == "text/html"
    assert "Authorization" not in json.dumps(got)
    password = json.loads((state / "secrets" / change_records.CREDENTIALS_FILE).read_text())["password"]
    assert not any(password in u.line() for u in ups)


def test_jira_round_trip(stand_in, evidence_files):
    state, url = stand_in
    ups = change_record.attach(_cfg("jira", url, state), "OPS-42", evidence_files)
    assert all(u.ok for u in ups), [u.line() for u in ups]
    for f in evidence_files:
        assert (state / "receivers" / "jira" / "OPS-42" / f.name).read_bytes() == f.read_bytes()
    got = change_records.received(state)
    assert got[0]["headers"]["X-Atlassian-Token"] == "no-check"
    assert got[0]["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert got[0]["path"] == "/rest/api/3/issue/OPS-42/attachments"


def test_jira_without_the_xsrf_header_is_refused(stand_in, tmp_path):
    import httpx

    state, url = stand_in
    creds = json.loads((state / "secrets" / change_records.CREDENTIALS_FILE).read_text())
    r = httpx.post(f"{url}/rest/api/3/issue/OPS-1/attachments", auth=(creds["user"], creds["password"]),
                   files={"file": ("a.txt", b"x")})
    assert r.status_code == 403
    r = httpx.post(f"{url}/rest/api/3/issue/OPS-1/attachments", auth=(creds["user"], creds["password"]),
                   files={"attachment": ("a.txt", b"x")}, headers={"X-Atlassian-Token": "no-check"})
    assert r.status_code == 400


@pytest.mark.parametrize("system", ["servicenow", "jira"])
def test_refused_credentials_are_one_line_and_keep_the_files(stand_in, evidence_files, system):
    state, url = stand_in
    _control(state, attach_password="not-the-password")
    ups = change_record.attach(_cfg(system, url, state), "CHG0030001", evidence_files)
    assert [u.ok for u in ups] == [False] * 3
    assert "refused the credentials (HTTP 401)" in ups[0].line() and "\n" not in ups[0].line()
    assert "the local file is kept at" in ups[0].line()
    assert all(f.exists() for f in evidence_files)


@pytest.mark.parametrize("system", ["servicenow", "jira"])
def test_over_the_size_limit_is_one_line(stand_in, evidence_files, system):
    state, url = stand_in
    _control(state, attach_max_bytes=600)
    ups = {u.file: u for u in change_record.attach(_cfg(system, url, state), "CHG0030001", evidence_files)}
    assert ups["junit.xml"].ok
    assert not ups["evidence.json"].ok and "size limit (HTTP 413)" in ups["evidence.json"].line()
    assert (evidence_files[2]).read_bytes().startswith(b'{"checks"')


def test_over_the_configured_limit_is_not_sent(stand_in, evidence_files):
    state, url = stand_in
    ups = change_record.attach(_cfg("servicenow", url, state, max_bytes=100), "CHG0030001", evidence_files)
    assert not ups[2].ok and "over window.attach.max_bytes (100): not sent" in ups[2].line()
    assert [g["file_name"] for g in change_records.received(state)] == ["change-request.html", "junit.xml"]


def test_no_answer_is_one_line(stand_in, evidence_files):
    state, url = stand_in
    _control(state, attach_delay_s=1.5)
    ups = change_record.attach(_cfg("jira", url, state, timeout_s=0.3), "OPS-42", evidence_files[:1])
    assert not ups[0].ok and "no answer from Jira at 127.0.0.1 within 0.3s" in ups[0].line()
