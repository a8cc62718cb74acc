"""CloudWatch alarm history, which moto does not keep.

What moto 5.2.5 does: PutMetricAlarm and SetAlarmState work (alarms are never evaluated: their state changes only
through SetAlarmState); DescribeAlarmHistory is not implemented (HTTP 500).

What this overlay adds: every SetAlarmState that changes an alarm's state, and every PutMetricAlarm, is recorded as
an alarm history item (StateUpdate / ConfigurationUpdate, with AWS's HistoryData JSON), and DescribeAlarmHistory
answers from that record (AlarmName, AlarmTypes, HistoryItemType, StartDate, EndDate, MaxRecords, ScanBy,
NextToken). The history lives as long as the server, like moto's alarms.

No admin routes: faults use the real API (SetAlarmState), which is what puts an alarm into ALARM in production too.
"""

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
        if body.get("AlarmTypes"):
            items = [i for i in items if i["AlarmType"] in body["AlarmTypes"]]
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
