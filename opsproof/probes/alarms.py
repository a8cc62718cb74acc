"""CloudWatch alarms: their states and their history (transitions). Read-only: DescribeAlarms, DescribeAlarmHistory.

    >>> [(a.name, a.state) for a in alarms(cw, ["backend-5xx"], [])]
    [('backend-5xx', 'OK')]
"""

import datetime as dt
import json
from dataclasses import dataclass

from ..connect import aws_call


ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]
"""DescribeAlarms and DescribeAlarmHistory return composite alarms only when AlarmTypes asks for them."""


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str
    """OK, ALARM or INSUFFICIENT_DATA."""
    reason: str
    updated_at: str
    kind: str = "metric"
    """metric or composite (a composite alarm's state is its AlarmRule over other alarms)."""


@dataclass(frozen=True)
class Transition:
    alarm: str
    at: str
    old: str
    new: str
    summary: str


def _iso(v, timespec: str = "seconds") -> str:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).isoformat(timespec=timespec)
    return str(v or "")


def alarms(cw, names: list[str], prefixes: list[str]) -> tuple[list[Alarm], list[str]]:
    """The named alarms and those under the prefixes (metric and composite); returns (alarms, names not found)."""
    found: dict[str, Alarm] = {}

    def collect(**kwargs):
        token = None
        while True:
            resp = aws_call("cloudwatch describe-alarms", cw.describe_alarms,
                            AlarmTypes=ALARM_TYPES, **kwargs,  # omitted, AWS lists metric alarms only
                            **({"NextToken": token} if token else {}))
            for kind, key in (("metric", "MetricAlarms"), ("composite", "CompositeAlarms")):
                for a in resp.get(key, []):
                    found[a["AlarmName"]] = Alarm(a["AlarmName"], a.get("StateValue", "?"), a.get("StateReason", ""),
                                                  _iso(a.get("StateUpdatedTimestamp")), kind)
            token = resp.get("NextToken")
            if not token:
                break

    for i in range(0, len(names), 100):
        collect(AlarmNames=names[i:i + 100])
    for p in prefixes:
        collect(AlarmNamePrefix=p)
    return sorted(found.values(), key=lambda a: a.name), [n for n in names if n not in found]


def transitions(cw, names: list[str], since: dt.datetime, until: dt.datetime | None = None) -> list[Transition]:
    """State changes of these alarms since a moment (DescribeAlarmHistory, StateUpdate items), oldest first."""
    until = until or dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    out = []
    for n in names:
        token = None
        while True:
            resp = aws_call(f"cloudwatch describe-alarm-history {n}", cw.describe_alarm_history, AlarmName=n,
                            HistoryItemType="StateUpdate", StartDate=since, EndDate=until, MaxRecords=100,
                            AlarmTypes=ALARM_TYPES,  # omitted, AWS answers metric alarms' history only
                            ScanBy="TimestampAscending",
                            **({"NextToken": token} if token else {}))
            for item in resp.get("AlarmHistoryItems", []):
                try:
                    data = json.loads(item.get("HistoryData") or "{}")
                except ValueError:
                    data = {}
                out.append(Transition(n, _iso(item.get("Timestamp"), "milliseconds"),
                                      data.get("oldState", {}).get("stateValue", "?"),
                                      data.get("newState", {}).get("stateValue", "?"),
                                      item.get("HistorySummary", "")))
            token = resp.get("NextToken")
            if not token:
                break
    return sorted(out, key=lambda t: t.at)  # stable: equal times keep the service's (ascending) order
