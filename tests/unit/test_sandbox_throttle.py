"""The sandbox throttles like AWS: token buckets per API at the published rates, each service's own error, which
botocore recognises as throttling (and so retries)."""

import json
import threading
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

from opsproof.connect import THROTTLING
from sandbox.aws.server import build_app
from sandbox.aws.throttle import RATES, Bucket


@pytest.fixture(scope="module")
def server():
    app = build_app(None)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def _throttle(url, **payload):
    req = urllib.request.Request(f"{url}/_sandbox/throttle", json.dumps(payload).encode(), method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=5).read())


def _client(url, service):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="opsproof-sandbox",
                        aws_secret_access_key="opsproof-sandbox",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def test_bucket_refills_at_its_rate():
    b = Bucket(2, 10)
    assert b.take() and b.take() and not b.take()
    b.at -= 0.2  # 0.2 s later: two tokens back
    assert b.take() and b.take() and not b.take()


@pytest.mark.parametrize("service, call, code", [
    ("acm", lambda c: c.list_certificates(), "ThrottlingException"),
    ("rds", lambda c: c.describe_db_instances(), "Throttling"),
    ("ec2", lambda c: c.describe_instances(), "RequestLimitExceeded"),
    ("s3", lambda c: c.list_buckets(), "SlowDown"),
])
def test_each_protocol_answers_its_own_throttling_error(server, service, call, code):
    _throttle(server, mode="aws", scale=0.0001, reset_count=True)
    try:
        with pytest.raises(ClientError) as e:
            call(_client(server, service))
    finally:
        state = _throttle(server, mode="off", scale=1.0)
    assert e.value.response["Error"]["Code"] == code and code in THROTTLING
    assert state["throttled"] >= 1


def test_off_by_default_and_rates_are_documented(server):
    assert _throttle(server)["mode"] == "off"
    _client(server, "acm").list_certificates()
    assert all(len(v) == 3 and v[0] > 0 and v[1] > 0 for v in RATES.values())
