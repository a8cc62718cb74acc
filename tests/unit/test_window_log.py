"""The maintenance log: the runbook's template, every field filled from what actually happened."""

import datetime as dt

from opsproof import maintenance_log, schedule
from opsproof.baseline import COMPARISON_TITLE
from opsproof.config.window import RUNBOOK_TASKS
from opsproof.schedule import utc

W = schedule.on(schedule.Schedule(), dt.date(2026, 1, 11))
NEXT = schedule.on(schedule.Schedule(), dt.date(2026, 1, 25))


def check(nodeid, outcome, markers, message=None, evidence=(), **kw):
    return {"nodeid": nodeid, "when": "call", "outcome": outcome, "markers": markers, "message": message,
            "evidence": list(evidence), **kw}


COMPARISON = [
    {"key": "rows.jobs", "label": "Rows in jobs", "before": "120,000 rows", "after": "96,000 rows",
     "change": "-24,000 (-20%)", "verdict": "expected", "reason": "the plan expects it to change"},
    {"key": "api.p95_ms", "label": "API p95 response time", "before": "12.0 ms", "after": "310.0 ms",
     "change": "+298.0 (+2483%)", "verdict": "regression", "reason": "310.0 ms > 62.0 ms"},
    {"key": "db.cpu_pct", "label": "Database CPU", "before": "23.0 %", "after": "25.0 %", "change": "+2.0 (+9%)",
     "verdict": "ok", "reason": ""},
    {"key": "storage.used_gb", "label": "Storage usage", "before": "545.0 GB", "after": "540.0 GB",
     "change": "-5.0 (-1%)", "verdict": "ok", "reason": ""},
]

RECORD = {"exitstatus": 1, "change_request": None, "checks": [
    check("checks/database/test_server.py::test_database_accepts_connections", "passed",
          ["database", "post_maintenance"]),
    check("checks/database/test_indexes.py::test_no_invalid_indexes", "passed", ["database", "post_maintenance"]),
    check("checks/certificates/test_endpoints.py::test_served_certificates_are_not_expiring", "failed",
          ["certificates", "post_maintenance"], "127.0.0.1:55443 (api) -1 days left"),
    check("checks/backups/test_snapshots.py::test_snapshot_recent", "waived", ["backups", "post_maintenance"],
          "no snapshot today", waiver={"justification": "backup job moved", "owner": "dba", "expires": "2026-02-01"}),
    check("checks/window/test_baseline.py::test_no_regression_against_baseline", "failed",
          ["window", "post_maintenance"], "regression against the baseline: API p95 ...",
          evidence=[{"kind": "table", "title": COMPARISON_TITLE, "payload": COMPARISON}]),
]}

RUN = {
    "change_requests": [{"id": "CR-1234", "title": "reindex", "approved_by": "jane"}],
    "special_tasks": ["quarterly parameter review"],
    "steps": [{"index": 1, "action": "vacuum-analyze", "title": "Vacuum", "status": "done", "duration_s": 120.0},
              {"index": 2, "action": "reindex", "title": "Reindex", "status": "failed", "duration_s": 3.0},
              {"index": 3, "action": "soak", "title": "Soak", "status": "skipped", "duration_s": 0}],
    "deviations": ["step 2 (reindex) failed: lock timeout", "step 3 (soak) not started: step 2 did not succeed"],
    "notifications": [{"channel": "slack", "event": "start", "ok": False, "attempts": 3,
                       "detail": "HTTP 503 from the webhook at hooks.slack.com after 3 attempt(s)"}],
    "outcome": "completed with deviations",
}


def render(record=RECORD, run=RUN, **kw):
    return maintenance_log.render(maintenance_log.Inputs(
        record=record, env_name="prod", window=W, next_window=NEXT, tasks=RUNBOOK_TASKS,
        performed_by="DevOps Team (alice)", started=utc(2026, 1, 11, 2, 3), finished=utc(2026, 1, 11, 3, 41),
        run=run, waivers={"report": ["waivers.toml waiver #2: missing owner"]},
        links={"Post-maintenance report": "post/report.html"}, **kw))


def test_the_header_follows_the_runbook_template():
    text = render()
    assert text.startswith("# Maintenance Log - 2026-01-11\n\n**Type**: Scheduled  \n"
                           "**Duration**: 2026-01-11 02:03 - 03:41 UTC  \n**Performed By**: DevOps Team (alice)  \n")
    assert "**Change requests**: CR-1234 (approved by jane)" in text
    assert "**Outcome**: completed with deviations" in text


def test_tasks_are_ticked_only_from_what_passed():
    text = render()
    assert "- [ ] Database maintenance (vacuum, analyze) — step(s) 2 reindex failed" in text
    assert "- [ ] Certificate verification — 1 check(s) failed: test_served_certificates_are_not_expiring" in text
    assert "- [ ] Backup validation — 1 failure(s) waived: test_snapshot_recent" in text
    assert "- [ ] Capacity review — not verified in this run" in text
    assert "- [x] Step 1: Vacuum (done, 2m)" in text and "- [ ] Step 3: Soak (skipped)" in text
    clean = render(run=None, record={"exitstatus": 0, "checks": RECORD["checks"][:2]})
    assert "- [x] Database maintenance (vacuum, analyze) — 2 check(s) passed" in clean


def test_issues_list_failures_waivers_deviations_and_undelivered_notifications():
    issues = render().split("## Issues Encountered\n")[1].split("\n\n")[0]
    assert "- Check test_served_certificates_are_not_expiring failed: 127.0.0.1:55443 (api) -1 days left" in issues
    assert "- Check test_snapshot_recent failed but is WAIVED until 2026-02-01 (backup job moved; owner dba)" in issues
    assert "- Deviation: step 2 (reindex) failed: lock timeout" in issues
    assert "- Notification start to slack not delivered: HTTP 503" in issues
    assert "- Waiver file: waivers.toml waiver #2: missing owner" in issues
    none = render(run=None, record={"exitstatus": 0, "checks": []}).split("## Issues Encountered\n")[1]
    assert none.startswith("- Waiver file")


def test_metrics_before_after_start_with_the_runbooks_three():
    metrics = render().split("## Metrics Before/After\n")[1].split("\n\n")[0].splitlines()
    assert metrics[0].startswith("- API p95 response time: 12.0 ms → 310.0 ms — **REGRESSION**")
    assert metrics[1] == "- Database CPU: 23.0 % → 25.0 %"
    assert metrics[2] == "- Storage usage: 545.0 GB → 540.0 GB"
    assert metrics[3] == "- Rows in jobs: 120,000 rows → 96,000 rows — expected by the plan"
    assert "No comparison" in render(record={"checks": []}, run=None)


def test_next_maintenance_comes_from_the_schedule_and_carries_skipped_steps_over():
    text = render()
    assert "- Scheduled: 2026-01-25 (Sun) 02:00–06:00 UTC" in text
    assert ("- Special tasks: quarterly parameter review; carry over step 2 reindex (failed); carry over step 3 soak "
            "(skipped)") in text
    assert "- [Post-maintenance report](post/report.html)" in text
