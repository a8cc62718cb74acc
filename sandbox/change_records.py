"""Stand-ins for the change records a window's evidence is attached to, served by sandbox/web.py:

    GET  /api/now/table/change_request?sysparm_query=number=CHG...     ServiceNow Table API: the change's sys_id
    POST /api/now/attachment/file?table_name=change_request&table_sys_id=...&file_name=...   raw body = the file
    POST /rest/api/3/issue/KEY/attachments   Jira: multipart/form-data, field "file", X-Atlassian-Token: no-check

Both want Basic auth with the throwaway credentials in <state>/secrets/change-records.json (made at start; the
client reads the same file: window.attach.credentials_file) and answer as the real ones do: 401 without them, 403
without Jira's XSRF header, 400 for a body off its shape, 413 over the size limit. What they accept is kept byte for
byte: <state>/receivers/<servicenow|jira>/<record>/<file name>, and one line per request in attachments.jsonl
(method, path, query, headers less Authorization, size, sha256).

Faults via <state>/run/web.json: {"attach_max_bytes": 1000} (413 above it), {"attach_delay_s": 5} (no answer in
time), {"attach_password": "wrong"} (the credentials are refused).
"""

import base64
import email.parser
import email.policy
import hashlib
import json
import secrets
import time
import uuid
from pathlib import Path

from . import throwaway
from urllib.parse import parse_qs, urlsplit

CREDENTIALS_FILE = "change-records.json"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
PREFIXES = ("/api/now/", "/rest/api/3/")


def handles(path: str) -> bool:
    return path.startswith(PREFIXES)


def ensure_credentials(state: Path) -> Path:
    return throwaway.credentials(state, CREDENTIALS_FILE)


def sys_id_of(number: str) -> str:
    """A change's sys_id (32 hex digits, as ServiceNow's), the same for the same number."""
    return hashlib.sha1(f"change_request:{number}".encode()).hexdigest()[:32]


def received(state: Path) -> list[dict]:
    path = state / "receivers" / "attachments.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def handle(api, method: str, state: Path, control: dict) -> None:
    """Answer one request on api (a BaseHTTPRequestHandler)."""
    url = urlsplit(api.path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    n = int(api.headers.get("Content-Length") or 0)
    body = api.rfile.read(n) if n else b""
    time.sleep(float(control.get("attach_delay_s", 0)))
    if not _authorised(api.headers.get("Authorization", ""), state, control):
        return _send(api, 401, {"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth "
                                                                                          "information"}})
    if method == "GET" and url.path == "/api/now/table/change_request":
        number = query.get("sysparm_query", "").removeprefix("number=")
        if not number:
            return _send(api, 400, {"error": {"message": "sysparm_query number=... is required"}})
        return _send(api, 200, {"result": [{"sys_id": sys_id_of(number), "number": number}]})
    if method == "POST" and url.path == "/api/now/attachment/file":
        return _servicenow_attachment(api, state, control, query, body)
    parts = url.path.strip("/").split("/")  # rest api 3 issue KEY attachments
    if method == "POST" and len(parts) == 6 and parts[3] == "issue" and parts[5] == "attachments":
        return _jira_attachment(api, state, control, parts[4], body)
    _send(api, 404, {"error": "not found"})


def _servicenow_attachment(api, state, control, query, body) -> None:
    missing = [k for k in ("table_name", "table_sys_id", "file_name") if not query.get(k)]
    if missing or query["table_name"] != "change_request":
        return _send(api, 400, {"error": {"message": f"missing or invalid: {', '.join(missing) or 'table_name'}"}})
    if not api.headers.get("Content-Type"):
        return _send(api, 400, {"error": {"message": "Content-Type is required"}})
    if len(body) > int(control.get("attach_max_bytes", DEFAULT_MAX_BYTES)):
        return _send(api, 413, {"error": {"message": "Attachment size exceeds maximum allowed"}})
    att = _keep(api, state, "servicenow", query["table_sys_id"], query["file_name"], body, query)
    _send(api, 201, {"result": {"sys_id": att, "file_name": query["file_name"], "size_bytes": str(len(body)),
                                "table_name": "change_request", "table_sys_id": query["table_sys_id"],
                                "content_type": api.headers.get("Content-Type")}})


def _jira_attachment(api, state, control, key, body) -> None:
    if api.headers.get("X-Atlassian-Token") != "no-check":
        return _send(api, 403, {"errorMessages": ["XSRF check failed"]})
    ctype = api.headers.get("Content-Type", "")
    if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
        return _send(api, 415, {"errorMessages": ["Content-Type must be multipart/form-data"]})
    if len(body) > int(control.get("attach_max_bytes", DEFAULT_MAX_BYTES)):
        return _send(api, 413, {"errorMessages": ["The attachment is larger than the maximum allowed size"]})
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    files = [p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
    if not msg.is_multipart() or not files:
        return _send(api, 400, {"errorMessages": ['no multipart field named "file"']})
    out = []
    for part in files:
        name = part.get_filename() or "unnamed"
        data = part.get_payload(decode=True) or b""
        att = _keep(api, state, "jira", key, name, data, {})
        out.append({"id": att, "filename": name, "size": len(data), "mimeType": part.get_content_type()})
    _send(api, 200, out)


def _authorised(header: str, state: Path, control: dict) -> bool:
    creds = json.loads((state / "secrets" / CREDENTIALS_FILE).read_text())
    password = control.get("attach_password", creds["password"])
    want = base64.b64encode(f"{creds['user']}:{password}".encode()).decode()
    return secrets.compare_digest(header, f"Basic {want}")


def _keep(api, state: Path, system: str, record: str, name: str, data: bytes, query: dict) -> str:
    att = uuid.uuid4().hex
    folder = state / "receivers" / system / Path(record).name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / Path(name).name).write_bytes(data)
    line = {"system": system, "record": record, "file_name": name, "attachment": att, "method": api.command,
            "path": urlsplit(api.path).path, "query": query, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "headers": {k: v for k, v in api.headers.items() if k.lower() != "authorization"}}
    with (state / "receivers" / "attachments.jsonl").open("a") as f:
        f.write(json.dumps(line) + "\n")
    return att


def _send(api, status: int, body) -> None:
    data = json.dumps(body).encode()
    api.send_response(status)
    api.send_header("Content-Type", "application/json")
    api.send_header("Content-Length", str(len(data)))
    api.end_headers()
    try:
        api.wfile.write(data)
    except BrokenPipeError:  # the client gave up waiting (the timeout fault): nobody to answer
        pass
