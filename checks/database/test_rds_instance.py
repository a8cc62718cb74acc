"""The RDS instance behind the database is there and available (`aws rds describe-db-instances`)."""

import pytest

from opsproof import findings
from opsproof.probes import rds
from opsproof.rules import database as rules

pytestmark = [pytest.mark.database]


@pytest.mark.pre_maintenance
@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_rds_instance_is_available(env, aws, evidence):
    """The RDS instance exists and its status is 'available'."""
    inst = rds.instance(aws("rds", "rds"), env.rds.instance_id)
    evidence.table("RDS instance", [inst] if inst else [])
    findings.expect_no_alarm(rules.rds_instance(inst, env.rds.instance_id, env.aws_target("rds").region), evidence)
