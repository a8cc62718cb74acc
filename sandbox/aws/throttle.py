"""Throttling as AWS does it: a token bucket per API (per account and region in AWS; per server here), refilled at
the API's published rate, answering the service's own throttling error when empty.

Off until asked (``POST /_sandbox/throttle {"mode": "aws"}``, or the ``aws-throttling`` fault); ``scale`` multiplies
every rate (0.5 = twice as hard as AWS). Rates are AWS's published quotas where AWS publishes them (ACM, EC2,
CloudWatch, Secrets Manager, STS) and a cautious guess elsewhere, marked so in RATES.

CloudWatch is not throttled here: botocore speaks its CBOR protocol, whose error body this stand-in does not write.
"""

import threading
import time

from werkzeug.wrappers import Response

from .overlay import Call

# (service, action or "*") -> (bucket size, refill per second, source)
RATES = {
    ("acm", "DescribeCertificate"): (10, 10, "ACM quotas: 10 requests/s"),
    ("acm", "ListCertificates"): (8, 8, "ACM quotas: 8 requests/s"),
    ("acm", "*"): (10, 10, "ACM quotas"),
    ("ec2", "*"): (100, 20, "EC2 API throttling: non-mutating actions, bucket 100, refill 20/s"),
    ("secretsmanager", "ListSecretVersionIds"): (50, 50, "Secrets Manager quotas: 50/s"),
    ("secretsmanager", "*"): (100, 50, "guess"),
    ("sts", "*"): (600, 600, "STS quotas: 600/s"),
    ("ecs", "*"): (50, 20, "ECS API throttling, cluster read actions (approximate)"),
    ("elasticloadbalancing", "*"): (20, 10, "guess"),
    ("ssm", "*"): (20, 10, "guess (SSM describe actions)"),
    ("rds", "*"): (40, 10, "guess (RDS describe actions)"),
    ("ecr", "*"): (20, 10, "guess"),
    ("application-autoscaling", "*"): (20, 10, "guess"),
    ("cloudfront", "*"): (10, 5, "guess"),
    ("s3", "*"): (5500, 5500, "S3: 5,500 GET/HEAD requests/s per prefix"),
}
UNTHROTTLED = {"monitoring"}  # CloudWatch's signing name: see the module docstring


class Bucket:
    def __init__(self, size: float, rate: float):
        self.size, self.rate = size, rate
        self.tokens = size
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Throttle:
    """WSGI middleware in front of the sandbox's AWS app; admin route /_sandbox/throttle switches it."""

    def __init__(self, app):
        self.app = app
        self.mode = "off"
        self.scale = 1.0
        self.throttled = 0
        self._buckets: dict[tuple, Bucket] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name):  # the wrapped app's overlays, dump() ... stay reachable
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == "/_sandbox/throttle":
            return self._admin(environ, start_response)
        if self.mode == "aws" and not path.startswith("/_sandbox/"):
            call = Call(environ, self.app)
            service = call.service
            if service and service not in UNTHROTTLED and not self._take(service, call.action or "*"):
                self.throttled += 1
                return _error(call, service)(environ, start_response)
        return self.app(environ, start_response)

    def _take(self, service: str, action: str) -> bool:
        spec = RATES.get((service, action)) or RATES.get((service, "*"))
        if spec is None:
            return True
        key = (service, action if (service, action) in RATES else "*")
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(spec[0] * self.scale, spec[1] * self.scale)
            return bucket.take()

    def _admin(self, environ, start_response):
        import json

        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            with self._lock:
                self.mode = payload.get("mode", self.mode)
                self.scale = float(payload.get("scale", self.scale))
                self._buckets.clear()
                if payload.get("reset_count"):
                    self.throttled = 0
        body = json.dumps({"mode": self.mode, "scale": self.scale, "throttled": self.throttled})
        return Response(body, 200, content_type="application/json")(environ, start_response)


def _error(call: Call, service: str) -> Response:
    """The throttling error in the service's own protocol, so botocore retries it as it would AWS's."""
    if call.header("X-Amz-Target"):  # JSON protocols
        code = "ThrottlingException"
        return Response(f'{{"__type":"{code}","message":"Rate exceeded"}}', 400,
                        headers={"x-amzn-ErrorType": code}, content_type="application/x-amz-json-1.1")
    if service == "s3":
        return Response("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please "
                        "reduce your request rate.</Message></Error>", 503, content_type="application/xml")
    if service == "ec2":
        return Response("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded"
                        "</Code><Message>Request limit exceeded.</Message></Error></Errors></Response>", 503,
                        content_type="text/xml")
    return Response("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
                    "</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>", 400, content_type="text/xml")
