"""The team's runbook, "Maintenance Procedures", v1.0, as data: its sections and steps in its order, each mapped to
the actions that do it and the checks (by function name) that verify it, or saying why nothing does.

This is the one place a check or an action is tied to the runbook: ``python -m actions coverage`` prints it, the
change-request report shows it, and tests/unit/test_runbook_coverage.py fails when a check or an action exists that
no step names, or a step names one that does not exist.

    >>> step = SECTIONS[1].steps[0]
    >>> step.actions, step.coverage
    (('vacuum-analyze', 'analyze'), 'checks+actions')
"""

from dataclasses import dataclass, field

TITLE = "Maintenance Procedures"
VERSION = "1.0"
NAME = f"{TITLE}, v{VERSION}"

PROCEDURE, VERIFICATION = "procedure", "verification"


@dataclass(frozen=True)
class Step:
    text: str
    kind: str = PROCEDURE
    actions: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    human: str | None = None
    """Why a person does it (joining the bridge, approving a change): nothing here can."""
    not_built: str | None = None
    """Why it could be automated but is not (yet)."""

    @property
    def coverage(self) -> str:
        """checks+actions | checks | actions | human | not built."""
        if self.checks and self.actions:
            return "checks+actions"
        if self.checks or self.actions:
            return "checks" if self.checks else "actions"
        return "human" if self.human else "not built"


@dataclass(frozen=True)
class Part:
    """A subsection of the runbook (e.g. "24 Hours Before")."""

    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    parts: tuple[Part, ...]
    areas: tuple[str, ...] = ()
    """Area markers whose checks belong here when no step names them (the report's fallback)."""

    @property
    def steps(self) -> list[Step]:
        return [s for p in self.parts for s in p.steps]


def do(text: str, *actions: str, checks: tuple[str, ...] = (), human: str | None = None) -> Step:
    return Step(text, PROCEDURE, tuple(actions), tuple(checks), human)


def verify(text: str, *checks: str, actions: tuple[str, ...] = ()) -> Step:
    return Step(text, VERIFICATION, tuple(actions), tuple(checks))


def person(text: str, why: str) -> Step:
    return Step(text, PROCEDURE, human=why)


def later(text: str, why: str, kind: str = PROCEDURE) -> Step:
    return Step(text, kind, not_built=why)


HEALTHY_SERVICES = ("test_ecs_services_run_desired_count", "test_ecs_services_finished_rollout",
                    "test_ecs_services_not_rolled_back", "test_ecs_services_run_their_minimum",
                    "test_load_balancer_targets_healthy", "test_rds_instance_is_available",
                    "test_database_accepts_connections", "test_read_replicas_keep_up",
                    "test_sequences_are_far_from_their_end", "test_connections_below_max_connections")
VACUUM_HORIZON = ("test_no_long_running_queries", "test_no_idle_in_transaction_sessions",
                  "test_no_forgotten_prepared_transactions", "test_replication_slots_are_consumed",
                  "test_transaction_ids_are_far_from_wraparound")
"""What holds vacuum back: a vacuum that cannot remove dead rows has not done its job."""

SECTIONS: tuple[Section, ...] = (
    Section("window", "Scheduled Maintenance Windows", areas=("window", "services"), parts=(
        Part("Regular Maintenance Schedule", (
            do("Bi-weekly window, 2nd and 4th Sunday, 2:00-6:00 AM UTC, at most 4 hours", "windows",
               checks=("test_plan_fits_the_window",)),
            verify("7 days advance notice to users", "test_window_announced_on_status_page",
                   actions=("announce",)),
        )),
        Part("7 Days Before", (
            do("Schedule maintenance window in calendar", "windows"),
            do("Notify users via email and status page", "announce", checks=("test_window_announced_on_status_page",)),
            do("Post notification in Slack #engineering", "announce"),
            verify("Prepare maintenance tasks list", "test_change_requests_listed_and_approved"),
            verify("Review and approve change requests", "test_change_requests_listed_and_approved"),
            verify("Prepare rollback procedures", "test_rollback_procedures_named"),
        )),
        Part("24 Hours Before", (
            do("Create database backup", "snapshot", checks=("test_pre_window_snapshot_exists",)),
            verify("Verify backup integrity", "test_latest_automated_snapshot_is_recent",
                   "test_backup_retention_is_enough", "test_snapshots_are_encrypted", "test_logical_dump_is_readable"),
            later("Test rollback procedures in staging", "needs a staging environment file; run the plan's rollback "
                  "actions against it with --apply"),
            person("Brief on-call team", "a conversation with the on-call engineers"),
            do("Prepare status page updates", "announce"),
            verify("Verify all required access and credentials", "test_access_and_credentials_verified"),
        )),
        Part("1 Hour Before", (
            do('Post status page update: "Scheduled Maintenance Starting Soon"', "announce",
               checks=("test_status_page_announces_window",)),
            person("Join maintenance bridge/call", "people join a call"),
            person("Final verification of team readiness", "the people on the bridge confirm they are ready"),
            do("Snapshot current system state", "window", checks=("test_system_state_snapshot_taken",)),
        )),
        Part("During Maintenance", (
            do("Update status page every 30 minutes", "window"),
            do("Post progress in Slack #ops-alerts", "window"),
            do("Notify if extended time needed", "window"),
            do("Follow documented procedures", "window"),
            do("Verify each step before proceeding", "window"),
            do("Document any deviations from plan", "window"),
            do("Capture logs and screenshots", "window", "attach-evidence"),
        )),
        Part("Post-Maintenance Checklist", (
            verify("Verify all services healthy", *HEALTHY_SERVICES),
            verify("Run smoke tests", "test_smoke_requests_answer_as_expected", "test_api_health_answers_within_budget",
                   "test_smoke_p95_latency_within_budget"),
            verify("Check monitoring dashboards (30 minutes)", "test_no_alarm_firing", actions=("soak",)),
            do('Update status page: "Maintenance Complete"', "window"),
            do("Send completion email to stakeholders", "completion-email", "window"),
            person("Document lessons learned", "a retrospective by the people who did the work"),
            person("Update maintenance runbook if needed", "an edit the team reviews; then update this mapping"),
        )),
        Part("Maintenance Log Template", (
            do("Tasks completed, issues encountered, next maintenance", "window"),
            verify("Metrics Before/After (API p95, database CPU, storage)", "test_no_regression_against_baseline",
                   actions=("window",)),
        )),
    )),
    Section("database", "Database Maintenance", areas=("database",), parts=(
        Part("Weekly: Analyze and Vacuum", (
            do("VACUUM ANALYZE every table (every Sunday 3 AM UTC, or by hand if the script fails)", "vacuum-analyze",
               "analyze", checks=("test_vacuum_keeps_up", "test_window_vacuumed_and_analyzed_every_table",
                                  *VACUUM_HORIZON)),
            verify("Check table bloat (tables with many dead tuples)", "test_tables_are_not_bloated"),
        )),
        Part("Monthly: Reindex Tables", (
            do("Reindex the large tables, concurrently (no downtime)", "reindex", checks=("test_no_invalid_indexes",)),
            verify("Check index sizes", "test_no_duplicate_indexes"),
        )),
        Part("Monthly: Update Table Statistics", (
            verify("Check statistics currency (n_mod_since_analyze)", "test_statistics_are_current"),
            do("Force statistics update (ANALYZE VERBOSE users, projects, jobs)", "analyze"),
        )),
        Part("Quarterly: Database Parameter Tuning", (
            verify("Review configuration against the recommended settings for the instance class",
                   "test_parameters_match_instance_class", actions=("db-parameters",)),
            do("Update parameters; reboot the instance inside the window", "db-parameters",
               checks=("test_rds_instance_is_available",)),
        )),
        Part("Quarterly: Disk Space Cleanup", (
            verify("Identify large objects and old data to archive", "test_no_completed_jobs_past_retention"),
            do("Archive completed jobs older than 90 days to S3, delete them in batches, VACUUM", "archive-jobs",
               checks=("test_no_completed_jobs_past_retention",)),
        )),
    )),
    Section("infrastructure", "Infrastructure Updates", areas=("infrastructure",), parts=(
        Part("Operating System Patches (EC2 GPU workers)", (
            verify("Patch baseline: Security, Critical/Important, approved after 7 days",
                   "test_patch_baseline_matches_runbook"),
            verify("Patching maintenance window: cron(0 4 ? * SUN *), 4 hours, cutoff 1",
                   "test_patch_window_matches_runbook"),
            do("Update system packages; reboot if the kernel was updated", "patch-hosts",
               checks=("test_running_kernel_is_newest_installed", "test_patch_group_instances_compliant",
                       "test_patch_group_patched_in_last_window")),
            verify("Verify the instance returns healthy", "test_required_services_running_and_enabled",
                   "test_disk_usage_under_threshold", "test_clock_synchronised", "test_database_port_is_listening"),
        )),
        Part("Container Image Updates", (
            verify("Review images for security vulnerabilities (scan)", "test_deployed_images_scanned",
                   "test_deployed_images_have_no_critical_findings"),
            verify("Rebuild with updated base images and push to ECR", "test_deployed_images_rebuilt_on_current_base",
                   "test_deployed_images_are_pinned"),
            do("Deploy: ECS update-service --force-new-deployment", "force-deploy",
               checks=("test_ecs_services_finished_rollout", "test_ecs_services_run_expected_image")),
        )),
        Part("Terraform Infrastructure Updates", (
            verify("Review current versions (terraform version, providers)", "test_terraform_versions_within_constraints"),
            verify("terraform init -upgrade, plan, apply during the window", "test_terraform_plan_has_no_drift"),
        )),
    )),
    Section("security", "Security Updates", areas=("security", "secrets"), parts=(
        Part("Dependency Updates", (
            verify("Backend (Python): check for vulnerabilities",
                   "test_python_dependencies_have_no_known_vulnerabilities"),
            person("Backend: update requirements", "a code change reviewed in the application's repository"),
            person("Automated dependency scanning (Dependabot, Snyk, weekly review of alerts)",
                   "settings of the application's repository and a weekly review"),
            verify("Frontend (Node.js): npm audit", "test_node_dependencies_have_no_known_vulnerabilities"),
            person("Frontend: npm update, npm audit fix, commit package.json and package-lock.json",
                   "a code change reviewed in the application's repository"),
        )),
        Part("SSL/TLS Certificate Updates", (
            verify("Check certificate expiration", "test_acm_certificates_are_not_expiring",
                   "test_served_certificates_are_not_expiring"),
            verify('Certificate is in "ISSUED" status', "test_acm_certificates_are_issued"),
            verify("Domain validation is successful", "test_acm_domain_validation_succeeded"),
            verify("Certificate is attached to load balancer", "test_acm_certificates_are_in_use",
                   "test_alb_listeners_serve_expected_certificates"),
            do("Manual certificate renewal: request, validate, update the listener, verify",
               "renew-certificate", checks=("test_endpoints_serve_the_acm_certificate",)),
            verify("Delete old certificate after 30 days", "test_old_certificates_deleted_after_retention"),
        )),
        Part("Secrets Rotation", (
            do("Rotate database credentials (quarterly), restart services to pick up the new secret",
               "rotate-db-credentials", checks=("test_secrets_rotated_within_max_age", "test_secrets_rotation_enabled",
                                                "test_rotated_secrets_differ_from_previous")),
            verify("Verify connectivity with the new credentials", "test_database_secrets_connect"),
            Step("Rotate API keys (OpenAI, Stripe, third-party)", checks=("test_secrets_rotated_within_max_age",),
                 human="each key is issued in its vendor's console"),
        )),
    )),
    Section("certificates", "Certificate Management", areas=("certificates",), parts=(
        Part("CloudFront SSL Certificate", (
            verify("Check certificate status", "test_acm_certificates_are_issued"),
            verify("Verify CloudFront distribution using correct certificate", "test_cloudfront_uses_its_acm_certificate"),
        )),
        Part("Application Load Balancer Certificate", (
            verify("Check listener certificates", "test_alb_listeners_serve_expected_certificates",
                   "test_alb_listeners_use_acceptable_tls_policy"),
            verify("Verify certificate validity", "test_endpoints_serve_a_trusted_chain", "test_endpoints_match_their_names",
                   "test_endpoints_refuse_old_protocols", "test_served_certificates_are_not_expiring"),
        )),
    )),
    Section("backups", "Backup Validation", areas=("backups", "storage"), parts=(
        Part("Monthly Backup Testing", (
            do("Restore the latest snapshot to a test instance and wait for it", "restore-drill",
               checks=("test_restore_drill_passed_this_month",)),
            do("Connect and run the validation queries", "restore-drill", "logical-restore-drill",
               checks=("test_restore_drill_passed_this_month", "test_logical_dump_is_readable")),
            do("Document results in maintenance log", "restore-drill"),
            do("Clean up test instance", "restore-drill", checks=("test_no_drill_instance_left_behind",)),
        )),
        Part("S3 Data Integrity Check", (
            verify("Compare object counts (prod and DR)", "test_replica_objects_match", "test_inventory_reports_match"),
            verify("Check replication status", "test_replication_is_configured", "test_replication_status_of_sample"),
            verify("Random sample validation", "test_sampled_metadata_matches"),
        )),
    )),
    Section("capacity", "Capacity Planning", areas=("capacity",), parts=(
        Part("Monthly Capacity Review", (
            verify("Metrics to review: CPU, memory, storage, network, connections, queue depth",
                   "test_capacity_metrics_have_history", "test_database_connections_stay_under_share_of_max_connections",
                   "test_render_queue_drains"),
            verify("Forecasting (linear projection)", "test_storage_not_projected_to_reach_80_percent_within_3_months"),
            person("Order reserved instances if sustained growth", "a purchase someone approves"),
            verify("Plan database upgrade if CPU consistently >60%",
                   "test_database_cpu_not_consistently_above_60_percent"),
            verify("Increase storage if projected to hit 80% in 3 months",
                   "test_storage_not_projected_to_reach_80_percent_within_3_months"),
            verify("Review auto-scaling policies if frequent scaling events", "test_scaling_events_are_not_frequent"),
        )),
        Part("Quarterly Capacity Planning", (
            verify("Report: utilization, growth projections (3, 6, 12 months), bottlenecks, recommended changes",
                   "test_quarterly_capacity_report"),
            person("Cost optimization and architecture scalability review; budget impact analysis",
                   "judgement of the team and finance on the report"),
        )),
    )),
)


# ---- coverage --------------------------------------------------------------------------------------------------
@dataclass
class Coverage:
    """The runbook against what exists: which steps name what, and what nothing names."""

    sections: tuple[Section, ...]
    checks: dict[str, dict] = field(default_factory=dict)
    """Every check: name -> {"doc", "markers", "path"}."""
    actions: dict[str, str] = field(default_factory=dict)
    """Every action: name -> help."""

    def steps(self) -> list[tuple[Section, Part, Step]]:
        return [(s, p, st) for s in self.sections for p in s.parts for st in p.steps]

    def totals(self) -> dict[str, int]:
        steps = [st for _, _, st in self.steps()]
        return {"steps": len(steps),
                "covered by checks": sum(1 for s in steps if s.checks),
                "covered by actions": sum(1 for s in steps if s.actions),
                "human-only": sum(1 for s in steps if s.coverage == "human"),
                "not built": sum(1 for s in steps if s.coverage == "not built")}

    def unnamed_checks(self) -> list[str]:
        named = {c for _, _, st in self.steps() for c in st.checks}
        return sorted(set(self.checks) - named)

    def unnamed_actions(self) -> list[str]:
        named = {a for _, _, st in self.steps() for a in st.actions}
        return sorted(set(self.actions) - named)

    def unknown(self) -> list[str]:
        """'section / step: name' for every check or action a step names that does not exist."""
        out = []
        for sec, part, st in self.steps():
            out += [f"{sec.title} / {part.title} / {st.text}: check {c}" for c in st.checks if c not in self.checks]
            out += [f"{sec.title} / {part.title} / {st.text}: action {a}" for a in st.actions if a not in self.actions]
        return out

    def section_of(self, check: str, areas: list[str] = ()) -> str:
        """The key of the section of the check's area marker, else of the first step that names it."""
        for sec in self.sections:
            if set(areas) & set(sec.areas):
                return sec.key
        for sec, _, st in self.steps():
            if check in st.checks:
                return sec.key
        return self.sections[0].key

    def steps_of(self, check: str) -> list[str]:
        """'Part: step' of every step that names the check."""
        return [f"{part.title}: {st.text}" for _, part, st in self.steps() if check in st.checks]

    def as_rows(self) -> list[dict]:
        """Plain rows (section, part, step, kind, coverage, actions, checks with their docstrings, why)."""
        return [{"section": sec.title, "part": part.title, "step": st.text, "kind": st.kind,
                 "coverage": st.coverage, "actions": list(st.actions),
                 "checks": [{"name": c, "doc": (self.checks.get(c) or {}).get("doc", "")} for c in st.checks],
                 "why": st.human or st.not_built or ""} for sec, part, st in self.steps()]

    def as_text(self) -> str:
        lines = [f"Runbook coverage: {NAME}"]
        for sec in self.sections:
            lines.append(f"\n{sec.title}")
            for part in sec.parts:
                lines.append(f"  {part.title}")
                for st in part.steps:
                    lines.append(f"    [{st.coverage}] {st.text}")
                    lines += [f"        action {a}: {self.actions.get(a, '(missing)')}" for a in st.actions]
                    for c in st.checks:
                        info = self.checks.get(c)
                        lines.append(f"        check {c}" + (f" ({', '.join(info['markers'])}): {info['doc']}"
                                                            if info else " (missing)"))
                    if st.human or st.not_built:
                        lines.append(f"        {'human' if st.human else 'not built'}: {st.human or st.not_built}")
        t = self.totals()
        lines.append("\n" + ", ".join(f"{k}: {v}" for k, v in t.items()))
        for name in self.unnamed_checks():
            lines.append(f"NOT IN THE RUNBOOK MAPPING: check {name} (add it to a step in opsproof/runbook.py)")
        for name in self.unnamed_actions():
            lines.append(f"NOT IN THE RUNBOOK MAPPING: action {name} (add it to a step in opsproof/runbook.py)")
        lines += [f"UNKNOWN: {x}" for x in self.unknown()]
        return "\n".join(lines)


def coverage(checks: dict[str, dict] | None = None, actions: dict[str, str] | None = None) -> Coverage:
    """The runbook against the checks under checks/ (read from their source) and the actions' registry."""
    if checks is None:
        from . import check_index

        checks = check_index.checks()
    if actions is None:
        import actions as actions_pkg  # the registry; actions import opsproof, never the other way at import time

        actions = {a.name: a.help for a in actions_pkg.all_actions().values()}
    return Coverage(SECTIONS, checks, actions)
