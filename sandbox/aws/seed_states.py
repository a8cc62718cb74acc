"""Seed the real AWS states of issue 12 after seed.seed: what production has that the first seed did not.

    from sandbox.aws.seed_states import seed
    seed(sb)        # the AWS server running; seed.seed done

* Composite alarm ``worker-degraded`` (ALARM when either of its children is: the metric alarms
  ``worker-queue-age-high`` and ``worker-task-failures``, which no configuration names). DescribeAlarms and
  DescribeAlarmHistory show it only to a caller that asks for AlarmTypes CompositeAlarm, as AWS does.
"""

import time

from .seed import ECS_CLUSTER

COMPOSITE_ALARM = "worker-degraded"
COMPOSITE_CHILDREN = ("worker-queue-age-high", "worker-task-failures")


def seed(sb) -> dict:
    started = time.monotonic()
    seed_composite_alarm(sb)
    return {"composite_alarm": COMPOSITE_ALARM, "seconds": round(time.monotonic() - started, 2)}


def seed_composite_alarm(sb) -> None:
    cw = sb.client("cloudwatch")
    dims = [{"Name": "ClusterName", "Value": ECS_CLUSTER}, {"Name": "ServiceName", "Value": "worker-service"}]
    cw.put_metric_alarm(AlarmName=COMPOSITE_CHILDREN[0], Namespace="AIFilmStudio/Worker",
                        MetricName="OldestJobAgeSeconds", Dimensions=dims[1:], Statistic="Maximum", Period=300,
                        EvaluationPeriods=3, Threshold=1800, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching", AlarmDescription="the oldest queued job waits over 30 min")
    cw.put_metric_alarm(AlarmName=COMPOSITE_CHILDREN[1], Namespace="AWS/ECS", MetricName="TaskFailures",
                        Dimensions=dims, Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=3,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
                        AlarmDescription="worker tasks keep failing")
    for name in COMPOSITE_CHILDREN:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="Threshold Crossed: no datapoints breaching")
    cw.put_composite_alarm(AlarmName=COMPOSITE_ALARM,
                           AlarmRule=" OR ".join(f'ALARM("{c}")' for c in COMPOSITE_CHILDREN),
                           AlarmDescription="GPU workers degraded: jobs queue up or tasks keep failing")
