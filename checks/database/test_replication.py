"""Read replicas keep up with the primary, measured on the primary in bytes and seconds; an idle primary is not a
lagging replica (opsproof/probes/pg_replication.py)."""

import pytest

from opsproof.config.database import parse_size
from opsproof.eventually import eventually
from opsproof.probes import pg_replication

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
    max_bytes = parse_size(r.max_lag_bytes)

    def behind(seen):
        return pg_replication.behind(seen, r.replicas, max_bytes, r.max_lag_s)

    # lag that clears within database.replication.settle_s (a burst of WAL) is not the alarm
    look = eventually(lambda: {x.name: x for x in pg_replication.replicas(db)}, ok=lambda seen: not behind(seen),
                      timeout_s=r.settle_s, every_s=0.5)
    evidence.table("replicas (from pg_stat_replication on the primary)", list(look.value.values()))
    evidence.value("measured", f"{look.attempts} time(s) over {look.waited_s}s")
    bad = behind(look.value)
    assert not bad, "replica(s) behind: " + "; ".join(bad) + (
        f" after {look.waited_s:.0f}s (database.replication.max_lag_bytes {r.max_lag_bytes}, max_lag_s "
        f"{r.max_lag_s:g}, settle_s {r.settle_s:g})")
