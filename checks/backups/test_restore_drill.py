"""The monthly restore test (runbook: "Backup Validation: Test Database Restore ... Document results in maintenance
log ... Clean up test instance"). The drill itself is an action (python -m actions restore-drill --apply); these
checks read what it recorded and look for drill instances left behind. Read-only."""

import pytest

from opsproof import findings
from opsproof.probes import backups
from opsproof.rules import backups as rules

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
    path = backups.record_path(env, method)
    record = backups.read_record(path)
    if record is not None:
        evidence.value("drill", f"{record.get('snapshot')} restored to {record.get('drill_instance')} "
                                f"at {record.get('started_at')}")
        evidence.value("restore duration", record.get("restore_duration_s"), f"s (RTO {d.rto_min:g} min)")
        evidence.value("states while restoring", " → ".join(record.get("statuses") or []) or "not recorded")
        evidence.table("validation queries (document results: runbook)", record.get("validations", []))
        evidence.table("foreign keys with orphans", record.get("orphans", []))
        evidence.json("amcheck", record.get("amcheck"))
        evidence.value("drill instance deleted", (record.get("cleanup") or {}).get("deleted"))
    age = backups.record_age_days(record or {})
    findings.expect_no_alarm(rules.drill_record(method, record, age, d, str(path)), evidence)


@pytest.mark.monthly
@pytest.mark.nightly
@pytest.mark.pre_maintenance
def test_no_drill_instance_left_behind(env, aws, evidence):
    """No restore drill instance is left running (runbook: "Clean up test instance"): none carries the drill tag or
    the drill name prefix."""
    d = env.backups.drill
    found = backups.drill_instances(aws("rds", "backups"), d.instance_prefix, d.tag_key, d.tag_value)
    evidence.table("drill instances", [{"id": x.id, "status": x.status, "age_h": x.age_h, "tags": x.tags}
                                       for x in found])
    findings.expect_no_alarm(rules.drill_instances_left(found, d), evidence)
