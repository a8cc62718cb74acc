"""CloudWatch alarm history and composite alarms, which moto does not keep.

What moto 5.2.5 does: PutMetricAlarm and SetAlarmState work (alarms are never evaluated: their state changes only
through SetAlarmState); DescribeAlarmHistory and PutCompositeAlarm are not implemented (HTTP 500); DescribeAlarms
ignores AlarmTypes.

What this overlay adds: every SetAlarmState that changes an alarm's state, and every PutMetricAlarm, is recorded as
an alarm history item (StateUpdate / ConfigurationUpdate, with AWS's HistoryData JSON), and DescribeAlarmHistory
answers from that record (AlarmName, AlarmTypes, HistoryItemType, StartDate, EndDate, MaxRecords, ScanBy,
NextToken). The history lives as long as the server, like moto's alarms.

Composite alarms (PutCompositeAlarm) live here: their AlarmRule (ALARM/OK/INSUFFICIENT_DATA("name"), TRUE, FALSE,
AND, OR, NOT, parentheses) is evaluated as AWS does whenever a child's state changes, and SetAlarmState sets them
too. As on AWS, DescribeAlarms lists composite alarms only when AlarmTypes asks for CompositeAlarm (omitted: metric
alarms only, "even if composite alarms exist in the account"), and DescribeAlarmHistory returns composite alarms'
items only when AlarmTypes asks for them (omitted: metric alarms only). DeleteAlarms deletes both kinds.

No admin routes: faults use the real API (SetAlarmState), which is what puts an alarm into ALARM in production too.
"""

import re

import datetime as dt
import importlib
import json

from .overlay import Call, Overlay, Reply, handles, json_reply, now, parse_time

MAX_ITEMS = 5000


def _alarm_state(region: str, name: str) -> tuple[str | None, str]:
    from moto.core import DEFAULT_ACCOUNT_ID

    backends = importlib.import_module("moto.cloudwatch.models").cloudwatch_backends
    alarm = backends[DEFAULT_ACCOUNT_ID][region].alarms.get(name)
    if alarm is None:
        return None, ""
    return alarm.state_value, alarm.state_reason or ""


class AlarmHistory(Overlay):
    name = "alarm-history"

    def __init__(self):
        super().__init__()
        self.composites: dict[tuple[str, str], dict] = {}  # (region, name) -> CompositeAlarm (survives reset)

    def initial_state(self) -> dict:
        return {"history": []}

    def record(self, item: dict) -> None:
        with self.lock:
            self.state["history"].append(item)
            del self.state["history"][:-MAX_ITEMS]

    @handles("monitoring", "SetAlarmState")
    def set_alarm_state(self, call: Call) -> Reply:
        body = call.json
        name = body.get("AlarmName", "")
        if (call.region, name) in self.composites:
            self.transition(call.region, name, body.get("StateValue", ""), body.get("StateReason", ""))
            return json_reply({}, content_type="application/x-amz-json-1.0")
        old, old_reason = _alarm_state(call.region, name)
        reply = call.forward()
        new = body.get("StateValue")
        if reply.ok and old is not None and new and new != old:
            at = now()
            data = {"version": "1.0",
                    "oldState": {"stateValue": old, "stateReason": old_reason},
                    "newState": {"stateValue": new, "stateReason": body.get("StateReason", ""),
                                 **({"stateReasonData": json.loads(body["StateReasonData"])}
                                    if _json(body.get("StateReasonData")) else {})}}
            self.record({"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": at.timestamp(),
                         "HistoryItemType": "StateUpdate", "HistorySummary": f"Alarm updated from {old} to {new}",
                         "HistoryData": json.dumps(data), "region": call.region})
        if reply.ok:
            self.evaluate(call.region)
        return reply

    @handles("monitoring", "PutMetricAlarm")
    def put_metric_alarm(self, call: Call) -> Reply:
        name = call.json.get("AlarmName", "")
        existed = _alarm_state(call.region, name)[0] is not None
        reply = call.forward()
        if reply.ok:
            self.record({"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": now().timestamp(),
                         "HistoryItemType": "ConfigurationUpdate",
                         "HistorySummary": f"Alarm \"{name}\" {'updated' if existed else 'created'}",
                         "HistoryData": json.dumps({"type": "Update" if existed else "Create", "version": "1.0"}),
                         "region": call.region})
        return reply

    @handles("monitoring", "DescribeAlarmHistory")
    def describe_alarm_history(self, call: Call) -> Reply:
        body = call.json
        start = _time(body.get("StartDate"))
        end = _time(body.get("EndDate"))
        with self.lock:
            items = [dict(i) for i in self.state["history"] if i.get("region") == call.region]
        if body.get("AlarmName"):
            items = [i for i in items if i["AlarmName"] == body["AlarmName"]]
        types = body.get("AlarmTypes") or ["MetricAlarm"]  # AWS: omitted, only metric alarms' items
        items = [i for i in items if i["AlarmType"] in types]
        if body.get("HistoryItemType"):
            items = [i for i in items if i["HistoryItemType"] == body["HistoryItemType"]]
        if start:
            items = [i for i in items if i["Timestamp"] >= start.timestamp()]
        if end:
            items = [i for i in items if i["Timestamp"] <= end.timestamp()]
        items.sort(key=lambda i: i["Timestamp"], reverse=body.get("ScanBy", "TimestampDescending") !=
                   "TimestampAscending")
        offset = int(body.get("NextToken") or 0)
        size = int(body.get("MaxRecords") or 100)
        page = items[offset:offset + size]
        for i in page:
            i.pop("region", None)
        out = {"AlarmHistoryItems": page}
        if offset + size < len(items):
            out["NextToken"] = str(offset + size)
        return json_reply(out, content_type="application/x-amz-json-1.0")


    # ---- composite alarms --------------------------------------------------------------------------------------
    @handles("monitoring", "PutCompositeAlarm")
    def put_composite_alarm(self, call: Call) -> Reply:
        body = call.json
        name, rule = body.get("AlarmName", ""), body.get("AlarmRule", "")
        try:
            _rule_names(rule)
        except ValueError as e:
            return _error("InvalidParameterValue", f"AlarmRule: {e}")
        at = now()
        with self.lock:
            old = self.composites.get((call.region, name))
            alarm = {**(old or {"StateValue": "INSUFFICIENT_DATA", "StateReason": "Unchecked: Initial alarm creation",
                                "StateUpdatedTimestamp": at, "StateTransitionedTimestamp": at}),
                     "AlarmName": name, "AlarmRule": rule,
                     "AlarmArn": f"arn:aws:cloudwatch:{call.region}:123456789012:alarm:{name}",
                     "AlarmDescription": body.get("AlarmDescription", ""),
                     "ActionsEnabled": body.get("ActionsEnabled", True),
                     "AlarmActions": body.get("AlarmActions") or [], "OKActions": body.get("OKActions") or [],
                     "InsufficientDataActions": body.get("InsufficientDataActions") or [],
                     "AlarmConfigurationUpdatedTimestamp": at}
            self.composites[(call.region, name)] = alarm
        self.record({"AlarmName": name, "AlarmType": "CompositeAlarm", "Timestamp": at.timestamp(),
                     "HistoryItemType": "ConfigurationUpdate",
                     "HistorySummary": f"Alarm \"{name}\" {'updated' if old else 'created'}",
                     "HistoryData": json.dumps({"type": "Update" if old else "Create", "version": "1.0"}),
                     "region": call.region})
        self.evaluate(call.region)
        return json_reply({}, content_type="application/x-amz-json-1.0")

    @handles("monitoring", "DescribeAlarms")
    def describe_alarms(self, call: Call) -> Reply:
        body = call.json
        types = body.get("AlarmTypes") or ["MetricAlarm"]
        reply = call.forward()
        if not reply.ok:
            return reply
        data = reply.json()
        if "MetricAlarm" not in types:
            data["MetricAlarms"] = []
            data.pop("NextToken", None)
        composites = []
        if "CompositeAlarm" in types and not data.get("NextToken"):  # after the last page of metric alarms
            with self.lock:
                mine = [dict(a) for (region, _), a in sorted(self.composites.items()) if region == call.region]
            names, prefix, state = body.get("AlarmNames"), body.get("AlarmNamePrefix"), body.get("StateValue")
            composites = [a for a in mine if (not names or a["AlarmName"] in names)
                          and (not prefix or a["AlarmName"].startswith(prefix))
                          and (not state or a["StateValue"] == state)]
        data["CompositeAlarms"] = composites
        return reply.with_json(data)

    @handles("monitoring", "DeleteAlarms")
    def delete_alarms(self, call: Call) -> Reply:
        names = call.json.get("AlarmNames") or []
        with self.lock:
            for n in names:
                self.composites.pop((call.region, n), None)
        reply = call.forward()
        self.evaluate(call.region)
        return reply

    def state_of(self, region: str, name: str) -> str | None:
        name = name.rsplit(":alarm:", 1)[-1]
        with self.lock:
            if (region, name) in self.composites:
                return self.composites[(region, name)]["StateValue"]
        return _alarm_state(region, name)[0]

    def evaluate(self, region: str) -> None:
        """Re-evaluate every composite alarm's rule (twice: a composite may watch another)."""
        for _ in range(2):
            with self.lock:
                names = [n for (r, n) in self.composites if r == region]
            for n in names:
                alarm = self.composites.get((region, n))
                if alarm is None:
                    continue
                value, triggering = _evaluate(alarm["AlarmRule"], lambda child: self.state_of(region, child))
                if value is None:
                    continue
                new = "ALARM" if value else "OK"
                reason = (f"{', '.join(triggering)} transitioned to ALARM" if new == "ALARM" and triggering
                          else f"arn:aws:cloudwatch:{region}:123456789012:alarm:{n} rule evaluated to {new}")
                self.transition(region, n, new, reason)

    def transition(self, region: str, name: str, new: str, reason: str) -> None:
        at = now()
        with self.lock:
            alarm = self.composites[(region, name)]
            old, old_reason = alarm["StateValue"], alarm["StateReason"]
            if new == old:
                return
            alarm.update(StateValue=new, StateReason=reason, StateUpdatedTimestamp=at, StateTransitionedTimestamp=at)
        data = {"version": "1.0", "oldState": {"stateValue": old, "stateReason": old_reason},
                "newState": {"stateValue": new, "stateReason": reason}}
        self.record({"AlarmName": name, "AlarmType": "CompositeAlarm", "Timestamp": at.timestamp(),
                     "HistoryItemType": "StateUpdate", "HistorySummary": f"Alarm updated from {old} to {new}",
                     "HistoryData": json.dumps(data), "region": region})


RULE_TOKEN = re.compile(r'\s*(?:(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"([^"]+)"|([^()\s"]+))\s*\)|(TRUE|FALSE)'
                        r'|(AND|OR|NOT)|([()]))', re.I)


def _tokens(rule: str) -> list[tuple]:
    out, pos = [], 0
    while pos < len(rule.rstrip()):
        m = RULE_TOKEN.match(rule, pos)
        if not m:
            raise ValueError(f"cannot read {rule[pos:pos + 30]!r}")
        out.append(m.groups())
        pos = m.end()
    if not out:
        raise ValueError("empty rule")
    return out


def _rule_names(rule: str) -> list[str]:
    return [t[1] or t[2] for t in _tokens(rule) if t[0]]


def _evaluate(rule: str, state_of) -> tuple[bool | None, list[str]]:
    """(the rule's value, the children in ALARM that it names); None when a child does not exist yet."""
    words, triggering = [], []
    for fn, quoted, bare, const, op, paren in _tokens(rule):
        if fn:
            child = quoted or bare
            state = state_of(child)
            if state is None:
                return None, []
            words.append(str(state == fn.upper()))
            if state == "ALARM":
                triggering.append(child)
        elif const:
            words.append(str(const.upper() == "TRUE"))
        elif op:
            words.append(op.lower())
        else:
            words.append(paren)
    # only True/False/and/or/not/parentheses remain: Python's precedence is the rule language's (NOT > AND > OR)
    return bool(eval(" ".join(words), {"__builtins__": {}}, {})), triggering


def _error(code: str, message: str) -> Reply:
    return json_reply({"__type": code, "message": message}, 400, content_type="application/x-amz-json-1.0")


def _json(text) -> bool:
    try:
        json.loads(text)
        return True
    except (TypeError, ValueError):
        return False


def _time(v) -> dt.datetime | None:
    if v is None or v == "":
        return None
    return parse_time(v if isinstance(v, (int, float)) else str(v))
