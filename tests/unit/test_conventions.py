"""Conventions that keep the suite honest: every check says what it verifies, when it runs, what area it is in,
and has a proof in tests/ that breaks the sandbox for it."""

import ast
import re
from pathlib import Path

from opsproof import ROOT

SCHEDULE = {"pre_maintenance", "post_maintenance", "nightly", "monthly", "quarterly"}
AREAS = {"database", "backups", "storage", "certificates", "secrets", "infrastructure", "services", "capacity",
         "maintenance"}


def _checks():
    for path in sorted((ROOT / "checks").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        module_marks = _marks_of_assign(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = module_marks | {_mark_name(d) for d in node.decorator_list} - {None}
                yield path, node, marks


def _mark_name(dec):
    if isinstance(dec, ast.Call):
        dec = dec.func
    if isinstance(dec, ast.Attribute) and isinstance(dec.value, ast.Attribute) and dec.value.attr == "mark":
        return dec.attr
    return None


def _marks_of_assign(tree):
    marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            for el in ast.walk(node.value):
                if isinstance(el, (ast.Attribute, ast.Call)):
                    name = _mark_name(el)
                    if name:
                        marks.add(name)
    return marks


def test_there_are_checks():
    assert len(list(_checks())) >= 5


def test_every_check_has_a_docstring_a_schedule_and_an_area():
    problems = []
    for path, fn, marks in _checks():
        where = f"{path.relative_to(ROOT)}::{fn.name}"
        if not ast.get_docstring(fn):
            problems.append(f"{where}: no docstring (the runbook sentence it verifies)")
        if not marks & SCHEDULE:
            problems.append(f"{where}: no schedule marker ({', '.join(sorted(SCHEDULE))})")
        if not marks & AREAS:
            problems.append(f"{where}: no area marker ({', '.join(sorted(AREAS))})")
    assert not problems, "\n".join(problems)


def test_every_check_has_a_proof():
    proofs = "\n".join(p.read_text() for p in (ROOT / "tests" / "proofs").rglob("test_*.py"))
    missing = [f"{path.relative_to(ROOT)}::{fn.name}" for path, fn, _ in _checks()
               if not re.search(rf"\b{fn.name}\b", proofs)]
    assert not missing, "checks without a proof in tests/proofs/: " + ", ".join(missing)


def test_every_fault_is_documented_and_used_by_a_proof():
    from sandbox import faults

    proofs = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    unused = [n for n in faults.all_faults() if f'"{n}"' not in proofs]
    undocumented = [n for n, f in faults.all_faults().items() if not f.summary]
    assert not undocumented, f"faults without a docstring: {undocumented}"
    assert not unused, f"faults no test applies: {unused}"


# ---- judgement lives in rules (issue 13) ----------------------------------------------------------------------
FAILURE_LISTS = {"problems", "bad", "failures", "wrong", "issues"}
STILL_JUDGING = frozenset({
    "test_access_and_credentials_verified",
    "test_acm_certificates_are_in_use",
    "test_acm_certificates_are_issued",
    "test_ecs_services_finished_rollout",
    "test_ecs_services_not_rolled_back",
    "test_ecs_services_run_desired_count",
    "test_ecs_services_run_expected_image",
    "test_ecs_services_run_their_minimum",
    "test_endpoints_match_their_names",
    "test_endpoints_refuse_old_protocols",
    "test_endpoints_serve_a_trusted_chain",
    "test_render_queue_drains",
    "test_scaling_events_are_not_frequent",
    "test_smoke_p95_latency_within_budget",
    "test_smoke_requests_answer_as_expected",
})
"""Checks that still build their own list of failures, to move into opsproof/rules/ (Findings). It only shrinks."""


def test_no_new_check_judges_in_its_body():
    judging = {node.name for _, node, _ in _checks()
               if any(isinstance(n, ast.Assign) and isinstance(n.value, (ast.List, ast.ListComp))
                      and any(getattr(t, "id", "") in FAILURE_LISTS for t in n.targets) for n in ast.walk(node))}
    new = judging - STILL_JUDGING
    assert not new, (f"{sorted(new)} build a list of failures in the check: write the rule in opsproof/rules/ "
                     "returning Findings and end the check with findings.expect_no_alarm(...)")
    moved = STILL_JUDGING - judging
    assert not moved, f"{sorted(moved)} no longer judge in their body: take them out of STILL_JUDGING"


NOT_YET_FINDINGS = frozenset({
    "backups/test_logical_dump.py::test_logical_dump_is_readable",
    "backups/test_restore_drill.py::test_no_drill_instance_left_behind",
    "backups/test_restore_drill.py::test_restore_drill_passed_this_month",
    "backups/test_snapshots.py::test_backup_retention_is_enough",
    "backups/test_snapshots.py::test_latest_automated_snapshot_is_recent",
    "backups/test_snapshots.py::test_pre_window_snapshot_exists",
    "backups/test_snapshots.py::test_snapshots_are_encrypted",
    "capacity/test_monthly_review.py::test_capacity_metrics_have_history",
    "capacity/test_monthly_review.py::test_database_connections_stay_under_share_of_max_connections",
    "capacity/test_monthly_review.py::test_database_cpu_not_consistently_above_60_percent",
    "capacity/test_monthly_review.py::test_render_queue_drains",
    "capacity/test_monthly_review.py::test_scaling_events_are_not_frequent",
    "capacity/test_monthly_review.py::test_storage_not_projected_to_reach_80_percent_within_3_months",
    "capacity/test_quarterly_report.py::test_quarterly_capacity_report",
    "certificates/test_acm.py::test_acm_certificates_are_in_use",
    "certificates/test_acm.py::test_acm_certificates_are_issued",
    "certificates/test_acm.py::test_acm_certificates_are_not_expiring",
    "certificates/test_acm.py::test_acm_domain_validation_succeeded",
    "certificates/test_endpoints.py::test_served_certificates_are_not_expiring",
    "certificates/test_load_balancers.py::test_alb_listeners_serve_expected_certificates",
    "certificates/test_load_balancers.py::test_alb_listeners_use_acceptable_tls_policy",
    "certificates/test_load_balancers.py::test_cloudfront_uses_its_acm_certificate",
    "certificates/test_served.py::test_endpoints_match_their_names",
    "certificates/test_served.py::test_endpoints_refuse_old_protocols",
    "certificates/test_served.py::test_endpoints_serve_a_trusted_chain",
    "certificates/test_served.py::test_endpoints_serve_the_acm_certificate",
    "database/test_archive.py::test_no_completed_jobs_past_retention",
    "database/test_bloat.py::test_tables_are_not_bloated",
    "database/test_connections.py::test_connections_below_max_connections",
    "database/test_connections.py::test_no_idle_in_transaction_sessions",
    "database/test_connections.py::test_no_long_running_queries",
    "database/test_horizon.py::test_no_forgotten_prepared_transactions",
    "database/test_horizon.py::test_replication_slots_are_consumed",
    "database/test_indexes.py::test_no_duplicate_indexes",
    "database/test_indexes.py::test_no_invalid_indexes",
    "database/test_parameters.py::test_parameters_match_instance_class",
    "database/test_rds_instance.py::test_rds_instance_is_available",
    "database/test_replication.py::test_read_replicas_keep_up",
    "database/test_sequences.py::test_sequences_are_far_from_their_end",
    "database/test_server.py::test_database_accepts_connections",
    "database/test_vacuum.py::test_statistics_are_current",
    "database/test_vacuum.py::test_vacuum_keeps_up",
    "database/test_vacuum.py::test_window_vacuumed_and_analyzed_every_table",
    "database/test_wraparound.py::test_transaction_ids_are_far_from_wraparound",
    "security/test_dependencies.py::test_node_dependencies_have_no_known_vulnerabilities",
    "security/test_dependencies.py::test_python_dependencies_have_no_known_vulnerabilities",
    "security/test_images.py::test_deployed_images_are_pinned",
    "security/test_images.py::test_deployed_images_have_no_critical_findings",
    "services/test_ecs.py::test_ecs_services_finished_rollout",
    "services/test_ecs.py::test_ecs_services_not_rolled_back",
    "services/test_ecs.py::test_ecs_services_run_desired_count",
    "services/test_ecs.py::test_ecs_services_run_expected_image",
    "services/test_ecs.py::test_ecs_services_run_their_minimum",
    "services/test_load_balancer.py::test_load_balancer_targets_healthy",
    "services/test_monitoring.py::test_no_alarm_firing",
    "services/test_smoke.py::test_api_health_answers_within_budget",
    "services/test_smoke.py::test_smoke_p95_latency_within_budget",
    "services/test_smoke.py::test_smoke_requests_answer_as_expected",
    "window/test_announcement.py::test_change_requests_listed_and_approved",
    "window/test_announcement.py::test_plan_fits_the_window",
    "window/test_announcement.py::test_window_announced_on_status_page",
    "window/test_baseline.py::test_no_regression_against_baseline",
    "window/test_final_hour.py::test_status_page_announces_window",
    "window/test_final_hour.py::test_system_state_snapshot_taken",
    "window/test_readiness.py::test_access_and_credentials_verified",
    "window/test_readiness.py::test_rollback_procedures_named",
})
"""Checks (area/file::name) that do not yet end in findings.expect_no_alarm: their outcome is not yet Findings in
evidence.json, JUnit and the maintenance log. One per line so that lanes migrating different areas merge; it only
shrinks."""


def _reports_findings(fn: ast.FunctionDef) -> bool:
    return any(isinstance(c, ast.Call) and getattr(c.func, "attr", getattr(c.func, "id", "")) == "expect_no_alarm"
               for c in ast.walk(fn))


def test_every_check_reports_findings():
    reporting = {f"{p.parent.name}/{p.name}::{fn.name}": _reports_findings(fn) for p, fn, _ in _checks()}
    new = sorted(k for k, yes in reporting.items() if not yes and k not in NOT_YET_FINDINGS)
    assert not new, (f"{new} do not end in findings.expect_no_alarm(rules.AREA.RULE(facts, limits), evidence): "
                     "judge in opsproof/rules/ and report Findings")
    moved = sorted(k for k in NOT_YET_FINDINGS if reporting.get(k, True))
    assert not moved, f"{moved} now report Findings (or are gone): take them out of NOT_YET_FINDINGS"
