"""A record of every AWS response, for the project's contract test (never on in a real run unless asked).

    OPSPROOF_RECORD_CALLS=/tmp/calls.jsonl python -m pytest -m post_maintenance

With that variable set, every client :func:`opsproof.connect.aws_client` makes appends one JSON line per API call
(after botocore's retries, i.e. per call a probe made) to the file. A line holds no values from the response but
its paging tokens (opaque), item counts and the problems found against the operation's output shape:

    {"pid": 4242, "client": 140234, "service": "rds", "api": "rds", "section": "backups", "region": "us-east-1",
     "operation": "DescribeDBSnapshots",
     "status": 200, "error": null, "paginated": true, "limit": null,
     "in_token": null, "out_token": ["abc"], "items": 100, "violations": []}

``in_token``/``out_token`` are the values of the operation's input and output tokens (botocore's paginators-1.json,
else a member named NextToken/nextToken/Marker/NextMarker in both the input and output shape); ``out_token`` is
null when the response says there is no next page. A next page was requested when a later line of the same pid,
client and operation has ``in_token`` equal to this ``out_token``. ``violations`` are strings ``path: problem``
naming members and types, never values (enum values excepted: they are AWS's words, not data).

botocore has no output validator; :func:`violations` is a small recursive one over ``botocore.model`` shapes:
required members present, types as botocore's parsers produce them, enum strings among the model's values.
"""

import datetime as dt
import json
import os
import threading
from functools import lru_cache

ENV = "OPSPROOF_RECORD_CALLS"
TOKEN_NAMES = ("NextToken", "nextToken", "NextMarker", "Marker", "NextContinuationToken")
MAX_VIOLATIONS = 20
_write_lock = threading.Lock()


def register(client, section: str = "aws") -> None:
    """Record this client's calls when OPSPROOF_RECORD_CALLS names a file (one line in connect's _instrument);
    section: the configuration section whose resources the client reads, for the IAM policies (opsproof/iam.py)."""
    path = os.environ.get(ENV)
    if not path:
        return
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    api = client.meta.service_model.service_name  # boto3's name (elbv2), from which IAM's prefix is looked up
    region = client.meta.region_name
    ident = id(client)

    def before(params=None, model=None, context=None, **_):
        if context is not None and model is not None and isinstance(params, dict):
            config = paging_config(client.meta.service_model.service_name, client.meta.service_model.api_version,
                                   model.name)
            context["opsproof_paging"] = (config, _tokens(params, config["input"]) if config else None,
                                          params.get(config["limit"]) if config and config["limit"] else None)

    def after(http_response=None, parsed=None, model=None, context=None, **_):
        if model is None or parsed is None:
            return
        config, in_token, limit = (context or {}).get("opsproof_paging", (None, None, None))
        status = getattr(http_response, "status_code", None)
        error = (parsed.get("Error") or {}).get("Code") if isinstance(parsed, dict) else None
        line = {"pid": os.getpid(), "client": ident, "service": service, "api": api, "section": section,
                "region": region,
                "operation": model.name, "status": status, "error": error, "paginated": config is not None,
                "limit": limit, "in_token": in_token, "out_token": None, "items": None, "violations": []}
        if not error and status is not None and status < 300:
            if config:
                line["out_token"] = next_token(parsed, config)
                line["items"] = _items(parsed, config)
            line["violations"] = violations(model.output_shape, parsed)[:MAX_VIOLATIONS]
        text = json.dumps(line, default=str) + "\n"
        with _write_lock, open(path, "a", encoding="utf-8") as f:  # one write per line: O_APPEND keeps lines whole
            f.write(text)

    events.register("before-parameter-build", before)
    events.register("after-call", after)


# ---- paging -----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _paginators(service_name: str, api_version: str) -> dict:
    import botocore.loaders

    try:
        return botocore.loaders.create_loader().load_service_model(service_name, "paginators-1",
                                                                   api_version)["pagination"]
    except Exception:  # a service without paginators
        return {}


@lru_cache(maxsize=None)
def _service_model(service_name: str, api_version: str):
    import botocore.loaders
    import botocore.model

    data = botocore.loaders.create_loader().load_service_model(service_name, "service-2", api_version)
    return botocore.model.ServiceModel(data, service_name)


@lru_cache(maxsize=None)
def paging_config(service_name: str, api_version: str, operation: str) -> dict | None:
    """{"input": [names], "output": [jmespath], "more": jmespath|None, "limit": name|None, "result": [jmespath]}
    for a paginated operation, else None."""
    p = _paginators(service_name, api_version).get(operation)
    if p:
        listify = lambda v: list(v) if isinstance(v, list) else [v] if v else []  # noqa: E731
        return {"input": listify(p.get("input_token")), "output": listify(p.get("output_token")),
                "more": p.get("more_results"), "limit": p.get("limit_key"), "result": listify(p.get("result_key"))}
    op = _service_model(service_name, api_version).operation_model(operation)
    ins = op.input_shape.members if op.input_shape is not None else {}
    outs = op.output_shape.members if op.output_shape is not None else {}
    for name in TOKEN_NAMES:
        if name in ins and name in outs:
            limit = next((n for n in ("MaxResults", "maxResults", "MaxRecords", "MaxItems") if n in ins), None)
            return {"input": [name], "output": [name], "more": None, "limit": limit, "result": []}
    return None


def _tokens(params: dict, names: list[str]) -> list | None:
    values = [params.get(n) for n in names]
    return values if any(v is not None for v in values) else None


def next_token(parsed: dict, config: dict) -> list | None:
    """The values the next request must send, or None when this was the last page."""
    import jmespath

    if config["more"] and not jmespath.search(config["more"], parsed):
        return None
    values = [jmespath.search(expr, parsed) for expr in config["output"]]
    return values if any(v not in (None, "") for v in values) else None


def _items(parsed: dict, config: dict) -> int | None:
    import jmespath

    counts = [jmespath.search(expr, parsed) for expr in config["result"]]
    counts = [len(c) for c in counts if isinstance(c, list)]
    return sum(counts) if counts else None


# ---- output shapes ----------------------------------------------------------------------------------------------
def violations(shape, value, path: str = "$") -> list[str]:
    """Where a parsed response breaks its botocore output shape: missing required members, wrong types, enum
    values outside the model. Members the model does not know (ResponseMetadata) are ignored."""
    found: list[str] = []
    if shape is not None:
        _check(shape, value, path, found)
    return found


_SCALARS = {"string": (str,), "character": (str,), "integer": (int,), "long": (int,), "float": (float, int),
            "double": (float, int), "boolean": (bool,), "timestamp": (dt.datetime,), "blob": (bytes, bytearray)}


def _check(shape, value, path: str, found: list[str]) -> None:
    if len(found) >= MAX_VIOLATIONS or value is None:
        return
    kind = shape.type_name
    if shape.serialization.get("eventstream") or getattr(shape, "metadata", {}).get("streaming"):
        return
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__}, the model says structure {shape.name}")
            return
        for name in shape.required_members:
            if name not in value:
                found.append(f"{path}.{name}: required by {shape.name}, missing")
        for name, member in shape.members.items():
            if name in value:
                _check(member, value[name], f"{path}.{name}", found)
    elif kind == "list":
        if not isinstance(value, list):
            found.append(f"{path}: {type(value).__name__}, the model says list {shape.name}")
            return
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__}, the model says map {shape.name}")
            return
        for k, v in value.items():
            _check(shape.value, v, f"{path}[{k!r}]", found)
    elif kind in _SCALARS:
        ok = isinstance(value, _SCALARS[kind]) and not (kind != "boolean" and isinstance(value, bool))
        if kind == "blob" and hasattr(value, "read"):
            ok = True  # a streaming body
        if not ok:
            found.append(f"{path}: {type(value).__name__}, the model says {kind} ({shape.name})")
        elif kind == "string" and shape.enum and value not in shape.enum:
            found.append(f"{path}: {value[:60]!r} is not one of {shape.name}'s values")


# ---- reading a record -------------------------------------------------------------------------------------------
def read(path) -> list[dict]:
    from pathlib import Path

    p = Path(path)
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] if p.exists() else []


def listings(lines: list[dict]) -> list[dict]:
    """Each paginated listing as {"service", "operation", "pages", "unfollowed": line|None}: a first page (no
    in_token) and the pages that followed its tokens, per pid and client."""
    follow: dict[tuple, dict] = {}
    found = []
    for line in lines:
        if not line.get("paginated") or line.get("error"):
            continue
        key = (line["pid"], line["client"], line["service"], line["operation"])
        chain = follow.pop((*key, json.dumps(line["in_token"])), None) if line["in_token"] is not None else None
        if chain is None:
            chain = {"service": line["service"], "operation": line["operation"], "pages": 0, "unfollowed": None,
                     "first_in_token": line["in_token"]}
            found.append(chain)
        chain["pages"] += 1
        chain["unfollowed"] = None
        if line["out_token"] is not None:
            chain["unfollowed"] = line
            follow[(*key, json.dumps(line["out_token"]))] = chain
    return found


def pages_by_operation(lines: list[dict]) -> dict[tuple[str, str], dict]:
    """(service, operation) -> {"listings": n, "max_pages": n, "calls": n} over a record."""
    table: dict[tuple[str, str], dict] = {}
    for chain in listings(lines):
        row = table.setdefault((chain["service"], chain["operation"]), {"listings": 0, "max_pages": 0, "calls": 0})
        row["listings"] += 1
        row["calls"] += chain["pages"]
        row["max_pages"] = max(row["max_pages"], chain["pages"])
    return table
