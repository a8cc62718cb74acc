"""AWS's page sizes for the list/describe operations the suite calls, in one table and one WSGI layer.

What moto 5.2.5 does: most of these operations answer everything in one reply whatever MaxRecords/MaxResults say
(RDS DescribeDBSnapshots/DescribeDBInstances, CloudWatch DescribeAlarms, ELBv2, ECR, ACM, SSM maintenance windows
and baselines, Secrets Manager versions; the sandbox's own RDS parameter overlay too), and DescribeScalableTargets
pages at 50 with a wrong NextToken (always "49": page 3 repeats page 2). A probe that reads one page passes there
and misses items in production.

What this layer does: for an operation in :data:`TABLE`, it takes the request's page token and page size off the
request, lets the overlays and moto answer the whole listing, and returns one page of it, cut at the size asked
(refused above AWS's maximum, as AWS refuses it) or at the sandbox's page when none was asked, with an opaque token
bound to the request (a token from another request is refused, as AWS does). Result lists are cut in the order the
answer had them (several result keys, e.g. MetricAlarms then CompositeAlarms, count as one sequence).

``page`` is AWS's own default where botocore's model documents one. Where the model is silent (ELBv2, ACM, Secrets
Manager, DescribeAlarms, DescribePatchBaselines) it is a small page, :data:`SMALL`: AWS may use any size in the
model's range, and the sandbox takes one harder than any it is likely to, so the short listings the sandbox holds
cross a page as production's long ones do (SSM's DescribeMaintenanceWindows: its minimum, 10). Code that must read a
whole listing in one call (seeds, faults, tests) asks for the maximum page by name. Operations whose paging an
overlay or moto already does right are not in the table; they are listed in :data:`PAGED_ELSEWHERE` with who pages
them.

JSON protocols (X-Amz-Target) and the query protocol (form body, XML answer) are handled; anything else passes by.
"""

import base64
import hashlib
import io
import json
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.test import run_wsgi_app

from .overlay import Call, Reply, json_error


@dataclass(frozen=True)
class Page:
    input_token: str
    output_token: str
    limit: str
    page: int
    """The page the sandbox answers when the request names no size."""
    maximum: int
    minimum: int
    results: tuple[str, ...]
    """Result keys: JSON member names, or XML element paths below the <...Result> element."""
    source: str
    inner_limit: int | None = None
    """Sent to moto instead of the caller's size, for a backend that pages by itself (badly)."""
    unpaged_with: tuple[str, ...] = ()
    """Request members with which AWS answers everything asked in one reply (and refuses a page size)."""


_RDS = "botocore rds service-2.json MaxRecords: 'Default: 100 Constraints: Minimum 20, maximum 100'"
_ELB = "botocore elbv2 PageSize min 1 max 400, default not documented: a small page, 2"
SMALL = 2
"""The page where AWS documents no default: a listing of three or more crosses a page, as one of hundreds would."""
_AAS = "botocore application-autoscaling MaxResults: 'between 1 and 50. The default value is 50'"

TABLE: dict[tuple[str, str], Page] = {
    # (credential-scope service, action): Page
    ("rds", "DescribeDBSnapshots"): Page("Marker", "Marker", "MaxRecords", 100, 100, 20, ("DBSnapshots",), _RDS),
    ("rds", "DescribeDBClusterSnapshots"): Page("Marker", "Marker", "MaxRecords", 100, 100, 20,
                                                ("DBClusterSnapshots",), _RDS),
    ("rds", "DescribeDBInstances"): Page("Marker", "Marker", "MaxRecords", 100, 100, 20, ("DBInstances",), _RDS),
    ("rds", "DescribeDBParameters"): Page("Marker", "Marker", "MaxRecords", 100, 100, 20, ("Parameters",), _RDS),
    ("monitoring", "DescribeAlarms"): Page(
        "NextToken", "NextToken", "MaxRecords", SMALL, 100, 1, ("MetricAlarms", "CompositeAlarms"),
        "botocore cloudwatch MaxRecords min 1 max 100, default not documented: a small page, 2"),
    ("application-autoscaling", "DescribeScalableTargets"): Page(
        "NextToken", "NextToken", "MaxResults", 50, 50, 1, ("ScalableTargets",), _AAS, inner_limit=1_000_000),
    ("elasticloadbalancing", "DescribeLoadBalancers"): Page("Marker", "NextMarker", "PageSize", SMALL, 400, 1,
                                                            ("LoadBalancers",), _ELB),
    ("elasticloadbalancing", "DescribeTargetGroups"): Page("Marker", "NextMarker", "PageSize", SMALL, 400, 1,
                                                           ("TargetGroups",), _ELB),
    ("elasticloadbalancing", "DescribeListeners"): Page("Marker", "NextMarker", "PageSize", SMALL, 400, 1,
                                                        ("Listeners",), _ELB),
    ("elasticloadbalancing", "DescribeListenerCertificates"): Page("Marker", "NextMarker", "PageSize", SMALL, 400, 1,
                                                                   ("Certificates",), _ELB),
    ("elasticloadbalancing", "DescribeSSLPolicies"): Page("Marker", "NextMarker", "PageSize", SMALL, 400, 1,
                                                          ("SslPolicies",), _ELB),
    ("ecr", "DescribeImages"): Page(
        "nextToken", "nextToken", "maxResults", 100, 1000, 1, ("imageDetails",),
        "botocore ecr maxResults 1-1000: 'If this parameter is not used, ... returns up to 100 results'",
        unpaged_with=("imageIds",)),
    ("ecr", "DescribeImageScanFindings"): Page(
        "nextToken", "nextToken", "maxResults", 100, 1000, 1,
        ("imageScanFindings.findings", "imageScanFindings.enhancedFindings"),
        "botocore ecr maxResults 1-1000: 'If this parameter is not used, ... returns up to 100 results'"),
    ("ecs", "ListServices"): Page(
        "nextToken", "nextToken", "maxResults", 10, 100, 1, ("serviceArns",),
        "botocore ecs maxResults: 'between 1 and 100. If this parameter isn't used, ... up to 10 results'"),
    ("acm", "ListCertificates"): Page(
        "NextToken", "NextToken", "MaxItems", SMALL, 1000, 1, ("CertificateSummaryList",),
        "botocore acm MaxItems min 1 max 1000, default not documented: a small page, 2"),
    ("secretsmanager", "ListSecretVersionIds"): Page(
        "NextToken", "NextToken", "MaxResults", SMALL, 100, 1, ("Versions",),
        "botocore secretsmanager MaxResults min 1 max 100, default not documented: a small page, 2"),
    ("ssm", "DescribeMaintenanceWindows"): Page(
        "NextToken", "NextToken", "MaxResults", 10, 100, 10, ("WindowIdentities",),
        "botocore ssm MaxResults min 10 max 100, default not documented: the minimum, 10"),
    ("ssm", "DescribePatchBaselines"): Page(
        "NextToken", "NextToken", "MaxResults", SMALL, 100, 1, ("BaselineIdentities",),
        "botocore ssm MaxResults min 1 max 100, default not documented: a small page, 2"),
}

PAGED_ELSEWHERE = {
    ("s3", "ListObjectsV2"): "s3_listing.py (MaxKeys, default and maximum 1000)",
    ("ssm", "DescribeInstanceInformation"): "ssm.py (10 by default, MaxResults 5-50)",
    ("ssm", "DescribeInstancePatchStatesForPatchGroup"): "ssm.py page() (50 by default; botocore: 10-100)",
    ("application-autoscaling", "DescribeScalingActivities"): "scaling_activities.py (MaxResults at most 50)",
    ("monitoring", "GetMetricData"): "cloudwatch_metrics.py (MaxDatapoints, default 100,800)",
    ("cloudfront", "ListDistributions"): "moto (MaxItems, default 100)",
    ("ec2", "DescribeInstances"): "moto (MaxResults; without it AWS answers every instance in one reply)",
}


def _fingerprint(params: dict, rule: Page) -> str:
    same = {k: v for k, v in params.items() if k not in (rule.input_token, rule.limit)}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:12]


def encode_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fingerprint}).encode()).decode()


def decode_token(token: str, fingerprint: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["o"]) if data.get("f") == fingerprint else None
    except (ValueError, KeyError, TypeError):
        return None


class Paging:
    """The WSGI layer in front of the overlays and moto (inside the throttle)."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):  # the server reads .overlays and calls .save() on the app it built
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_sandbox/"):
            return self.app(environ, start_response)
        call = Call(environ, self.app)
        rule = TABLE.get((call.service, call.action)) if call.service else None
        if rule is None:
            return self.app(environ, start_response)
        ctype = environ.get("CONTENT_TYPE", "")
        if "json" in ctype:
            reply = self._json(call, rule)
        elif ctype.startswith("application/x-www-form-urlencoded"):
            reply = self._query(call, rule)
        else:
            return self.app(environ, start_response)
        return reply(environ, start_response)

    # ---- the page asked for ------------------------------------------------------------------------------------
    def _size_and_offset(self, params: dict, rule: Page, fingerprint: str, error):
        raw = params.get(rule.limit)
        try:
            size = int(raw) if raw not in (None, "") else rule.page
        except ValueError:
            return None, None, error("ValidationException", f"{rule.limit} must be a number")
        if not rule.minimum <= size <= rule.maximum:
            return None, None, error(
                "ValidationException" if rule.limit != "MaxRecords" or "Alarm" in rule.results[0]
                else "InvalidParameterValue",
                f"1 validation error detected: Value '{size}' at '{rule.limit}' failed to satisfy constraint: "
                f"Member must have value between {rule.minimum} and {rule.maximum}")
        offset = 0
        if params.get(rule.input_token):
            offset = decode_token(str(params[rule.input_token]), fingerprint)
            if offset is None:
                return None, None, error("InvalidNextToken" if rule.input_token != "Marker" else
                                         "InvalidParameterValue", f"Invalid {rule.input_token}")
        return size, offset, None

    def _inner(self, call: Call, body: bytes) -> Reply:
        environ = dict(call.environ)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        try:
            data = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        return Reply(int(status.split(" ", 1)[0]), Headers(headers), data)

    # ---- JSON protocols ----------------------------------------------------------------------------------------
    def _json(self, call: Call, rule: Page) -> Reply:
        params = dict(call.json)
        if any(params.get(k) for k in rule.unpaged_with):
            return self._inner(call, call.body)
        fp = _fingerprint(params, rule)
        size, offset, refused = self._size_and_offset(params, rule, fp, json_error)
        if refused:
            return refused
        params.pop(rule.input_token, None)
        params.pop(rule.limit, None)
        if rule.inner_limit:
            params[rule.limit] = rule.inner_limit
        reply = self._inner(call, json.dumps(params).encode())
        if not reply.ok:
            return reply
        data = reply.json()
        data.pop(rule.output_token, None)
        items = [(key, item) for key in rule.results for item in (_get(data, key) or [])]
        cut = items[offset:offset + size]
        for key in rule.results:
            if _get(data, key) is not None or any(k == key for k, _ in cut):
                _set(data, key, [item for k, item in cut if k == key])
        if offset + size < len(items):
            data[rule.output_token] = encode_token(offset + size, fp)
        return reply.with_json(data)

    # ---- the query protocol (XML answers) ------------------------------------------------------------------------
    def _query(self, call: Call, rule: Page) -> Reply:
        params = dict(call.form)
        fp = _fingerprint(params, rule)
        size, offset, refused = self._size_and_offset(params, rule, fp, _xml_error(call))
        if refused:
            return refused
        params.pop(rule.input_token, None)
        params.pop(rule.limit, None)
        if rule.inner_limit:
            params[rule.limit] = str(rule.inner_limit)
        reply = self._inner(call, urllib.parse.urlencode(params).encode())
        if not reply.ok:
            return reply
        root = ET.fromstring(reply.body)
        ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
        result = root.find(q(f"{call.action}Result"))
        if result is None:
            return reply
        for old in result.findall(q(rule.output_token)):
            result.remove(old)
        lists = [(key, result.find(q(key))) for key in rule.results]
        items = [(el, child) for _, el in lists if el is not None for child in list(el)]
        keep = {id(child) for _, child in items[offset:offset + size]}
        for el, child in items:
            if id(child) not in keep:
                el.remove(child)
        if offset + size < len(items):
            ET.SubElement(result, q(rule.output_token)).text = encode_token(offset + size, fp)
        if ns:
            ET.register_namespace("", ns)
        return reply.with_body(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _get(data: dict, path: str):
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _set(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _xml_error(call: Call):
    def error(code: str, message: str, status: int = 400) -> Reply:
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>'
                f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
        return Reply(status, Headers({"Content-Type": "text/xml", "Content-Length": str(len(body))}), body)

    return error
