"""The run's metrics: the Prometheus text file (read back with prometheus_client's parser, as node_exporter's
textfile collector would) and CloudWatch PutMetricData against the sandbox, with the alarm that fires when the gate
has not passed for a day."""

import datetime as dt
import time

from prometheus_client.parser import text_string_to_metric_families

from opsproof import connect, metrics

from .integrity_runs import check, environment, record


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_the_textfile_parses_with_one_status_per_check():
    rec = record([check("test_a"), check("test_b", "failed", area="storage"), check("test_c", "skipped"),
                  check('test_d[a "quoted" case]', "waived")])
    text = metrics.prometheus_text(rec, duration_s=12.5, last_success=1_800_000_000.0)
    fam = _families(text)
    status = {s.labels["check"].split("::")[1]: (s.value, s.labels) for s in fam["opsproof_check_status"].samples}
    assert {k: v for k, (v, _) in status.items()} == {"test_a": 1, "test_b": 0, 'test_d[a "quoted" case]': 0}
    assert status["test_b"][1] == {"check": "checks/storage/test_x.py::test_b", "area": "storage", "env": "sandbox"}
    (duration,) = fam["opsproof_run_duration_seconds"].samples
    assert duration.value == 12.5 and duration.labels == {"env": "sandbox", "gate": "nightly"}
    (last,) = fam["opsproof_last_success_timestamp_seconds"].samples
    assert last.value == 1_800_000_000.0
    assert fam["opsproof_check_status"].type == "gauge"


def test_never_a_success_leaves_the_timestamp_out(tmp_path):
    text = metrics.prometheus_text(record([check("test_b", "failed")]), 1.0, last_success=None)
    assert not list(_families(text)["opsproof_last_success_timestamp_seconds"].samples)
    path = metrics.write_textfile(tmp_path / "collector" / "opsproof.prom", text)
    assert path.read_text() == text and [p.name for p in path.parent.iterdir()] == ["opsproof.prom"]


def test_the_textfile_goes_where_configured(tmp_path):
    env = environment(tmp_path / "h.sqlite", metrics_file=str(tmp_path / "tf" / "opsproof-{gate}.prom"))
    rec = record([check("test_a")], markexpr="nightly and not capacity")
    assert metrics.textfile_path(env, tmp_path, rec) == tmp_path / "tf" / "opsproof-nightly_and_not_capacity.prom"
    assert metrics.textfile_path(environment(tmp_path / "h.sqlite"), tmp_path, rec) == tmp_path / "metrics.prom"


def _gate_sum(cw, env, gate: str, since: dt.datetime) -> float | None:
    alarm = metrics.gate_alarm(env, gate)
    got = cw.get_metric_data(
        MetricDataQueries=[{"Id": "g", "MetricStat": {"Metric": {"Namespace": alarm["Namespace"],
                                                                 "MetricName": alarm["MetricName"],
                                                                 "Dimensions": alarm["Dimensions"]},
                                                      "Period": 60, "Stat": alarm["Statistic"]}}],
        StartTime=since, EndTime=since + dt.timedelta(days=1))
    values = got["MetricDataResults"][0]["Values"]
    return sum(values) if values else None


def test_cloudwatch_gets_the_run_and_the_alarm_would_fire_when_the_gate_has_not_passed(sandbox, tmp_path):
    env = environment(tmp_path / "h.sqlite", cloudwatch=True, cloudwatch_namespace="OpsproofTest")
    cw = connect.aws_client(env, "cloudwatch", "integrity")
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    gate = f"nightly-{time.time_ns()}"  # a gate of this test's own: the sandbox's moto keeps every datapoint
    assert metrics.put_cloudwatch(env, record([check("test_b", "failed")], markexpr=gate), 30.0, time.time()) == 3
    alarm = metrics.gate_alarm(env, gate)
    fires = lambda s: s is None or s < alarm["Threshold"]  # noqa: E731 - Sum < 1 over a day; no data: breaching
    assert fires(_gate_sum(cw, env, gate, since)), "a failed run is not a pass"
    metrics.put_cloudwatch(env, record([check("test_a")], markexpr=gate), 30.0, time.time())
    assert not fires(_gate_sum(cw, env, gate, since))
    assert fires(_gate_sum(cw, env, f"{gate}-never-ran", since)), "a gate that never ran is breaching"
    cw.put_metric_alarm(**alarm)  # the definition is one the API takes
    (made,) = cw.describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"]
    assert made["TreatMissingData"] == "breaching" and made["Period"] == 86400
    cw.delete_alarms(AlarmNames=[alarm["AlarmName"]])
