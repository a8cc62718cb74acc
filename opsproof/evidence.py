"""Evidence: the measured values a check leaves behind (tables, values, JSON, text), rendered for the report.

    >>> ev = Evidence()
    >>> ev.value("days left", 364.9)
    >>> ev.table("invalid indexes", [])
    >>> ev.as_text()
    'days left: 364.9\\ninvalid indexes: (none)'

A secret never enters evidence: values of pydantic SecretStr are refused, and any resolved credential
(opsproof.secrets) is masked on rendering as a second line of defence.
"""

import dataclasses
import datetime as dt
import html
import json
from typing import Any

from pydantic import SecretStr

from . import secrets
from .errors import SecretInEvidence


def _plain(v: Any) -> Any:
    if isinstance(v, SecretStr):
        raise SecretInEvidence("a secret was passed to evidence")
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k: _plain(x) for k, x in dataclasses.asdict(v).items()}
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


@dataclasses.dataclass
class Item:
    kind: str  # value | table | json | text | image
    title: str
    payload: Any


class Evidence:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self.found: list = []
        """The check's Findings (opsproof/findings.py): what evidence.json, JUnit and the logs report as its result."""

    def findings(self, title: str, found: list) -> None:
        """The rule's Findings, kept as the check's result and shown as a table."""
        self.found.extend(found)
        self.table(title, [f.row() for f in found])

    def value(self, name: str, value: Any, unit: str = "") -> None:
        """One measured number or fact, e.g. value('days left', 364.9)."""
        self.items.append(Item("value", name, (_plain(value), unit)))

    def table(self, title: str, rows: Any) -> None:
        """Rows as dataclasses or dicts; an empty table is evidence too ('none found')."""
        self.items.append(Item("table", title, [_plain(r) for r in rows]))

    def json(self, title: str, data: Any) -> None:
        self.items.append(Item("json", title, _plain(data)))

    def text(self, title: str, text: str) -> None:
        self.items.append(Item("text", title, str(text)))

    def image(self, title: str, png: bytes) -> None:
        """A PNG (a capacity chart, say), embedded in the self-contained report."""
        self.items.append(Item("image", title, png))

    # ---- rendering ---------------------------------------------------------------------------------------------
    def as_dict(self) -> list[dict]:
        return [{"kind": i.kind, "title": i.title, "payload": i.payload} for i in self.items if i.kind != "image"]

    def as_text(self) -> str:
        lines = []
        for i in self.items:
            if i.kind == "value":
                v, unit = i.payload
                lines.append(f"{i.title}: {v}{(' ' + unit) if unit else ''}")
            elif i.kind == "table":
                lines.append(f"{i.title}: {len(i.payload)} row(s)" if i.payload else f"{i.title}: (none)")
                lines.extend(f"  {json.dumps(r, default=str)}" for r in i.payload[:50])
            elif i.kind == "json":
                lines.append(f"{i.title}: {json.dumps(i.payload, default=str)}")
            elif i.kind == "text":
                lines.append(f"{i.title}:\n{i.payload}")
        return secrets.redact("\n".join(lines))

    def as_html(self) -> str:
        parts = []
        for i in self.items:
            t = html.escape(i.title)
            if i.kind == "value":
                v, unit = i.payload
                parts.append(f"<p><b>{t}</b>: {html.escape(str(v))} {html.escape(unit)}</p>")
            elif i.kind == "table":
                parts.append(_html_table(t, i.payload))
            elif i.kind == "json":
                parts.append(f"<p><b>{t}</b></p><pre>{html.escape(json.dumps(i.payload, indent=2, default=str))}"
                             "</pre>")
            elif i.kind == "text":
                parts.append(f"<p><b>{t}</b></p><pre>{html.escape(i.payload)}</pre>")
            elif i.kind == "image":
                import base64

                b64 = base64.b64encode(i.payload).decode()
                parts.append(f"<p><b>{t}</b></p><img alt='{t}' src='data:image/png;base64,{b64}'/>")
        return secrets.redact("<div class='opsproof-evidence'>" + "".join(parts) + "</div>")


def _html_table(title: str, rows: list) -> str:
    if not rows:
        return f"<p><b>{title}</b>: none</p>"
    if not isinstance(rows[0], dict):
        rows = [{"value": r} for r in rows]
    cols = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols) + "</tr>"
                   for r in rows[:200])
    more = f"<p>… {len(rows) - 200} more rows</p>" if len(rows) > 200 else ""
    return f"<p><b>{title}</b> ({len(rows)})</p><table border='1'><tr>{head}</tr>{body}</table>{more}"
