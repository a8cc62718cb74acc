"""Transaction ID wraparound: how far each database is from the 2^31 limit, and what keeps VACUUM from freezing
(see opsproof/postgres/activity.py). Thresholds: AWS RDS guidance, in database.wraparound."""

import pytest

from opsproof import findings
from opsproof.postgres import activity
from opsproof.rules import database_activity as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.nightly
def test_transaction_ids_are_far_from_wraparound(env, db, evidence):
    """Every database's transaction ID age (age(datfrozenxid)) and multixact age stay below the thresholds; what
    holds the xmin horizon back (long transactions, idle-in-transaction sessions, replication slots, prepared
    transactions) is named."""
    ages = activity.database_ages(db)
    holders = activity.horizon_holders(db)
    evidence.table("databases (oldest first)", ages)
    evidence.value("autovacuum_freeze_max_age", activity.freeze_max_age(db))
    evidence.table("what holds the xmin horizon back (oldest first)", holders[:20])
    findings.expect_no_alarm(rules.wraparound(ages, holders, env.database.wraparound), evidence)
