"""Read replicas keep up with the primary, measured on the primary in bytes and seconds; an idle primary is not a
lagging replica (opsproof/postgres/replication.py)."""

import pytest

from opsproof import findings
from opsproof.eventually import eventually
from opsproof.postgres import replication
from opsproof.rules import database_activity as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_read_replicas_keep_up(env, db, evidence):
    """Every configured read replica is streaming and has replayed the primary's WAL to within
    database.replication.max_lag_bytes and max_lag_s."""
    r = env.database.replication
    if not r.replicas:
        pytest.skip("no read replicas configured (database.replication.replicas)")
    # lag that clears within database.replication.settle_s (a burst of WAL) is not the alarm
    look = eventually(lambda: {x.name: x for x in replication.replicas(db)},
                      ok=lambda seen: not findings.failing(rules.replicas(seen, r)), timeout_s=r.settle_s, every_s=0.5)
    evidence.table("replicas (from pg_stat_replication on the primary)", list(look.value.values()))
    evidence.value("measured", f"{look.attempts} time(s) over {look.waited_s}s")
    findings.expect_no_alarm(rules.replicas(look.value, r), evidence)
