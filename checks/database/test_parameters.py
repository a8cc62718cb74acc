"""Quarterly 'Database Parameter Tuning': the parameters the runbook reviews match the values recommended for the
instance's class, in the RDS parameter group and (database.parameters.check_live) on the running server."""

import pytest

from opsproof import findings
from opsproof.postgres import parameters
from opsproof.rules import database_parameters as rules

pytestmark = [pytest.mark.database]


@pytest.mark.quarterly
def test_parameters_match_instance_class(env, aws, db, evidence):
    """Parameters (shared_buffers, effective_cache_size, work_mem, maintenance_work_mem, max_connections,
    random_page_cost) match the recommended values for the instance class, and no change waits for a reboot."""
    p = env.database.parameters
    inst = parameters.instance(aws("rds", "rds"), env.rds.instance_id)
    evidence.table("instance", [inst])
    reviewed, running = parameters.review(aws("rds", "rds"), db, inst, p)
    evidence.table(f"parameters ({inst.parameter_group}, {inst.instance_class})", reviewed)
    evidence.table("live values (pg_settings)", list(running.values()))
    findings.expect_no_alarm(rules.parameters(inst, reviewed, p), evidence)
