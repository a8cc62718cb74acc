"""The monthly restore test (runbook: "Backup Validation: Test Database Restore ... Document results in maintenance
log ... Clean up test instance"). The drill itself is an action (python -m actions restore-drill --apply); these
checks read what it recorded and look for drill instances left behind. Read-only."""

import pytest

from opsproof.probes import backups

pytestmark = [pytest.mark.backups]


def _methods(env):
    return list(env.backups.drill.methods)


@pytest.mark.monthly
@pytest.mark.parametrize("method", ["rds", "logical"])
def test_restore_drill_passed_this_month(env, evidence, method):
    """A restore drill ran within the last month: the restored copy matched its source (row counts, freshest row
    within the RPO, no foreign key orphans, amcheck clean), it restored within the RTO, and it was deleted."""
    d = env.backups.drill
    if method not in _methods(env):
        pytest.skip(f"backups.drill.methods does not include {method!r}")
    action = "restore-drill" if method == "rds" else "logical-restore-drill"
    path = backups.record_path(env, method)
    record = backups.read_record(path)
    assert record is not None, (f"no {method} restore drill recorded ({path}): run python -m actions {action} "
                                "--apply (backups.drill.record)")
    age = backups.record_age_days(record)
    evidence.value("drill", f"{record.get('snapshot')} restored to {record.get('drill_instance')} "
                            f"at {record.get('started_at')}")
    evidence.value("restore duration", record.get("restore_duration_s"), f"s (RTO {d.rto_min:g} min)")
    evidence.value("states while restoring", " → ".join(record.get("statuses") or []) or "not recorded")
    evidence.table("validation queries (document results: runbook)", record.get("validations", []))
    evidence.table("foreign keys with orphans", record.get("orphans", []))
    evidence.json("amcheck", record.get("amcheck"))
    evidence.value("drill instance deleted", (record.get("cleanup") or {}).get("deleted"))
    assert age <= d.max_age_days, (f"the last {method} restore drill ({record.get('snapshot')}) finished "
                                   f"{age:.0f} days ago, more than backups.drill.max_age_days = {d.max_age_days:g}: "
                                   f"run python -m actions {action} --apply")
    assert record.get("passed"), (f"the {method} restore drill of {record.get('snapshot')} into "
                                  f"{record.get('drill_instance')} FAILED: " + "; ".join(record.get("failures", []))
                                  + " (thresholds: backups.drill.count_tolerance_pct, rpo_min, rto_min)")


@pytest.mark.monthly
@pytest.mark.nightly
@pytest.mark.pre_maintenance
def test_no_drill_instance_left_behind(env, aws, evidence):
    """No restore drill instance is left running (runbook: "Clean up test instance"): none carries the drill tag or
    the drill name prefix."""
    d = env.backups.drill
    found = backups.drill_instances(aws("rds", "backups"), d.instance_prefix, d.tag_key, d.tag_value)
    evidence.table("drill instances", [vars(x) for x in found])
    assert not found, (f"{len(found)} restore drill instance(s) left behind: "
                       + ", ".join(f"{x.id} ({x.status}, {x.age_h:.0f} h old, "
                                   f"{'tag ' + d.tag_key if x.tagged else 'name ' + d.instance_prefix + '*'})"
                                   for x in found)
                       + ". They cost money and hold production data: python -m actions restore-drill --apply "
                         "deletes them (backups.drill.instance_prefix, tag_key)")
