"""A real environment can never check the wrong system, and a broken file never half-loads (issue 11).

Every run here is a real `python -m pytest --env FILE` in a subprocess, as a person would start it."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from opsproof import config, connect
from opsproof.config import ROOT
from tests.unit.fake_aws import FAKE_KEYS, fake_aws  # noqa: F401 (a fixture)


class CountingListener:
    """A TCP listener that counts the connections it receives (and answers none of them)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.sock.close()


@pytest.fixture
def listener():
    li = CountingListener()
    yield li
    li.close()




def aws_env(tmp_path, body: str = "", account: str = "123456789012", endpoint: str | None = None) -> Path:
    ep = f'endpoint_url = "{endpoint}"\n' if endpoint else ""
    f = tmp_path / "prod.toml"
    f.write_text(f'kind = "aws"\n[timeouts]\nconnect_s = 1\nread_s = 2\naws_attempts = 1\n'
                 f'[aws]\nregion = "us-east-1"\naccount_id = "{account}"\n{ep}{body}')
    return f


def run(tmp_path, env_file: Path, *args, extra_env: dict | None = None, clean_aws=True):
    environ = {k: v for k, v in os.environ.items() if not (clean_aws and k.startswith("AWS_"))}
    environ.pop("OPSPROOF_ENV", None)
    environ.update({"AWS_CONFIG_FILE": str(tmp_path / "no-config"), "AWS_SHARED_CREDENTIALS_FILE":
                    str(tmp_path / "no-credentials"), "OPSPROOF_AWS_CACHE": str(tmp_path / "cache")})
    environ.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), f"--env={env_file}", "-q", "-p", "no:cacheprovider",
         "--no-sandbox-autostart", f"--html={tmp_path}/report.html", f"--junitxml={tmp_path}/junit.xml", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def sandbox_exports(listener_url: str) -> dict:
    """What `eval "$(python -m sandbox status)"` leaves in a shell, with the endpoint moved to the listener."""
    return {"AWS_ENDPOINT_URL": listener_url, "AWS_ENDPOINT_URL_STS": listener_url, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "opsproof-sandbox", "AWS_SECRET_ACCESS_KEY": "opsproof-sandbox",
            "OPSPROOF_ENV": "sandbox"}


# ---- never the wrong target ------------------------------------------------------------------------------------
def test_sandbox_shell_variables_never_reach_a_listener(tmp_path, listener):
    """The issue's leak test: the sandbox's variables exported, AWS_ENDPOINT_URL at a counting listener."""
    r = run(tmp_path, aws_env(tmp_path), "-m", "nightly", extra_env=sandbox_exports(listener.url))
    assert r.returncode == 4, r.stdout + r.stderr
    assert "sandbox's throwaway key" in r.stdout + r.stderr
    assert listener.connections == 0


def test_configured_endpoints_are_ignored_for_a_real_environment(tmp_path, listener, fake_aws):
    """With real-looking keys the run goes where the FILE says: AWS_ENDPOINT_URL*, and endpoint_url in the AWS
    config file, reach nothing."""
    (tmp_path / "no-config").write_text(f"[default]\nendpoint_url = {listener.url}\n")
    env_vars = {**FAKE_KEYS, "AWS_ENDPOINT_URL": listener.url, "AWS_ENDPOINT_URL_STS": listener.url,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": listener.url}
    r = run(tmp_path, aws_env(tmp_path, endpoint=fake_aws), "-m", "secrets", extra_env=env_vars)
    assert r.returncode in (0, 1), r.stdout + r.stderr     # it ran its checks against the file's endpoint
    assert listener.connections == 0
    # ... and with no endpoint in the file it goes to AWS itself (unreachable here: one line, exit 4), never to
    # the listener.
    r = run(tmp_path, aws_env(tmp_path), "-m", "secrets", extra_env=env_vars)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "AWS identity could not be verified" in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert listener.connections == 0


def test_the_account_is_verified_before_any_check(tmp_path, fake_aws):
    r = run(tmp_path, aws_env(tmp_path, account="111111111111", endpoint=fake_aws), "-m", "secrets",
            extra_env=FAKE_KEYS)
    out = r.stdout + r.stderr
    assert r.returncode == 4, out
    assert "account 123456789012, not 111111111111" in out and "aws.account_id" in out
    assert "passed" not in out and "failed" not in out


def test_the_verified_identity_is_in_every_record(tmp_path, fake_aws):
    import json

    r = run(tmp_path, aws_env(tmp_path, endpoint=fake_aws), "-m", "secrets", extra_env=FAKE_KEYS)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    record = json.loads((tmp_path / "evidence.json").read_text())
    target = record["target"]
    assert target["account"] == "123456789012" and target["caller_arn"].startswith("arn:aws:")
    assert target["endpoints"]["sts (us-east-1)"] == fake_aws
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="AWS account" value="123456789012"' in junit
    assert "AWS caller" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("body, key", [
    ('[database]\nhost = "127.0.0.1"\nport = 15432\n', "database.host"),
    ('[database]\nhost = "localhost"\nport = 15433\n', "database.host"),
])
def test_a_target_on_the_sandbox_ports_is_refused(tmp_path, body, key):
    r = run(tmp_path, aws_env(tmp_path, body), "-m", "nightly", extra_env=FAKE_KEYS)
    out = r.stdout + r.stderr
    assert r.returncode == 4, out
    assert key in out and "never checks the sandbox" in out


def test_an_aws_endpoint_on_the_sandbox_port_is_refused(tmp_path):
    r = run(tmp_path, aws_env(tmp_path, endpoint="http://127.0.0.1:15000"), "-m", "nightly", extra_env=FAKE_KEYS)
    assert r.returncode == 4 and "aws.endpoint_url" in r.stdout + r.stderr


# ---- configuration that cannot half-load ---------------------------------------------------------------------------
BROKEN = {
    "empty": (b"", "is empty"),
    "binary": (b"\x00\xff\xfe\x80kind", "not"),
    "no kind": (b'[aws]\naccount_id = "123456789012"\n', "kind: required key is missing"),
    "unknown kind": (b'kind = "gcp"\n', "kind:"),
    "aws without account": (b'kind = "aws"\n', "aws.account_id"),
    "bad account": (b'kind = "aws"\n[aws]\naccount_id = "12345"\n', "aws.account_id"),
    "sandbox without section": (b'kind = "sandbox"\n', "sandbox: required"),
    "aws with a sandbox section": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[sandbox]\n', "sandbox:"),
    "aws with sandbox keys": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\nsandbox_credentials = true\n',
                              "aws.sandbox_credentials"),
    "unknown key": (b'kind = "aws"\nkinds = 1\n[aws]\naccount_id = "123456789012"\n', "kinds: unknown key"),
    "wrong type": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[timeouts]\nconnect_s = "soon"\n',
                   "timeouts.connect_s"),
    "bad port": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[database]\nhost = "db"\nport = 70000\n',
                 "database.port"),
    "database without host": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[database]\n', "host: required"),
    "bad duration": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[window]\nprepare_lead = "soonish"\n',
                     "window.prepare_lead"),
    "bad toml": (b'kind = "aws\n', "not valid TOML"),
    "section with profile and role": (b'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[storage]\n'
                                      b'replica_profile = "dr"\nreplica_role_arn = "arn:aws:iam::210987654321:role/r"\n',
                                      "storage.replica_role_arn: set replica_profile or replica_role_arn, not both"),
    "internal key": (b'kind = "aws"\nsource = "/etc"\n[aws]\naccount_id = "123456789012"\n', "source: unknown key"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_one_line_and_exit_4(tmp_path, case):
    content, culprit = BROKEN[case]
    f = tmp_path / "broken.toml"
    f.write_bytes(content)
    r = run(tmp_path, f, "-m", "nightly", extra_env=FAKE_KEYS)
    out = (r.stdout + r.stderr).strip()
    assert r.returncode == 4, out
    assert "Traceback" not in out and "INTERNALERROR" not in out
    errors = [line for line in out.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "broken.toml" in errors[0] and culprit in errors[0], out


def test_a_selection_needing_a_missing_section_stops_before_the_first_check(tmp_path, fake_aws):
    r = run(tmp_path, aws_env(tmp_path, endpoint=fake_aws), "-m", "database", extra_env=FAKE_KEYS)
    out = r.stdout + r.stderr
    assert r.returncode == 4, out
    assert "[database]: section is missing" in out and "prod.toml" in out and "test_" in out


def test_an_area_left_out_on_purpose_is_skipped_never_passed(tmp_path, fake_aws):
    env_file = aws_env(tmp_path, "[database]\nenabled = false\n", endpoint=fake_aws)
    r = run(tmp_path, env_file, "-m", "database and nightly", "-rs", extra_env=FAKE_KEYS)
    out = r.stdout + r.stderr
    assert r.returncode in (0, 1), out
    assert "not configured" in out and " passed" not in out.split("short test summary")[-1].split("\n")[-2]


def test_messages_name_the_file_that_was_loaded(tmp_path):
    env = config.load(str(aws_env(tmp_path)))
    assert env.file.endswith("prod.toml") and "environments/prod.toml" not in env.file


# ---- one session per target; throttling; honest failures ------------------------------------------------------
def test_credentials_resolve_once_for_every_client(tmp_path, monkeypatch, fake_aws):
    from botocore.credentials import CredentialResolver

    calls = []
    real = CredentialResolver.load_credentials
    monkeypatch.setattr(CredentialResolver, "load_credentials", lambda self: calls.append(1) or real(self))
    for k, v in FAKE_KEYS.items():
        monkeypatch.setenv(k, v)
    env = config.load(str(aws_env(tmp_path, endpoint=fake_aws)))
    for service in ("sts", "rds", "s3", "acm", "elbv2", "cloudfront", "ecs", "ecr", "ssm", "ec2", "secretsmanager",
                    "cloudwatch", "application-autoscaling"):
        connect.aws_client(env, service)
    assert len(calls) == 1


def test_attempts_are_total_attempts_in_adaptive_mode(tmp_path):
    env = config.load(str(aws_env(tmp_path)))
    retries = connect.boto_config(env).retries
    assert retries == {"total_max_attempts": 1, "mode": "adaptive"}


def test_throttling_past_the_budget_is_one_line():
    e = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                     "ResponseMetadata": {"RetryAttempts": 7, "OpsproofElapsedS": 41.2}}, "DescribeCertificate")
    line = connect.explain(e)
    assert line == ("AWS DescribeCertificate: throttled (ThrottlingException) after 8 attempt(s) over 41.2 s; the "
                    "budget is timeouts.aws_attempts (adaptive retries, waits up to 20 s each)")


def test_a_throttling_endpoint_fails_with_the_line(tmp_path):
    """A real HTTP endpoint that throttles every call: the client gives up after the configured attempts."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    hits = []

    def app(environ, start_response):
        hits.append(1)
        return Response('{"__type":"ThrottlingException","message":"Rate exceeded"}', 400,
                        content_type="application/x-amz-json-1.1")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        f = aws_env(tmp_path, endpoint=f"http://127.0.0.1:{server.server_port}")
        f.write_text(f.read_text().replace("aws_attempts = 1", "aws_attempts = 3"))
        env = config.load(str(f))
        os.environ.update(FAKE_KEYS)
        acm = connect.aws_client(env, "acm")
        with pytest.raises(connect.TargetUnreachable) as e:
            connect.aws_call("acm:ListCertificates", acm.list_certificates)
    finally:
        server.shutdown()
        for k in FAKE_KEYS:
            os.environ.pop(k, None)
    assert len(hits) == 3
    assert "acm:ListCertificates: throttled (ThrottlingException) after 3 attempt(s) over" in str(e.value)


def test_a_rejected_password_says_so(sandbox, tmp_path):
    f = tmp_path / "wrong.toml"
    text = (ROOT / "environments" / "sandbox.toml").read_text() if sandbox.env.source is None else \
        sandbox.env.source.read_text()
    (tmp_path / "pw").write_text("not-the-password")
    import re

    text = re.sub(r'(?m)^password_file = .*$', f'password_file = "{tmp_path / "pw"}"', text)
    text = re.sub(r'(?m)^state_dir = .*$', f'state_dir = "{sandbox.dir}"', text)
    f.write_text(text)
    env = config.load(str(f))
    with pytest.raises(connect.TargetUnreachable, match="authentication failed"):
        connect.database(env)


def test_a_closed_port_says_refused(tmp_path):
    f = tmp_path / "closed.toml"
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    f.write_text(f'kind = "aws"\n[aws]\naccount_id = "123456789012"\n[database]\nhost = "127.0.0.1"\nport = {port}\n'
                 'password_env = "NO_SUCH_VAR_SET"\n')
    os.environ["NO_SUCH_VAR_SET"] = "x"
    try:
        with pytest.raises(connect.TargetUnreachable, match="connection refused"):
            connect.database(config.load(str(f)))
    finally:
        os.environ.pop("NO_SUCH_VAR_SET")
