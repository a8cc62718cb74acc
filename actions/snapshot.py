"""The runbook's pre-maintenance "Create database backup" (24 hours before a window): a manual RDS snapshot.

    python -m actions snapshot            # the plan: which instance, the snapshot's name
    python -m actions snapshot --apply    # create it and wait until it is available (bounded)

Its integrity ("Verify backup integrity") is proven by restoring it: ``python -m actions restore-drill --apply
--snapshot NAME``. The pre-maintenance check test_pre_window_snapshot_exists verifies it was taken.
"""

import datetime as dt
import math

from opsproof import connect

from . import action, param
from .restore_drill import DrillFailed


@action("snapshot", help="Create a manual snapshot of each backed-up RDS instance before a window and wait until it "
                         "is available",
        params=[param("--instance", default=None, help="instance (default: every [backups] instance)")])
def snapshot(ctx, instance=None):
    env = ctx.env
    b, d = env.backups, env.backups.drill
    rds = ctx.aws("rds", "backups")
    now = dt.datetime.now(dt.timezone.utc)
    made = []
    for inst in ([instance] if instance else b.instance_ids(env.rds.instance_id)):
        name = f"{inst}-{b.pre_window_snapshot_prefix}-{now:%Y%m%d-%H%M%S}"
        ctx.step(f"create manual snapshot {name} of {inst} (tag opsproof:purpose=pre-maintenance)",
                 lambda i=inst, n=name: connect.aws_call(
                     f"rds create-db-snapshot {n}", rds.create_db_snapshot, DBInstanceIdentifier=i,
                     DBSnapshotIdentifier=n, Tags=[{"Key": "opsproof:purpose", "Value": "pre-maintenance"}]))
        ctx.step(f"wait until {name} is available (at most {d.wait_timeout_min:g} min)",
                 lambda n=name: _wait_snapshot(rds, n, d.poll_s, d.wait_timeout_min))
        made.append(name)
    ctx.evidence.value("snapshots", ", ".join(made))
    return made if ctx.apply else None


def _wait_snapshot(rds, name: str, poll_s: float, timeout_min: float) -> str:
    from botocore.exceptions import WaiterError

    try:
        connect.aws_call(f"rds wait db-snapshot-available {name}", rds.get_waiter("db_snapshot_available").wait,
                         DBSnapshotIdentifier=name,
                         WaiterConfig={"Delay": poll_s, "MaxAttempts": max(1, math.ceil(timeout_min * 60 / poll_s))})
    except WaiterError as e:
        raise DrillFailed(f"snapshot {name} did not become available within {timeout_min:g} min ({e.reason})") \
            from None
    return f"{name}: available"
