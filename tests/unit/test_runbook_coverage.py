"""The runbook's mapping (opsproof/runbook.py) against the code: every check and every action is named by a step,
every name a step gives exists, and a step nothing covers says why."""

from opsproof import check_index, runbook


def _cov():
    return runbook.coverage()


def test_every_check_is_named_by_a_runbook_step():
    missing = _cov().unnamed_checks()
    assert not missing, ("checks no runbook step names (add each to a step of opsproof/runbook.py): "
                         + ", ".join(missing))


def test_every_action_is_named_by_a_runbook_step():
    missing = _cov().unnamed_actions()
    assert not missing, ("actions no runbook step names (add each to a step of opsproof/runbook.py): "
                         + ", ".join(missing))


def test_every_name_a_step_gives_exists():
    unknown = _cov().unknown()
    assert not unknown, "runbook steps name what does not exist: " + "; ".join(unknown)


def test_uncovered_steps_say_why():
    for _, _, st in _cov().steps():
        if not (st.checks or st.actions):
            assert st.human or st.not_built, f"{st.text}: covered by nothing and says not why"


def test_a_new_check_without_a_step_is_reported():
    checks = {**check_index.checks(), "test_brand_new": {"doc": "x", "markers": [], "path": "checks/x.py"}}
    cov = runbook.coverage(checks, {"window": ""})
    assert "test_brand_new" in cov.unnamed_checks()
    assert "check test_brand_new (add it to a step" in cov.as_text()


def test_totals_and_sections_in_the_runbooks_order():
    cov = _cov()
    assert [s.title for s in cov.sections] == [
        "Scheduled Maintenance Windows", "Database Maintenance", "Infrastructure Updates", "Security Updates",
        "Certificate Management", "Backup Validation", "Capacity Planning"]
    t = cov.totals()
    assert t["steps"] == len(cov.as_rows())
    assert t["human-only"] >= 1 and t["covered by checks"] > t["human-only"]
    assert cov.section_of("test_no_invalid_indexes") == "database"
    assert cov.section_of("test_backup_retention_is_enough", ["backups"]) == "backups"
    assert cov.steps_of("test_backup_retention_is_enough") == ["24 Hours Before: Verify backup integrity"]
    assert cov.section_of("test_unknown", ["capacity"]) == "capacity"
