"""The RDS instance behind the database is there and available (`aws rds describe-db-instances`)."""

import pytest

from opsproof.probes import rds

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_rds_instance_is_available(env, aws, evidence):
    """The RDS instance exists and its status is 'available'."""
    want = env.rds.instance_id
    inst = rds.instance(aws("rds", "rds"), want)
    assert inst is not None, f"RDS instance {want} not found in {env.aws_target('rds').region}"
    evidence.table("RDS instance", [inst])
    assert inst.status == "available", f"RDS instance {inst.id} is {inst.status!r}, not 'available'"
