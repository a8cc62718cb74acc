"""Transaction ID wraparound: how far each database is from the 2^31 limit, and what keeps VACUUM from freezing
(see opsproof/probes/pg_activity.py). Thresholds: AWS RDS guidance, in database.wraparound."""

import pytest

from opsproof.probes import pg_activity

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_transaction_ids_are_far_from_wraparound(env, db, evidence):
    """Every database's transaction ID age (age(datfrozenxid)) and multixact age stay below the thresholds; what
    holds the xmin horizon back (long transactions, idle-in-transaction sessions, replication slots, prepared
    transactions) is named."""
    w = env.database.wraparound
    ages = pg_activity.database_ages(db)
    holders = pg_activity.horizon_holders(db)
    evidence.table("databases (oldest first)", ages)
    evidence.value("autovacuum_freeze_max_age", pg_activity.freeze_max_age(db))
    evidence.table("what holds the xmin horizon back (oldest first)", holders[:20])
    evidence.table("over database.wraparound.xid_age_warn", [a for a in ages if a.xid_age > w.xid_age_warn])
    old = [a for a in ages if a.xid_age > w.xid_age_max or a.mxid_age > w.mxid_age_max]
    assert not old, (
        "transaction ID wraparound approaching: "
        + ", ".join(f"{a.database} xid age {a.xid_age:,}" + (f" multixact age {a.mxid_age:,}"
                                                               if a.mxid_age > w.mxid_age_max else "") for a in old)
        + f" (database.wraparound.xid_age_max {w.xid_age_max:,}, mxid_age_max {w.mxid_age_max:,}). Held back by: "
        + ("; ".join(map(str, holders[:3])) or "nothing now: VACUUM (FREEZE) the oldest tables"))
