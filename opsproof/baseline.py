"""The system's state before a window and the comparison after it (runbook: "Metrics Before/After").

    >>> before = take(env)                       # read-only: API p95, database CPU, storage, row counts, ...
    >>> before.save(Path("reports/baseline.json"))
    >>> after = take(env)
    >>> c = compare(before, after, env.window.baseline)
    >>> [r.key for r in c.regressions]
    []

Metrics (keys): ``api.p95_ms`` (sampled), ``db.cpu_pct`` (RDS CPUUtilization, CloudWatch), ``storage.used_gb`` (RDS
allocated minus FreeStorageSpace), ``storage.db_size_mb`` (pg_database_size), ``rows.<table>`` (count(*)),
``cert.<host:port>`` (the served certificate's serial), ``ecs.<service>`` (the deployed task definition).

A metric that cannot be measured carries its error instead of a value; one with nothing to measure (no
CloudWatch datapoints) carries a note. Each collector is isolated: one dead target never hides the others.
"""

import datetime as dt
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import config, connect, secrets
from .findings import ALARM, OK, SKIP, WAIVED, Finding
from .config.window import Baseline, format_duration
from .probes import ecs as ecs_probe
from .probes import rds as rds_probe

COMPARISON_TITLE = "metrics before/after"
"""The evidence table the post-maintenance comparison leaves (the maintenance log reads it)."""

RULES = ("latency", "cpu", "storage", "rows", "identity")


@dataclass
class Metric:
    key: str
    label: str
    value: Any = None
    unit: str = ""
    rule: str = "identity"  # how a change is judged: latency | cpu | storage | rows | identity
    error: str | None = None
    """Why it could not be measured (a target did not answer)."""
    note: str = ""
    """How it was measured, or why there is nothing to measure."""

    def shown(self) -> str:
        return show(self.value, self.unit) if self.error is None else f"unavailable ({self.error})"


@dataclass
class Snapshot:
    taken_at: str
    environment: str
    window: str | None = None
    metrics: list[Metric] = field(default_factory=list)

    @property
    def errors(self) -> list[Metric]:
        return [m for m in self.metrics if m.error]

    def get(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)

    @property
    def taken(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.taken_at)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.redact(json.dumps(asdict(self), indent=1, default=str)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Snapshot":
        d = json.loads(path.read_text())
        return cls(d["taken_at"], d["environment"], d.get("window"), [Metric(**m) for m in d.get("metrics", [])])


def show(value, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        text = f"{value:,.1f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


# ---- measuring -------------------------------------------------------------------------------------------------
def take(env: config.Environment, window: str | None = None, now: dt.datetime | None = None) -> Snapshot:
    """Measure every metric the environment configures. Never raises for a target: its metrics carry the error."""
    now = now or dt.datetime.now(dt.timezone.utc)
    snap = Snapshot(now.isoformat(timespec="seconds"), env.name, window)
    for collect in (api_latency, database_cpu, storage, row_counts, certificate_serials, task_definitions):
        try:
            snap.metrics.extend(collect(env))
        except Exception as e:  # noqa: BLE001 - a collector's own bug must not hide the other metrics
            snap.metrics.append(Metric(f"{collect.__name__}", collect.__name__, error=_why(e)))
    return snap


def _why(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return secrets.redact(f"{type(e).__name__}: {text}" if text else type(e).__name__)[:300]


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def api_latency(env: config.Environment) -> list[Metric]:
    import httpx

    api = env.services.api
    if api is None:
        return []
    cfg = env.window.baseline
    base = str(api.base_url).rstrip("/")
    samples, statuses = [], {}
    label = "API p95 response time"
    try:
        with httpx.Client(timeout=httpx.Timeout(env.timeouts.read_s, connect=env.timeouts.connect_s)) as client:
            for i in range(cfg.latency_samples):
                path = cfg.latency_paths[i % len(cfg.latency_paths)]
                t0 = time.perf_counter()
                r = client.get(base + path)
                samples.append((time.perf_counter() - t0) * 1000)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    except httpx.HTTPError as e:
        return [Metric("api.p95_ms", label, unit="ms", rule="latency", error=f"{base}: {type(e).__name__}")]
    note = f"{len(samples)} requests to {', '.join(cfg.latency_paths)}; HTTP " + \
        ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))
    return [Metric("api.p95_ms", label, round(p95(samples), 1), "ms", "latency", note=note)]


def _cloudwatch(env: config.Environment, metric: str, statistic: str = "Average") -> tuple[list[dict], str]:
    cw = connect.aws_client(env, "cloudwatch", "window")
    lookback = env.window.baseline.metrics_lookback
    end = dt.datetime.now(dt.timezone.utc)
    period = max(60, math.ceil(lookback.total_seconds() / 1440 / 60) * 60)
    resp = connect.aws_call(f"cloudwatch get-metric-statistics AWS/RDS {metric}", cw.get_metric_statistics,
                            Namespace="AWS/RDS", MetricName=metric,
                            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": env.rds.instance_id}],
                            StartTime=end - lookback, EndTime=end, Period=period, Statistics=[statistic])
    points = sorted(resp.get("Datapoints", []), key=lambda p: p["Timestamp"])
    return points, format_duration(lookback)


def database_cpu(env: config.Environment) -> list[Metric]:
    label = "Database CPU"
    try:
        points, span = _cloudwatch(env, "CPUUtilization")
    except Exception as e:  # noqa: BLE001
        return [Metric("db.cpu_pct", label, unit="%", rule="cpu", error=_why(e))]
    if not points:
        return [Metric("db.cpu_pct", label, unit="%", rule="cpu",
                       note=f"no CloudWatch datapoints for {env.rds.instance_id} in the last {span}")]
    avg = sum(p["Average"] for p in points) / len(points)
    return [Metric("db.cpu_pct", label, round(avg, 1), "%", "cpu",
                   note=f"average of {len(points)} datapoint(s) over the last {span} ({env.rds.instance_id})")]


def storage(env: config.Environment) -> list[Metric]:
    out = []
    label = "Storage usage"
    try:
        inst = rds_probe.instance(connect.aws_client(env, "rds", "window"), env.rds.instance_id)
        if inst is None:
            raise LookupError(f"no RDS instance {env.rds.instance_id}")
        allocated_gb = inst.allocated_gb
        points, span = _cloudwatch(env, "FreeStorageSpace")
        if points:
            free_gb = points[-1]["Average"] / 1024 ** 3
            out.append(Metric("storage.used_gb", label, round(allocated_gb - free_gb, 1), "GB", "storage",
                              note=f"{allocated_gb:g} GB allocated, {free_gb:,.1f} GB free ({env.rds.instance_id})"))
        else:
            out.append(Metric("storage.used_gb", label, unit="GB", rule="storage",
                              note=f"no FreeStorageSpace datapoints in the last {span}"))
    except Exception as e:  # noqa: BLE001
        out.append(Metric("storage.used_gb", label, unit="GB", rule="storage", error=_why(e)))
    if env.database is not None:
        try:
            with connect.database(env) as conn:
                size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
            out.append(Metric("storage.db_size_mb", "Database size", round(size / 1024 ** 2, 1), "MB", "storage",
                              note=f"pg_database_size({env.database.dbname})"))
        except Exception as e:  # noqa: BLE001
            out.append(Metric("storage.db_size_mb", "Database size", unit="MB", rule="storage", error=_why(e)))
    return out


def row_counts(env: config.Environment) -> list[Metric]:
    from psycopg import sql

    tables = env.window.baseline.tables
    if env.database is None or not tables:
        return []
    try:
        conn = connect.database(env)
    except Exception as e:  # noqa: BLE001
        return [Metric(f"rows.{t}", f"Rows in {t}", rule="rows", error=_why(e)) for t in tables]
    out = []
    with conn:
        for t in tables:
            try:
                name = sql.Identifier(*t.split("."))
                n = conn.execute(sql.SQL("select count(*) from {}").format(name)).fetchone()[0]
                out.append(Metric(f"rows.{t}", f"Rows in {t}", int(n), "rows", "rows", note="count(*)"))
            except Exception as e:  # noqa: BLE001
                out.append(Metric(f"rows.{t}", f"Rows in {t}", rule="rows", error=_why(e)))
    return out


def certificate_serials(env: config.Environment) -> list[Metric]:
    from .probes import tls

    c = env.certificates
    ca = env.path(c.ca_file) if c.ca_file else None
    out = []
    for ep in c.endpoints:
        key = f"cert.{ep.host}:{ep.port}"
        try:
            s = tls.served(ep, ca, env.timeouts.connect_s)
            out.append(Metric(key, f"Certificate serial {ep.server_name or ep.host}", s.serial,
                              note=f"not after {s.not_after:%Y-%m-%d}"))
        except Exception as e:  # noqa: BLE001
            out.append(Metric(key, f"Certificate serial {ep.server_name or ep.host}", error=_why(e)))
    return out


def task_definitions(env: config.Environment) -> list[Metric]:
    cfg = env.window.baseline
    if not cfg.ecs_cluster or not cfg.ecs_services:
        return []
    try:
        found = ecs_probe.describe_services(connect.aws_client(env, "ecs", "window"), cfg.ecs_cluster, list(cfg.ecs_services))
    except Exception as e:  # noqa: BLE001
        return [Metric(f"ecs.{s}", f"Task definition {s}", error=_why(e)) for s in cfg.ecs_services]
    out = []
    for name in cfg.ecs_services:
        s = found.get(name)
        if s is None:
            out.append(Metric(f"ecs.{name}", f"Task definition {name}",
                              error=f"no service {name} in cluster {cfg.ecs_cluster}"))
        else:
            out.append(Metric(f"ecs.{name}", f"Task definition {name}", s["taskDefinition"].rsplit("/", 1)[-1],
                              note=f"{s.get('runningCount', '?')}/{s.get('desiredCount', '?')} running"))
    return out


# ---- comparing -------------------------------------------------------------------------------------------------
@dataclass
class Row:
    key: str
    label: str
    before: str
    after: str
    change: str
    verdict: str  # ok | regression | changed | expected | n/a
    reason: str = ""


@dataclass
class Comparison:
    before_taken: str
    after_taken: str
    rows: list[Row]
    findings: list[Finding] = field(default_factory=list)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "regression"]


def _change(b, a) -> str:
    if isinstance(b, (int, float)) and isinstance(a, (int, float)) and not isinstance(b, bool):
        diff = a - b
        pct = f" ({diff / b * 100:+.0f}%)" if b else ""
        return f"{diff:+,.1f}{pct}" if isinstance(diff, float) else f"{diff:+,}{pct}"
    return "unchanged" if a == b else "changed"


VERDICTS = {ALARM: "regression", WAIVED: "expected", SKIP: "n/a"}
"""The comparison table's verdict for each Finding status (the maintenance log and the HTML summary show it)."""


def compare(before: Snapshot, after: Snapshot, tol: Baseline, expect_changes: list[str] = ()) -> Comparison:
    """The before/after table of every metric, judged by opsproof/rules/window.py's baseline rule."""
    from .rules import window as rules

    found = rules.baseline(before, after, tol, expect_changes)
    keys = dict.fromkeys([m.key for m in before.metrics] + [m.key for m in after.metrics])
    rows = []
    for key, f in zip(keys, found):
        b, a = before.get(key), after.get(key)
        change = _change(b.value, a.value) if b and a and b.value is not None and a.value is not None else ""
        verdict = VERDICTS.get(f.status) or ("changed" if change == "changed" else "ok")
        reason = "" if f.status == OK else f.reason.removeprefix(rules.REGRESSION) + (f" ({f.key})" if f.key else "")
        rows.append(Row(key, (b or a).label, f.measured["before"], f.measured["after"], change, verdict, reason))
    return Comparison(before.taken_at, after.taken_at, rows, found)


def age(snap: Snapshot, now: dt.datetime | None = None) -> dt.timedelta:
    return (now or dt.datetime.now(dt.timezone.utc)) - snap.taken
