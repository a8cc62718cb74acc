"""RDS DB parameter groups as RDS shows them: every parameter of the family, not only the ones someone changed.

What moto 5.2.5 does: DescribeDBParameters lists only the parameters ModifyDBParameterGroup was given (the seed's
six), with no Source, ApplyType, DataType, AllowedValues or IsModifiable; ModifyDBParameterGroup accepts any name
and any value ("8GB" for shared_buffers, which RDS refuses).

What this overlay adds, for groups of a family it has data for (postgres15: ``data/rds-postgres15-parameters.json``,
326 parameters; its origin is documented in ``data/make_rds_postgres15.py``):

* DescribeDBParameters answers the whole family: values RDS's default group sets itself (Source ``system``: base
  units and formulas such as ``{DBInstanceClassMemory/32768}``, ``LEAST({DBInstanceClassMemory/9531392},5000)``,
  ``GREATEST(...)``), parameters left at PostgreSQL's default (Source ``engine-default``, no ParameterValue), and
  the group's own changes (Source ``user``, with their ApplyMethod). The Source filter works as on AWS. (Paging:
  one reply; AWS pages at MaxRecords 100 - the sandbox's paging layer applies it.)
* ModifyDBParameterGroup refuses what RDS refuses: an unknown parameter, one that is not modifiable, a value outside
  an integer/real parameter's AllowedValues (unless a {formula}), an enum value not allowed, ApplyMethod immediate
  for a static parameter.

* ResetDBParameterGroup (moto lacks it) drops the group's own values (ResetAllParameters, or the Parameters named):
  they read as RDS's defaults again.

Other families fall through to moto. No admin routes: faults use ModifyDBParameterGroup, as a person would.
"""

import json
import re
import uuid
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

from .overlay import Call, Overlay, Reply, handles, moto_backend

NS = "http://rds.amazonaws.com/doc/2014-10-31/"
DATA = Path(__file__).with_name("data")
FIELDS = ("ParameterName", "ParameterValue", "Description", "Source", "ApplyType", "DataType", "AllowedValues",
          "IsModifiable", "MinimumEngineVersion", "ApplyMethod")


@lru_cache(maxsize=None)
def family_defaults(family: str) -> dict[str, dict] | None:
    path = DATA / f"rds-{family}-parameters.json"
    if not path.exists():
        return None
    return {p["ParameterName"]: p for p in json.loads(path.read_text())["parameters"]}


class RdsParameters(Overlay):
    name = "rds-parameters"

    @handles("rds", "DescribeDBParameters")
    def describe(self, call: Call) -> Reply:
        form = call.form
        group = self._group(form.get("DBParameterGroupName", ""), call.region)
        defaults = family_defaults(group.family) if group is not None and group.family else None
        if defaults is None:
            return call.forward()
        source = form.get("Source")
        rows = []
        for name, p in defaults.items():
            mine = group.parameters.get(name)
            if mine and mine.get("ParameterValue") is not None:
                p = {**p, "ParameterValue": str(mine["ParameterValue"]), "Source": "user",
                     "ApplyMethod": mine.get("ApplyMethod") or p["ApplyMethod"]}
            if source and p["Source"] != source:
                continue
            rows.append(p)
        root = ET.Element("DescribeDBParametersResponse", xmlns=NS)
        params = ET.SubElement(ET.SubElement(root, "DescribeDBParametersResult"), "Parameters")
        for p in rows:
            el = ET.SubElement(params, "Parameter")
            for f in FIELDS:
                if f in p:
                    ET.SubElement(el, f).text = str(p[f]).lower() if isinstance(p[f], bool) else str(p[f])
        ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = str(uuid.uuid4())
        return _xml(200, root)

    @handles("rds", "ModifyDBParameterGroup")
    def modify(self, call: Call) -> Reply:
        form = call.form  # read before moto consumes the body
        group = self._group(form.get("DBParameterGroupName", ""), call.region)
        defaults = family_defaults(group.family) if group is not None and group.family else None
        if defaults is not None:
            for p in _parameters(form):
                name = p.get("ParameterName", "")
                problem = refusal(defaults.get(name), name, p.get("ParameterValue"), p.get("ApplyMethod"))
                if problem:
                    return _error(*problem)
        return call.forward()

    @handles("rds", "ResetDBParameterGroup")
    def reset_group(self, call: Call) -> Reply:
        form = call.form
        name = form.get("DBParameterGroupName", "")
        group = self._group(name, call.region)
        if group is None:
            return _error("DBParameterGroupNotFound", f"DBParameterGroup not found: {name}", 404)
        names = [p["ParameterName"] for p in _parameters(form) if "ParameterName" in p]
        if form.get("ResetAllParameters", "false").lower() == "true":
            names = list(group.parameters)
        with self.lock:
            for n in names:
                group.parameters.pop(n, None)
        root = ET.Element("ResetDBParameterGroupResponse", xmlns=NS)
        ET.SubElement(ET.SubElement(root, "ResetDBParameterGroupResult"), "DBParameterGroupName").text = group.name
        ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = str(uuid.uuid4())
        return _xml(200, root)

    @staticmethod
    def _group(name: str, region: str):
        return moto_backend("rds", region).db_parameter_groups.get(name.lower())


def refusal(p: dict | None, name: str, value: str | None, method: str | None) -> tuple[str, str] | None:
    """(error code, message) when RDS would refuse to set the parameter so, else None."""
    if p is None:
        return "InvalidParameterValue", f"Could not find parameter with name: {name}"
    if not p.get("IsModifiable", True):
        return "InvalidParameterValue", f"The parameter {name} cannot be modified."
    if method == "immediate" and p.get("ApplyType") == "static":
        return "InvalidParameterCombination", f"cannot use immediate apply method for static parameter {name}"
    if value is None or "{" in value or re.match(r"(LEAST|GREATEST|SUM)\s*\(", value, re.I):
        return None  # a formula: RDS evaluates it per instance class
    allowed, kind = p.get("AllowedValues"), p.get("DataType")
    bad = ("InvalidParameterValue", f"Invalid parameter value: {value} for: {name} allowed values are: {allowed}")
    if kind in ("integer", "real") and allowed:
        m = re.fullmatch(r"(-?[\d.]+)-(-?[\d.]+)", allowed)
        try:
            n = int(value) if kind == "integer" else float(value)
        except ValueError:
            return bad
        if m and not float(m.group(1)) <= n <= float(m.group(2)):
            return bad
    elif kind == "boolean" and value not in ("0", "1", "on", "off", "true", "false"):
        return bad
    elif kind == "string" and allowed and "," in allowed and value not in allowed.split(","):
        return bad
    return None


def _parameters(form: dict) -> list[dict]:
    """Parameters.Parameter.N.Field (botocore: the list's member is named Parameter) or Parameters.member.N.Field."""
    found: dict[int, dict] = {}
    for key, value in form.items():
        m = re.fullmatch(r"Parameters\.(?:Parameter|member)\.(\d+)\.(\w+)", key)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [found[i] for i in sorted(found)]


def _xml(status: int, root: ET.Element) -> Reply:
    from werkzeug.datastructures import Headers

    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Reply(status, Headers({"Content-Type": "text/xml", "Content-Length": str(len(body)),
                                  "x-amzn-RequestId": str(uuid.uuid4())}), body)


def _error(code: str, message: str, status: int = 400) -> Reply:
    root = ET.Element("ErrorResponse", xmlns=NS)
    err = ET.SubElement(root, "Error")
    ET.SubElement(err, "Type").text = "Sender"
    ET.SubElement(err, "Code").text = code
    ET.SubElement(err, "Message").text = message
    ET.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return _xml(status, root)
