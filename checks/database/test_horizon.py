"""What outlives sessions and holds the xmin horizon back: forgotten prepared transactions and replication slots
nothing consumes (opsproof/postgres/horizon.py). Thresholds in database.horizon."""

import pytest

from opsproof import findings
from opsproof.eventually import eventually
from opsproof.postgres import horizon
from opsproof.rules import database_activity as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_no_forgotten_prepared_transactions(env, db, evidence):
    """No prepared transaction (two-phase commit) is older than database.horizon.prepared_xact_max_age_s: a
    forgotten one holds its locks and the xmin horizon until someone runs COMMIT/ROLLBACK PREPARED."""
    rows = horizon.prepared(db)
    evidence.value("max_prepared_transactions", db.execute("SHOW max_prepared_transactions").fetchone()[0])
    evidence.table("prepared transactions (oldest first)", rows)
    findings.expect_no_alarm(rules.prepared(rows, env.database.horizon), evidence)


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_replication_slots_are_consumed(env, db, evidence):
    """Every replication slot is consumed (active) and retains less WAL than database.horizon.slot_max_retained_wal
    with an xmin younger than slot_max_xmin_age: an abandoned slot fills the disk and holds the xmin horizon."""
    h = env.database.horizon
    # a replica restarting leaves its slot inactive for seconds: only what stays wrong (slot_settle_s) is the alarm
    look = eventually(lambda: horizon.slots(db), ok=lambda rows: not findings.failing(rules.slots(rows, h)),
                      timeout_s=h.slot_settle_s, every_s=0.5)
    evidence.table("replication slots", look.value)
    evidence.value("measured", f"{look.attempts} time(s) over {look.waited_s}s")
    findings.expect_no_alarm(rules.slots(look.value, h), evidence)
