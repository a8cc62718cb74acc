"""Quarterly 'Database Parameter Tuning': the parameters the runbook reviews match the values recommended for the
instance's class, in the RDS parameter group and (database.parameters.check_live) on the running server."""

import pytest

from opsproof.probes import pg_params

pytestmark = [pytest.mark.database]


@pytest.mark.quarterly
def test_parameters_match_instance_class(env, aws, db, evidence):
    """Parameters (shared_buffers, effective_cache_size, work_mem, maintenance_work_mem, max_connections,
    random_page_cost) match the recommended values for the instance class, and no change waits for a reboot."""
    p = env.database.parameters
    inst = pg_params.instance(aws("rds", "rds"), env.rds.instance_id)
    evidence.table("instance", [inst])
    recommended = p.recommended.get(inst.instance_class)
    assert recommended is not None, (
        f"no recommended values for instance class {inst.instance_class} of {inst.id}: add "
        f"[database.parameters.recommended.\"{inst.instance_class}\"] (known: {', '.join(p.recommended)})")
    names = list(recommended)
    group = pg_params.group_values(aws("rds", "rds"), inst.parameter_group, names)
    running = pg_params.live(db, names)
    memory = p.instance_memory_gib.get(inst.instance_class)
    review = pg_params.review(recommended, group, running if p.check_live else None,
                              memory * 1024 ** 3 if memory else None, p.tolerance_percent)
    evidence.table(f"parameters ({inst.parameter_group}, {inst.instance_class})", review)
    evidence.table("live values (pg_settings)", list(running.values()))
    off = [r for r in review if not r.group_ok or r.live_ok is False]
    assert not off and inst.apply_status == "in-sync", (
        f"{inst.id} ({inst.instance_class}): " + "; ".join(map(str, off))
        + (f"; parameter group {inst.parameter_group} is {inst.apply_status} (reboot in a window)"
           if inst.apply_status != "in-sync" else "")
        + f" (tolerance database.parameters.tolerance_percent={p.tolerance_percent:g}%). "
        "Plan the fix: python -m actions db-parameters")
