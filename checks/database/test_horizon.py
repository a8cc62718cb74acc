"""What outlives sessions and holds the xmin horizon back: forgotten prepared transactions and replication slots
nothing consumes (opsproof/probes/pg_horizon.py). Thresholds in database.horizon."""

import pytest

from opsproof.eventually import eventually
from opsproof.probes import pg_horizon
from opsproof.probes.postgres import pretty

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_forgotten_prepared_transactions(env, db, evidence):
    """No prepared transaction (two-phase commit) is older than database.horizon.prepared_xact_max_age_s: a
    forgotten one holds its locks and the xmin horizon until someone runs COMMIT/ROLLBACK PREPARED."""
    h = env.database.horizon
    rows = pg_horizon.prepared(db)
    evidence.value("max_prepared_transactions", db.execute("SHOW max_prepared_transactions").fetchone()[0])
    evidence.table("prepared transactions (oldest first)", rows)
    old = pg_horizon.forgotten(rows, h.prepared_xact_max_age_s)
    assert not old, (
        f"{len(old)} prepared transaction(s) older than database.horizon.prepared_xact_max_age_s="
        f"{h.prepared_xact_max_age_s:g}s: " + "; ".join(map(str, old))
        + ". Ask its coordinator, then COMMIT PREPARED or ROLLBACK PREPARED '<gid>' (in its database)")


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_replication_slots_are_consumed(env, db, evidence):
    """Every replication slot is consumed (active) and retains less WAL than database.horizon.slot_max_retained_wal
    with an xmin younger than slot_max_xmin_age: an abandoned slot fills the disk and holds the xmin horizon."""
    h = env.database.horizon

    def problems(rows):
        return pg_horizon.slot_problems(rows, inactive_fails=h.inactive_slots == "fail",
                                        max_retained_bytes=h.slot_max_retained_bytes, max_xmin_age=h.slot_max_xmin_age)

    # a replica restarting leaves its slot inactive for seconds: only what stays wrong is the alarm
    look = eventually(lambda: pg_horizon.slots(db), ok=lambda rows: not problems(rows), timeout_s=h.slot_settle_s,
                      every_s=0.5)
    evidence.table("replication slots", look.value)
    evidence.value("measured", f"{look.attempts} time(s) over {look.waited_s}s")
    bad = problems(look.value)
    assert not bad, (
        f"{len(bad)} replication slot(s) not consumed or over the limits (database.horizon.inactive_slots="
        f"'{h.inactive_slots}', slot_max_retained_wal {h.slot_max_retained_wal} = "
        f"{pretty(h.slot_max_retained_bytes)}, slot_max_xmin_age {h.slot_max_xmin_age}) after "
        f"{look.waited_s:.0f}s: " + "; ".join(map(str, bad))
        + ". Reconnect its consumer, or drop it: SELECT pg_drop_replication_slot('<slot>')")
