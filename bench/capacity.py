"""Capacity speed: fetching and forecasting 20 metrics over 90 days at 5-minute resolution, and how the number of
CloudWatch API calls grows with the period.

    python bench/capacity.py              # prints tables; writes bench/results/capacity.json

Runs its own sandbox AWS server (a free port, a temporary state folder: nobody's sandbox is touched), loads 20
metrics × 90 days × 288 datapoints a day (518,400 datapoints) into it, then for periods of 7, 30, 60 and 90 days:

* opsproof: probes.cloudwatch.fetch (batched GetMetricData, paged by NextToken) + a daily summary, a linear and a
  compound fit with backtests, the better one's projections and threshold crossing, per metric;
* the baseline a user would script instead: one GetMetricStatistics call per metric per 1,440 datapoints (its
  limit). Its call count is exact; its time is measured on one metric and multiplied by 20 (every call scans the
  same store, so the per-call cost does not depend on the metric).

Charts (20 PNGs) are timed apart: they are part of the report, not of fetching and forecasting. Goal: fetch +
forecast of 20 metrics × 90 days at 5 minutes in under 10 s on this 2-core machine, in 6 GetMetricData calls.
"""

import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METRICS = 20
DAYS = 90
PERIOD = 300
PERIODS = (7, 30, 60, 90)
GOAL_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def series(now: dt.datetime):
    """20 synthetic metrics: daily and weekly seasonality, growth between 0 and 10 % a month, noise."""
    import numpy as np

    rng = np.random.default_rng(8)
    start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=DAYS)
    t = start.timestamp() + np.arange(DAYS * 86400 // PERIOD) * PERIOD
    hour = (t / 3600) % 24
    weekday = (np.floor(t / 86400).astype(int) + 3) % 7
    shape = (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 3) / 24)) * np.where(weekday >= 5, 0.78, 1.0)
    out = []
    for i in range(METRICS):
        growth = (1 + 0.005 * i) ** ((t - t[0]) / 86400 / 30.44)
        values = (20 + 40 * shape) * growth * (1 + rng.uniform(-0.05, 0.05, len(t)))
        out.append({"namespace": "Bench", "name": f"metric{i:02d}", "dimensions": {"Service": f"svc{i % 5}"},
                    "unit": "Percent", "start": float(t[0]), "step": PERIOD, "values": np.round(values, 2).tolist()})
    return out


def main() -> int:
    import boto3
    from botocore.config import Config

    from opsproof import charts, config, forecast
    from opsproof.connect import SANDBOX_CREDENTIALS
    from opsproof.probes import cloudwatch
    from sandbox.aws import admin
    from sandbox.aws.cloudwatch_metrics import load_series

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    state = tempfile.mkdtemp(prefix="opsproof-bench-capacity-")
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.aws.server", "--port", str(port), "--state-dir", state],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results: dict = {"metrics": METRICS, "days": DAYS, "period_s": PERIOD}
    try:
        admin.wait_ready(url, timeout=15)
        now = dt.datetime.now(dt.timezone.utc)
        data = series(now)
        t0 = time.perf_counter()
        for first in range(0, METRICS, 5):
            load_series(url, data[first:first + 5])
        results["load_s"] = round(time.perf_counter() - t0, 2)
        results["datapoints_stored"] = sum(len(s["values"]) for s in data)
        cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=url, **SANDBOX_CREDENTIALS,
                          config=Config(connect_timeout=3, read_timeout=120, retries={"max_attempts": 1}))
        metrics = {s["name"]: config.capacity.Metric(label=s["name"], kind="cpu", namespace="Bench", name=s["name"],
                                                     dimensions=s["dimensions"], unit="Percent") for s in data}
        end = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
        cloudwatch.fetch(cw, dict(list(metrics.items())[:1]), end - dt.timedelta(days=1), end, PERIOD)  # warm index
        rows = []
        for days in PERIODS:
            start = end - dt.timedelta(days=days)
            t0 = time.perf_counter()
            got = cloudwatch.fetch(cw, metrics, start, end, PERIOD)
            t1 = time.perf_counter()
            fits = {}
            for mid, s in got.series.items():
                d = forecast.daily(s.times, s.values, "p95")
                fit = forecast.fit_best(d.days, d.values)
                fits[mid] = (d, fit, forecast.crossing_day(fit, 80, after=fit.origin))
                fit.interval([fit.origin + m * forecast.MONTH_DAYS for m in (3, 6, 12)])
            t2 = time.perf_counter()
            rows.append({"days": days, "datapoints": got.datapoints, "get_metric_data_calls": got.calls,
                         "calls_predicted": cloudwatch.calls_needed(METRICS, days, PERIOD),
                         "get_metric_statistics_calls": cloudwatch.statistics_calls_needed(METRICS, days, PERIOD),
                         "fetch_s": round(t1 - t0, 2), "forecast_s": round(t2 - t1, 2),
                         "total_s": round(t2 - t0, 2)})
            if days == DAYS:
                t3 = time.perf_counter()
                for mid, s in got.series.items():
                    d, fit, crossing = fits[mid]
                    charts.forecast_chart(mid, s.times, s.values, d, fit, 365, 80, "%", crossing)
                results["charts_20_s"] = round(time.perf_counter() - t3, 2)
                results["fitted"] = {mid: f[1].model for mid, f in fits.items() if f[1]}
                growth = [round(fits[f"metric{i:02d}"][1].growth_per_month * 100, 2) for i in range(METRICS)]
                results["growth_recovered_pct_per_month"] = growth
                results["growth_true_pct_per_month"] = [round(0.5 * i, 2) for i in range(METRICS)]
        results["periods"] = rows
        # The baseline: GetMetricStatistics, ≤ 1,440 datapoints a call, one metric a call (measured on one metric).
        m0 = data[0]
        dims = [{"Name": k, "Value": v} for k, v in m0["dimensions"].items()]
        window = dt.timedelta(seconds=1440 * PERIOD)
        start = end - dt.timedelta(days=DAYS)
        calls, t0, points = 0, time.perf_counter(), 0
        t = start
        while t < end:
            resp = cw.get_metric_statistics(Namespace="Bench", MetricName=m0["name"], Dimensions=dims, StartTime=t,
                                            EndTime=min(t + window, end), Period=PERIOD, Statistics=["Average"])
            points += len(resp["Datapoints"])
            calls += 1
            t += window
        one = time.perf_counter() - t0
        results["baseline_get_metric_statistics"] = {
            "calls_one_metric": calls, "seconds_one_metric": round(one, 2), "datapoints_one_metric": points,
            "calls_20_metrics": calls * METRICS, "seconds_20_metrics_estimated": round(one * METRICS, 1)}
        # What the overlay replaces: moto's own GetMetricData (an Expression sends the request to moto unchanged),
        # one metric over 2 days.
        q = [{"Id": "a", "MetricStat": {"Metric": {"Namespace": "Bench", "MetricName": m0["name"], "Dimensions": dims},
                                        "Period": PERIOD, "Stat": "Average"}}, {"Id": "b", "Expression": "a"}]
        t0 = time.perf_counter()
        cw.get_metric_data(MetricDataQueries=q, StartTime=end - dt.timedelta(days=2), EndTime=end)
        results["moto_get_metric_data_1_metric_2_days_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        cw.get_metric_data(MetricDataQueries=q[:1], StartTime=end - dt.timedelta(days=2), EndTime=end)
        results["overlay_get_metric_data_1_metric_2_days_s"] = round(time.perf_counter() - t0, 3)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    full = next(r for r in results["periods"] if r["days"] == DAYS)
    base = results["baseline_get_metric_statistics"]
    results["calls_ratio_vs_baseline"] = round(base["calls_20_metrics"] / full["get_metric_data_calls"], 1)
    results["fetch_speedup_vs_baseline"] = round(base["seconds_20_metrics_estimated"] / full["fetch_s"], 1)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "capacity.json").write_text(json.dumps(results, indent=1))

    print(f"{METRICS} metrics, {PERIOD // 60}-minute periods; {results['datapoints_stored']:,} datapoints loaded "
          f"in {results['load_s']} s")
    print(f"{'days':>5} {'datapoints':>11} {'GMD calls':>10} {'GMS calls':>10} {'fetch s':>8} {'forecast s':>11} "
          f"{'total s':>8}")
    for r in results["periods"]:
        print(f"{r['days']:>5} {r['datapoints']:>11,} {r['get_metric_data_calls']:>10} "
              f"{r['get_metric_statistics_calls']:>10} {r['fetch_s']:>8} {r['forecast_s']:>11} {r['total_s']:>8}")
    print(f"charts (20 PNG): {results['charts_20_s']} s")
    print(f"baseline GetMetricStatistics, 90 days: {base['calls_20_metrics']} calls, "
          f"~{base['seconds_20_metrics_estimated']} s (measured {base['calls_one_metric']} calls / "
          f"{base['seconds_one_metric']} s on one metric)")
    print(f"GetMetricData: {results['calls_ratio_vs_baseline']}x fewer calls, "
          f"{results['fetch_speedup_vs_baseline']}x faster fetch than the baseline")
    print(f"moto's own GetMetricData, 1 metric × 2 days: {results['moto_get_metric_data_1_metric_2_days_s']} s; "
          f"the overlay: {results['overlay_get_metric_data_1_metric_2_days_s']} s")
    err = max(abs(a - b) for a, b in zip(results["growth_recovered_pct_per_month"],
                                         results["growth_true_pct_per_month"]))
    print(f"growth recovered within {err:.2f} percentage points a month of the truth (0 to 9.5 %/month)")
    ok = full["total_s"] < GOAL_S and full["get_metric_data_calls"] == full["calls_predicted"]
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
