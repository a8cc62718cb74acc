"""Bulk admin routes for the production volumes seed_volumes.py makes: one request each, straight into moto's
backends (a hundred PutMetricAlarm or rds/snapshot requests cost seconds of the cold start; each admin request
also rewrites the state snapshot).

    POST /_sandbox/volumes/snapshots {"instance": "prod-db", "snapshots": [{"snapshot": id, "age_hours": h,
                                      "type": "manual"}], "region": "us-east-1"}
    POST /_sandbox/volumes/alarms {"alarms": [{"name", "namespace", "metric", "dimensions": [{"Name", "Value"}],
                                   "statistic", "period", "evaluation_periods", "threshold", "comparison"}],
                                   "region": "us-east-1"}

Alarms are made in state OK (moto's initial state, AWS's is INSUFFICIENT_DATA until evaluated: the seed's alarms are
steady ones). No AWS request changes; no overrides to reset.
"""

import datetime as dt

from .overlay import AdminError, Overlay, admin, moto_backend, moto_time, need, now


class Volumes(Overlay):
    name = "volumes"

    @admin("volumes/snapshots")
    def snapshots(self, payload: dict) -> dict:
        backend = moto_backend("rds", payload.get("region", "us-east-1"))
        instance = need(payload, "instance")
        if instance not in backend.databases:
            raise AdminError(f"no DB instance {instance!r}", 404)
        made = []
        with self.lock:
            for s in need(payload, "snapshots", list):
                snap_id = need(s, "snapshot")
                if snap_id in backend.database_snapshots:
                    continue
                snap = backend.create_db_snapshot(instance, snap_id, snapshot_type=s.get("type", "manual"))
                snap.created = snap.original_snapshot_create_time = moto_time(
                    now() - dt.timedelta(hours=float(s.get("age_hours", 0))))
                made.append(snap_id)
        return {"made": len(made)}

    @admin("volumes/alarms")
    def alarms(self, payload: dict) -> dict:
        import importlib

        from moto.core import DEFAULT_ACCOUNT_ID

        backends = importlib.import_module("moto.cloudwatch.models").cloudwatch_backends
        backend = backends[DEFAULT_ACCOUNT_ID][payload.get("region", "us-east-1")]
        with self.lock:
            for a in need(payload, "alarms", list):
                backend.put_metric_alarm(
                    name=need(a, "name"), namespace=need(a, "namespace"), metric_name=need(a, "metric"),
                    comparison_operator=a.get("comparison", "GreaterThanThreshold"),
                    evaluation_periods=int(a.get("evaluation_periods", 1)), period=int(a.get("period", 300)),
                    threshold=float(a.get("threshold", 0)), statistic=a.get("statistic", "Average"),
                    description=a.get("description", ""), dimensions=a.get("dimensions", []), alarm_actions=[],
                    treat_missing_data=a.get("treat_missing_data", "notBreaching"))
        return {"made": len(payload["alarms"])}
