"""CloudWatch metric history at production scale (capacity planning, issue 8): an indexed GetMetricData with AWS's
paging, and admin routes that load, replace and restore datapoints (the capacity seed, capacity faults).

What moto 5.2.5 does: GetMetricData scans every stored datapoint once per period of every query (90 days of hourly
data for six metrics takes 6 s; 5-minute data for twenty metrics would take hours), ignores ``MaxDatapoints`` and
``NextToken`` (one answer, however large), and returns nothing for percentile statistics (``p95``). Datapoints can
be added (PutMetricData) but never changed or removed.

What this overlay adds (alarms are alarm_history.py's; nothing here touches them):

- ``GetMetricData`` for ``MetricStat`` queries, answered from an index of moto's own datapoints (built once, rebuilt
  when PutMetricData or an admin route changes them): periods aligned to multiples of the period since the epoch,
  ``SampleCount Average Sum Minimum Maximum pNN``, the ``Unit`` filter, ``ReturnData``, ``ScanBy``, and AWS's
  limits: at most 500 queries and ``MaxDatapoints`` (default 100,800) datapoints per call, the rest behind a
  ``NextToken`` (results cut short say ``PartialData``). Requests with metric-math ``Expression`` queries, or in a
  protocol other than JSON, go to moto unchanged.
- Admin routes (JSON; a client is at the end of this module):

    POST /_sandbox/cloudwatch/load {"series": [{"namespace", "name", "dimensions": {..}, "unit",
                                                "start": EPOCH|ISO, "step": SECONDS, "values": [..]}
                                               | {..., "points": [[EPOCH|ISO, VALUE], ...]}], "region"}
        Append datapoints straight into moto's backend (the seed's and the benchmark's bulk path: PutMetricData
        takes 1,000 per call).
    POST /_sandbox/cloudwatch/points {"namespace", "name", "dimensions", "start", "end", "region"}
        Read one metric's raw datapoints in [start, end): {"points": [[EPOCH, VALUE], ...]} (faults reshape them).
    POST /_sandbox/cloudwatch/replace {"namespace", "name", "dimensions", "start", "end", "unit",
                                       "points": [[EPOCH|ISO, VALUE], ...], "region"}
        A fault: the metric's datapoints in [start, end) are set aside and ``points`` take their place (no points:
        a gap in the history).
    POST /_sandbox/cloudwatch/restore {"namespace", "name", "dimensions"} or {}
        Heal: put back what replace set aside, for one metric or all. ``/_sandbox/reset`` restores all too.
"""

import base64
import datetime as dt
import hashlib
import json
import math
import time
from collections import defaultdict

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, json_error, json_reply, need, parse_time

UTC = dt.timezone.utc
MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
JSON_CONTENT = "application/x-amz-json-1.0"


def _backend(region: str):
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return cloudwatch_backends[DEFAULT_ACCOUNT_ID][region]


def _key(namespace: str, name: str, dimensions) -> tuple:
    """A metric's identity: namespace, name and its set of dimensions (moto keeps Dimension objects)."""
    if isinstance(dimensions, dict):
        dims = dimensions.items()
    else:
        dims = ((d.name, d.value) if hasattr(d, "name") else (d["Name"], d["Value"]) for d in dimensions)
    return namespace, name, frozenset(dims)


def _show(key: tuple) -> str:
    ns, name, dims = key
    return f"{ns} {name} " + ",".join(f"{k}={v}" for k, v in sorted(dims))


def _epoch(t: dt.datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def _when(value, what: str) -> float:
    if value is None:
        raise AdminError(f"missing field {what!r}")
    return parse_time(value).timestamp()


class _Series:
    """One metric's datapoints, sorted by time: plain values and, apart, statistic sets (StatisticValues)."""

    __slots__ = ("t", "v", "units", "agg")

    def __init__(self, t, v, units, agg):
        self.t, self.v, self.units, self.agg = t, v, units, agg


class Index:
    """Moto's datapoints grouped by metric, as numpy arrays; rebuilt when the datapoints change."""

    def __init__(self, backend):
        import numpy as np  # here, not at import: fault and seed code use this module's clients without numpy

        started = time.monotonic()
        plain = defaultdict(lambda: ([], [], []))
        agg = defaultdict(list)
        for md in backend.get_all_metrics():
            key = _key(md.namespace, md.name, md.dimensions)
            ts = _epoch(md.timestamp)
            if hasattr(md, "value"):
                t, v, u = plain[key]
                t.append(ts)
                v.append(float(md.value))
                u.append(md.unit)
            else:
                agg[key].append((ts, md.sum, md.sample_count, md.min, md.max, md.unit))
        self.series: dict[tuple, _Series] = {}
        for key in plain.keys() | agg.keys():
            t, v, u = plain.get(key, ([], [], []))
            t = np.asarray(t, dtype=float)
            order = np.argsort(t, kind="stable")
            units = np.asarray(u, dtype=object)[order] if u else np.asarray([], dtype=object)
            self.series[key] = _Series(t[order], np.asarray(v, dtype=float)[order], units, sorted(agg.get(key, [])))
        self.build_s = time.monotonic() - started

    def query(self, key: tuple, start: float, end: float, period: int, stat: str, unit: str | None):
        """(bin starts, values) of one MetricStat: bins of `period` seconds aligned to the epoch, in [start, end)."""
        import numpy as np

        s = self.series.get(key)
        if s is None:
            return np.empty(0), np.empty(0)
        first = math.floor(start / period) * period
        lo, hi = np.searchsorted(s.t, first, "left"), np.searchsorted(s.t, end, "left")
        t, v = s.t[lo:hi], s.v[lo:hi]
        if unit:
            keep = s.units[lo:hi] == unit
            t, v = t[keep], v[keep]
        aggs = [a for a in s.agg if first <= a[0] < end and (not unit or a[5] == unit)]
        if aggs:  # statistic sets: fold each in as its own bin member (percentiles see only plain values)
            return _with_aggregates(t, v, aggs, first, period, stat)
        if not len(t):
            return np.empty(0), np.empty(0)
        bins = np.floor((t - first) / period).astype(np.int64)
        starts, idx, counts = np.unique(bins, return_index=True, return_counts=True)
        if stat == "SampleCount":
            out = counts.astype(float)
        elif stat == "Sum":
            out = np.add.reduceat(v, idx)
        elif stat == "Average":
            out = np.add.reduceat(v, idx) / counts
        elif stat == "Minimum":
            out = np.minimum.reduceat(v, idx)
        elif stat == "Maximum":
            out = np.maximum.reduceat(v, idx)
        else:  # pNN
            q = float(stat[1:])
            if (counts == 1).all():
                out = v[idx]
            else:
                out = np.array([np.percentile(g, q) for g in np.split(v, idx[1:])])
        return first + starts * period, out


def _with_aggregates(t, v, aggs, first, period, stat):
    import numpy as np

    groups: dict[int, list] = defaultdict(lambda: [0.0, 0.0, math.inf, -math.inf, []])
    for ts, val in zip(t, v):
        g = groups[int((ts - first) // period)]
        g[0] += val
        g[1] += 1
        g[2], g[3] = min(g[2], val), max(g[3], val)
        g[4].append(val)
    for ts, s, n, mn, mx, _ in aggs:
        g = groups[int((ts - first) // period)]
        g[0] += s
        g[1] += n
        g[2], g[3] = min(g[2], mn), max(g[3], mx)
    keys = sorted(groups)
    pick = {"Sum": lambda g: g[0], "SampleCount": lambda g: g[1], "Average": lambda g: g[0] / g[1] if g[1] else 0,
            "Minimum": lambda g: g[2], "Maximum": lambda g: g[3]}.get(
        stat, lambda g: float(np.percentile(g[4], float(stat[1:]))) if g[4] else g[0] / g[1])
    return first + np.array(keys, dtype=float) * period, np.array([pick(groups[k]) for k in keys], dtype=float)


def valid_stat(stat: str) -> bool:
    if stat in STATS:
        return True
    if stat.startswith("p"):
        try:
            return 0 <= float(stat[1:]) <= 100
        except ValueError:
            return False
    return False


class CloudWatchMetrics(Overlay):
    name = "cloudwatch-metrics"

    def __init__(self):
        super().__init__()
        self._index: dict[str, tuple[tuple, Index]] = {}  # region -> (signature, index)
        self._version = 0
        self._inserted: dict[tuple, list] = defaultdict(list)  # (region, key) -> datapoints a fault put in
        self._removed: dict[tuple, list] = defaultdict(list)  # (region, key) -> datapoints a fault set aside

    def initial_state(self) -> dict:
        return {"replaced": {}, "loaded": 0}

    def reset(self) -> None:
        with self.lock:
            loaded = self.state.get("loaded", 0)
            self._restore(None)
            self.state = {"replaced": {}, "loaded": loaded}

    # ---- the index -----------------------------------------------------------------------------------------------
    def index(self, region: str) -> Index:
        backend = _backend(region)
        with self.lock:
            signature = (self._version, len(backend.metric_data), len(backend.aws_metric_data))
            cached = self._index.get(region)
            if cached is None or cached[0] != signature:
                cached = (signature, Index(backend))
                self._index[region] = cached
            return cached[1]

    def changed(self) -> None:
        with self.lock:
            self._version += 1

    # ---- AWS requests --------------------------------------------------------------------------------------------
    @handles("monitoring", "PutMetricData")
    def put_metric_data(self, call: Call) -> Reply:
        reply = call.forward()
        self.changed()
        return reply

    @handles("monitoring", "GetMetricData")
    def get_metric_data(self, call: Call) -> Reply:
        if "json" not in (call.environ.get("CONTENT_TYPE") or ""):
            return call.forward()  # another protocol (CBOR, query): moto's own answer
        req = call.json
        queries = req.get("MetricDataQueries") or []
        if any("MetricStat" not in q for q in queries):
            return call.forward()  # metric math: moto's
        problem = _validate(req, queries)
        if problem:
            return json_error("ValidationError", problem)
        start, end = float(req["StartTime"]), float(req["EndTime"])
        limit = int(req.get("MaxDatapoints") or MAX_DATAPOINTS)
        descending = (req.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        fingerprint = _fingerprint(req)
        qi, offset = 0, 0
        if req.get("NextToken"):
            try:
                token = json.loads(base64.urlsafe_b64decode(req["NextToken"]))
                qi, offset = int(token["q"]), int(token["o"])
                if token["f"] != fingerprint:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                return json_error("InvalidNextToken", "The service found one or more invalid parameters: NextToken")
        index = self.index(call.region)
        results, room, next_token = [], limit, None
        returned = [q for q in queries if q.get("ReturnData", True)]
        while qi < len(returned):
            q = returned[qi]
            ms = q["MetricStat"]
            m = ms["Metric"]
            times, values = index.query(_key(m["Namespace"], m["MetricName"], m.get("Dimensions", [])), start, end,
                                        int(ms["Period"]), ms["Stat"], ms.get("Unit"))
            if descending:
                times, values = times[::-1], values[::-1]
            take = min(room, len(times) - offset)
            results.append({"Id": q["Id"], "Label": q.get("Label") or m["MetricName"],
                            "Timestamps": times[offset:offset + take].tolist(),
                            "Values": values[offset:offset + take].tolist(),
                            "StatusCode": "Complete" if offset + take >= len(times) else "PartialData"})
            room -= take
            if offset + take < len(times):
                next_token = (qi, offset + take)
                break
            qi, offset = qi + 1, 0
            if room == 0 and qi < len(returned):
                next_token = (qi, 0)
                break
        body = {"MetricDataResults": results, "Messages": []}
        if next_token:
            body["NextToken"] = base64.urlsafe_b64encode(json.dumps(
                {"q": next_token[0], "o": next_token[1], "f": fingerprint}).encode()).decode()
        return json_reply(body, content_type=JSON_CONTENT)

    # ---- admin routes --------------------------------------------------------------------------------------------
    @admin("cloudwatch/load")
    def load(self, payload: dict) -> dict:
        from moto.cloudwatch.models import MetricDatum

        backend = _backend(payload.get("region", "us-east-1"))
        made = []
        for s in need(payload, "series", list):
            ns, name = need(s, "namespace"), need(s, "name")
            dims = [{"Name": k, "Value": v} for k, v in (s.get("dimensions") or {}).items()]
            for ts, value in _points(s):
                made.append(MetricDatum(ns, name, float(value), dims, _naive(ts), s.get("unit")))
        with self.lock:
            backend.metric_data.extend(made)
            self.state["loaded"] += len(made)
            self.changed()
        return {"datapoints": len(made)}

    @admin("cloudwatch/points")
    def points(self, payload: dict) -> dict:
        region = payload.get("region", "us-east-1")
        key = _key(need(payload, "namespace"), need(payload, "name"), payload.get("dimensions") or {})
        start, end = _when(payload.get("start"), "start"), _when(payload.get("end"), "end")
        s = self.index(region).series.get(key)
        if s is None:
            return {"points": []}
        import numpy as np

        lo, hi = np.searchsorted(s.t, start, "left"), np.searchsorted(s.t, end, "left")
        return {"points": [[float(t), float(v)] for t, v in zip(s.t[lo:hi], s.v[lo:hi])]}

    @admin("cloudwatch/replace")
    def replace(self, payload: dict) -> dict:
        from moto.cloudwatch.models import MetricDatum

        region = payload.get("region", "us-east-1")
        backend = _backend(region)
        ns, name = need(payload, "namespace"), need(payload, "name")
        dims = payload.get("dimensions") or {}
        key = _key(ns, name, dims)
        start, end = _when(payload.get("start"), "start"), _when(payload.get("end"), "end")
        new = [MetricDatum(ns, name, float(v), [{"Name": k, "Value": x} for k, x in dims.items()], _naive(t),
                           payload.get("unit")) for t, v in _points({"points": payload.get("points") or []})]
        with self.lock:
            keep, removed = [], []
            for md in backend.metric_data:
                if md.namespace == ns and md.name == name and _key(ns, name, md.dimensions) == key \
                        and start <= _epoch(md.timestamp) < end:
                    removed.append(md)
                else:
                    keep.append(md)
            backend.metric_data[:] = keep + new
            self._removed[(region, key)] += removed
            self._inserted[(region, key)] += new
            shown = _show(key)
            entry = self.state["replaced"].setdefault(shown, {"removed": 0, "inserted": 0})
            entry["removed"] += len(removed)
            entry["inserted"] += len(new)
            self.changed()
        return {"metric": shown, "removed": len(removed), "inserted": len(new)}

    @admin("cloudwatch/restore")
    def restore(self, payload: dict) -> dict:
        which = None
        if payload.get("namespace"):
            which = (payload.get("region", "us-east-1"),
                     _key(payload["namespace"], need(payload, "name"), payload.get("dimensions") or {}))
        with self.lock:
            restored = self._restore(which)
        return {"restored": restored}

    def _restore(self, which) -> list[str]:
        done = []
        for rk in list(self._inserted.keys() | self._removed.keys()):
            if which is not None and rk != which:
                continue
            region, key = rk
            backend = _backend(region)
            inserted = {id(md) for md in self._inserted.pop(rk, [])}
            backend.metric_data[:] = [md for md in backend.metric_data if id(md) not in inserted] \
                + self._removed.pop(rk, [])
            self.state["replaced"].pop(_show(key), None)
            done.append(_show(key))
        if done:
            self.changed()
        return done


def _naive(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _points(s: dict):
    """(epoch, value) pairs from {"start", "step", "values"} or {"points": [[t, v], ...]}."""
    if "values" in s:
        start, step = _when(s.get("start"), "start"), float(need(s, "step", (int, float)))
        return [(start + i * step, v) for i, v in enumerate(s["values"]) if v is not None]
    out = []
    for p in s.get("points") or []:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise AdminError("points must be [[time, value], ...]")
        out.append((_when(p[0], "time"), p[1]))
    return out


def _fingerprint(req: dict) -> str:
    """Binds a NextToken to the request it continues (AWS refuses a token from another request)."""
    same = {k: v for k, v in req.items() if k != "NextToken"}
    return hashlib.sha1(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _validate(req: dict, queries: list) -> str | None:
    if not queries:
        return "The parameter MetricDataQueries is required."
    if len(queries) > MAX_QUERIES:
        return f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
    if "StartTime" not in req or "EndTime" not in req:
        return "The parameters StartTime and EndTime are required."
    if float(req["StartTime"]) >= float(req["EndTime"]):
        return "The parameter StartTime must be less than the parameter EndTime."
    ids = [q.get("Id") for q in queries]
    if len(set(ids)) != len(ids):
        return "The values for parameter Id in MetricDataQueries are not unique."
    limit = req.get("MaxDatapoints")
    if limit is not None and not 1 <= int(limit) <= MAX_DATAPOINTS:
        return f"The parameter MaxDatapoints must be between 1 and {MAX_DATAPOINTS}."
    for q in queries:
        ms = q["MetricStat"]
        period = int(ms.get("Period") or 0)
        if not (period in (1, 5, 10, 20, 30) or (period >= 60 and period % 60 == 0)):
            return f"The parameter Period ({period}) must be 1, 5, 10, 20, 30 or a multiple of 60."
        if not valid_stat(ms.get("Stat", "")):
            return f"The parameter Stat ({ms.get('Stat')!r}) is not a supported statistic."
    return None


# ---- a client for the admin routes (faults, seeders, the benchmark) ----------------------------------------------
def load_series(endpoint: str, series: list[dict], region: str = "us-east-1") -> dict:
    from . import admin as _admin

    return _admin.post(endpoint, "cloudwatch/load", {"series": series, "region": region}, timeout=120)


def read_points(endpoint: str, namespace: str, name: str, dimensions: dict, start, end) -> list[tuple[float, float]]:
    from . import admin as _admin

    got = _admin.post(endpoint, "cloudwatch/points", {"namespace": namespace, "name": name, "dimensions": dimensions,
                                                      "start": _iso(start), "end": _iso(end)})
    return [(t, v) for t, v in got["points"]]


def replace_points(endpoint: str, namespace: str, name: str, dimensions: dict, start, end,
                   points: list[tuple[float, float]], unit: str | None = None) -> dict:
    from . import admin as _admin

    return _admin.post(endpoint, "cloudwatch/replace", {
        "namespace": namespace, "name": name, "dimensions": dimensions, "start": _iso(start), "end": _iso(end),
        "unit": unit, "points": [[t, v] for t, v in points]}, timeout=60)


def restore_points(endpoint: str, namespace: str | None = None, name: str | None = None,
                   dimensions: dict | None = None) -> dict:
    from . import admin as _admin

    payload = {"namespace": namespace, "name": name, "dimensions": dimensions or {}} if namespace else {}
    return _admin.post(endpoint, "cloudwatch/restore", payload, timeout=60)


def _iso(t) -> str | float:
    return t.isoformat() if isinstance(t, dt.datetime) else t
