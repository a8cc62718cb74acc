"""CloudWatch: metric history, many metrics over a long period in few calls (GetMetricData), and alarms with their
state and history (DescribeAlarms, DescribeAlarmHistory). Read-only.

    >>> [(a.name, a.state) for a in alarms(cw, ["backend-5xx"], [])[0]]
    [('backend-5xx', 'OK')]

    >>> got = fetch(cw, env.capacity.metrics, start, end, period_s=3600)
    >>> got.series["rds-cpu"].values[:3], got.calls
    (array([14.2, 14.9, 15.1]), 1)

One GetMetricData call carries up to 500 metrics and returns up to 100,800 datapoints; the rest of an answer comes
page by page (NextToken). Twenty metrics at 5-minute resolution over 30 days (172,800 datapoints) take 2 calls, over
90 days 6: the number of calls grows with the datapoints, never with the number of metrics or time windows
(GetMetricStatistics would need one call per metric per 1,440 datapoints: 360 for the same 90 days).
"""

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..connect import aws_call
from .timestamps import iso

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Series:
    """One metric's history: period start times (epoch seconds, ascending) and values in CloudWatch's unit."""

    id: str
    times: np.ndarray
    values: np.ndarray
    period_s: int

    def __len__(self) -> int:
        return len(self.times)

    @property
    def last(self) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(float(self.times[-1]), UTC) if len(self) else None


@dataclass
class Fetch:
    """What fetch() read and what it cost."""

    series: dict[str, Series]
    start: dt.datetime
    end: dt.datetime
    period_s: int
    calls: int = 0
    datapoints: int = 0
    seconds: float = 0.0
    partial: list[str] = field(default_factory=list)
    """Metrics CloudWatch answered only in part (StatusCode other than Complete on the last page)."""

    def coverage(self, metric_id: str) -> float:
        """Share of the period's periods that have a datapoint (0..1)."""
        expected = max(1, math.floor((self.end - self.start).total_seconds() / self.period_s))
        return min(1.0, len(self.series[metric_id]) / expected)


def query(metric, period_s: int) -> dict:
    """The MetricStat of a configured metric (opsproof.config.capacity.Metric)."""
    stat = {"Metric": {"Namespace": metric.namespace, "MetricName": metric.name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions.items()]},
            "Period": period_s, "Stat": metric.stat}
    if metric.unit:
        stat["Unit"] = metric.unit
    return stat


def _raw_timestamps(response_dict, customized_response_dict, **_):
    """botocore turns every timestamp into a timezone-aware datetime (via dateutil's tzlocal: ~25 µs each, 13 of 15
    seconds for 518,400 datapoints). For a JSON answer, hand MetricDataResults over as sent (epoch seconds) and let
    botocore parse the rest; any other answer (an error, another protocol) is parsed as usual."""
    if response_dict.get("status_code") != 200 or "json" not in str(response_dict.get("headers", {}).get(
            "content-type", "")):
        return
    try:
        body = json.loads(response_dict["body"])
    except (ValueError, TypeError):
        return
    if isinstance(body, dict) and isinstance(body.get("MetricDataResults"), list):
        customized_response_dict["MetricDataResults"] = body["MetricDataResults"]
        body["MetricDataResults"] = []
        response_dict["body"] = json.dumps(body).encode()


def fetch(cw, metrics: dict, start: dt.datetime, end: dt.datetime, period_s: int,
          page_size: int = MAX_DATAPOINTS) -> Fetch:
    """Every metric's history in [start, end): batches of 500 queries, each paged by NextToken."""
    event = "before-parse.cloudwatch.GetMetricData"
    cw.meta.events.register_first(event, _raw_timestamps, unique_id="opsproof-raw-timestamps")
    try:
        return _fetch(cw, metrics, start, end, period_s, page_size)
    finally:
        cw.meta.events.unregister(event, unique_id="opsproof-raw-timestamps")


def _fetch(cw, metrics: dict, start: dt.datetime, end: dt.datetime, period_s: int, page_size: int) -> Fetch:
    started = time.monotonic()
    ids = list(metrics)
    out = Fetch({}, start, end, period_s)
    times: dict[str, list] = {i: [] for i in ids}
    values: dict[str, list] = {i: [] for i in ids}
    status: dict[str, str] = {}
    for first in range(0, len(ids), MAX_QUERIES):
        batch = ids[first:first + MAX_QUERIES]
        queries = [{"Id": f"m{first + n}", "Label": mid, "MetricStat": query(metrics[mid], period_s),
                    "ReturnData": True} for n, mid in enumerate(batch)]
        by_qid = {q["Id"]: mid for q, mid in zip(queries, batch)}
        kwargs = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending",
                  "MaxDatapoints": page_size}
        while True:
            resp = aws_call(f"cloudwatch get-metric-data ({len(batch)} metrics, "
                            f"{(end - start).total_seconds() / 86400:g} days)", cw.get_metric_data, **kwargs)
            out.calls += 1
            for r in resp.get("MetricDataResults", []):
                mid = by_qid.get(r["Id"])
                if mid is None:
                    continue
                times[mid].extend(r.get("Timestamps", []))
                values[mid].extend(r.get("Values", []))
                status[mid] = r.get("StatusCode", "Complete")
            token = resp.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    for mid in ids:
        try:
            t = np.asarray(times[mid], dtype=float)  # epoch seconds, as sent
        except TypeError:
            t = np.array([_epoch(x) for x in times[mid]], dtype=float)  # datetimes, parsed by botocore
        v = np.array(values[mid], dtype=float)
        order = np.argsort(t, kind="stable")
        out.series[mid] = Series(mid, t[order], v[order], period_s)
        out.datapoints += len(t)
        if status.get(mid, "Complete") != "Complete":
            out.partial.append(mid)
    out.seconds = time.monotonic() - started
    return out


def _epoch(t) -> float:
    if isinstance(t, (int, float)):
        return float(t)
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def calls_needed(metrics: int, days: float, period_s: int, page_size: int = MAX_DATAPOINTS) -> int:
    """GetMetricData calls fetch() makes for full history: pages of the datapoints, per batch of 500 metrics.

    >>> calls_needed(20, 90, 300), calls_needed(20, 30, 300), calls_needed(20, 90, 3600)
    (6, 2, 1)
    """
    per_metric = math.ceil(days * 86400 / period_s)
    calls = 0
    for first in range(0, metrics, MAX_QUERIES):
        n = min(MAX_QUERIES, metrics - first)
        calls += max(1, math.ceil(n * per_metric / page_size))
    return calls


def statistics_calls_needed(metrics: int, days: float, period_s: int) -> int:
    """GetMetricStatistics calls for the same history: at most 1,440 datapoints per call, one metric per call.

    >>> statistics_calls_needed(20, 90, 300)
    360
    """
    return metrics * math.ceil(days * 86400 / period_s / 1440)


# ---- alarms ----------------------------------------------------------------------------------------------------------
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
                                                  iso(a.get("StateUpdatedTimestamp")), kind)
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
                out.append(Transition(n, iso(item.get("Timestamp"), "milliseconds"),
                                      data.get("oldState", {}).get("stateValue", "?"),
                                      data.get("newState", {}).get("stateValue", "?"),
                                      item.get("HistorySummary", "")))
            token = resp.get("NextToken")
            if not token:
                break
    return sorted(out, key=lambda t: t.at)  # stable: equal times keep the service's (ascending) order


@dataclass
class Watch:
    """What watching the alarms saw: their last states, every transition since it started, and how long."""

    alarms: list[Alarm]
    history: list[Transition]
    polls: int
    watched_s: float


def watch(cw, names: list[str], since: dt.datetime, duration_s: float, every_s: float, stop) -> Watch:
    """Poll the alarms every ``every_s`` for ``duration_s``, stopping at once when ``stop(alarms, history)`` is
    true (a transition into ALARM need not wait out the runbook's 30 minutes)."""
    deadline = time.monotonic() + duration_s
    found, history, polls = [], [], 0
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(every_s, remaining))
        polls += 1
        found, _ = alarms(cw, names, [])
        history = transitions(cw, names, since)
        if stop(found, history):
            break
    if not polls:
        found, _ = alarms(cw, names, [])
    history = transitions(cw, names, since)  # a transition in the last poll's wake is seen too
    return Watch(found, history, polls, (dt.datetime.now(dt.timezone.utc) - since).total_seconds())
