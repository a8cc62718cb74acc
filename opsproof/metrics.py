"""The run as metrics for dashboards and alarms.

Prometheus text format, for node_exporter's textfile collector (written atomically: the collector never reads half
a file):

    opsproof_check_status{check,area,env}            1 passed, 0 failed (a waived failure is 0 too); skips absent
    opsproof_run_duration_seconds{env,gate}          start of the session to its end
    opsproof_last_success_timestamp_seconds{env,gate} when this gate last passed (alert: time() - it > 86400)

CloudWatch (opt-in, [integrity] cloudwatch = true): GatePassed (1/0), ChecksFailed and RunDurationSeconds with
dimensions Environment and Gate; `gate_alarm` is the alarm that fires when the gate has not passed for a day (its
sum over a day is below 1, and a day without any run is breaching too).
"""

import os
from pathlib import Path

from .config import Environment


def _label(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def gate(record: dict) -> str:
    return record.get("markexpr") or "all"


def check_status(record: dict) -> list[tuple[str, str | None, int]]:
    """(check, area, 1|0) per check that ran (a parametrized check once per case, its worst outcome)."""
    from .integrity import results

    return [(r["nodeid"], r["area"], 1 if r["outcome"] == "passed" else 0)
            for r in results(record) if r["outcome"] != "skipped"]


def prometheus_text(record: dict, duration_s: float, last_success: float | None) -> str:
    env, g = _label(record.get("environment", "")), _label(gate(record))
    out = ["# HELP opsproof_check_status 1 when the check passed in the last run, 0 when it failed or was waived.",
           "# TYPE opsproof_check_status gauge"]
    out += [f'opsproof_check_status{{check="{_label(c)}",area="{_label(a or "")}",env="{env}"}} {v}'
            for c, a, v in check_status(record)]
    out += ["# HELP opsproof_run_duration_seconds How long the last run took.",
            "# TYPE opsproof_run_duration_seconds gauge",
            f'opsproof_run_duration_seconds{{env="{env}",gate="{g}"}} {duration_s:.3f}',
            "# HELP opsproof_last_success_timestamp_seconds When this gate last passed (Unix time).",
            "# TYPE opsproof_last_success_timestamp_seconds gauge"]
    if last_success is not None:
        out.append(f'opsproof_last_success_timestamp_seconds{{env="{env}",gate="{g}"}} {last_success:.3f}')
    return "\n".join(out) + "\n"


def write_textfile(path: Path, text: str) -> Path:
    """Write beside the target and rename over it (node_exporter's textfile collector reads *.prom files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def textfile_path(env: Environment, folder: Path, record: dict) -> Path:
    where = env.integrity.metrics_file
    if not where:
        return Path(folder) / "metrics.prom"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in gate(record))
    return env.path(where.replace("{gate}", safe))


# ---- CloudWatch -------------------------------------------------------------------------------------------------
def dimensions(env: Environment, record: dict) -> list[dict]:
    return [{"Name": "Environment", "Value": env.name}, {"Name": "Gate", "Value": gate(record)}]


def cloudwatch_data(env: Environment, record: dict, duration_s: float, timestamp: float) -> list[dict]:
    failed = sum(1 for _, _, v in check_status(record) if v == 0)
    dims = dimensions(env, record)
    return [{"MetricName": name, "Dimensions": dims, "Timestamp": timestamp, "Value": float(value), "Unit": unit}
            for name, value, unit in (("GatePassed", int(record.get("exitstatus", 1)) == 0, "Count"),
                                      ("ChecksFailed", failed, "Count"),
                                      ("RunDurationSeconds", duration_s, "Seconds"))]


def put_cloudwatch(env: Environment, record: dict, duration_s: float, timestamp: float) -> int:
    """PutMetricData in [integrity]'s region with its credentials; the number of data points sent."""
    from . import connect  # boto3 only for a run that publishes

    data = cloudwatch_data(env, record, duration_s, timestamp)
    cw = connect.aws_client(env, "cloudwatch", "integrity")
    connect.aws_call("cloudwatch:PutMetricData", cw.put_metric_data,
                     Namespace=env.integrity.cloudwatch_namespace, MetricData=data)
    return len(data)


def gate_alarm(env: Environment, gate_name: str, actions: list[str] = ()) -> dict:
    """PutMetricAlarm's arguments for "the gate has not passed for a day" (create it once, with your SNS topic)."""
    return {"AlarmName": f"opsproof-{env.name}-{gate_name}-not-passed-for-a-day",
            "AlarmDescription": f"opsproof's {gate_name} gate on {env.name} has not passed in 24 hours",
            "Namespace": env.integrity.cloudwatch_namespace, "MetricName": "GatePassed",
            "Dimensions": [{"Name": "Environment", "Value": env.name}, {"Name": "Gate", "Value": gate_name}],
            "Statistic": "Sum", "Period": 86400, "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "LessThanThreshold", "TreatMissingData": "breaching",
            "AlarmActions": list(actions)}
