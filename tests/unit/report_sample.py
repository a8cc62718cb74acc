"""A run's record as a change advisory board would see it after a routine window (hand-built, realistic): every check
of checks/ with its docstring and markers, two failures with Findings, a waiver, a skip, the before/after table, and
the window runner's record with one deviation. Shared by the change-report tests."""

from opsproof import check_index
from opsproof.baseline import COMPARISON_TITLE

FAILED = {
    "test_no_invalid_indexes": [
        {"status": "alarm", "subject": "public.idx_jobs_status_ccnew", "reason": "invalid index left behind by an "
         "interrupted REINDEX CONCURRENTLY", "measured": "indisvalid = false", "limit": "valid",
         "key": "database.indexes", "fix": "DROP INDEX CONCURRENTLY public.idx_jobs_status_ccnew; then python -m "
         "actions reindex --apply --tables jobs"},
        {"status": "alarm", "subject": "public.idx_assets_project_id_ccold", "reason": "leftover _ccold index",
         "measured": "indisvalid = false", "limit": "valid", "key": "database.indexes",
         "fix": "DROP INDEX CONCURRENTLY public.idx_assets_project_id_ccold"}],
    "test_acm_certificates_are_not_expiring": [
        {"status": "alarm", "subject": "cdn.aifilmstudio.test", "reason": "expires in 9.5 days; ACM has not renewed it "
         "(renewal PENDING_VALIDATION)", "measured": "9.5 days", "limit": "≥ 30 days",
         "key": "certificates.min_days_left", "fix": "complete the DNS validation, or python -m actions "
         "renew-certificate --apply"}],
}
WAIVED = {"test_deployed_images_have_no_critical_findings": {
    "check": "test_deployed_images_have_no_critical_findings", "justification": "CVE-2026-1234 in libxml2: no fixed "
    "base image yet; not reachable from the API", "owner": "security@aifilmstudio.test", "expires": "2026-12-20",
    "entry": 1}}
SKIPPED = {"test_quarterly_capacity_report": "quarterly check: next due 2027-01-10"}
COMPARISON = [
    {"key": "api.p95_ms", "label": "API p95 response time", "before": "182 ms", "after": "171 ms", "change": "-6.0%", "verdict": "ok",
     "reason": ""},
    {"key": "db.cpu_pct", "label": "Database CPU", "before": "31.0%", "after": "34.5%", "change": "+3.5 points", "verdict": "ok",
     "reason": ""},
    {"key": "storage.used_gb", "label": "Storage usage", "before": "412.0 GB", "after": "398.2 GB", "change": "-3.3%", "verdict": "expected",
     "reason": "the plan expects it to change (archive-jobs)"},
    {"key": "rows.jobs", "label": "Rows in jobs", "before": "1204332", "after": "1187110", "change": "-1.4%", "verdict": "expected",
     "reason": "archived"}]


def record() -> dict:
    checks = []
    for name, info in check_index.checks().items():
        c = {"nodeid": f"{info['path']}::{name}", "when": "call", "outcome": "passed", "duration_s": 0.4,
             "markers": info["markers"], "doc": info["doc"], "message": None, "evidence": [], "findings": []}
        if name in FAILED:
            c.update(outcome="failed", findings=FAILED[name],
                     message=f"{len(FAILED[name])} alarm(s): " + "; ".join(f["subject"] for f in FAILED[name]))
        elif name in WAIVED:
            c.update(outcome="waived", waiver=WAIVED[name], message="1 critical finding in backend:v1.2.0",
                     findings=[{"status": "waived", "subject": "backend:v1.2.0", "reason": "CVE-2026-1234 (CRITICAL)",
                                "measured": "1 critical", "limit": "0", "key": "security.images.min_severity",
                                "fix": "rebuild on a patched base image"}])
        elif name in SKIPPED:
            c.update(outcome="skipped", findings=[{"status": "skip", "subject": name, "reason": SKIPPED[name]}])
        elif name == "test_no_regression_against_baseline":
            c["evidence"] = [{"kind": "table", "title": COMPARISON_TITLE, "payload": COMPARISON}]
        elif name == "test_served_certificates_are_not_expiring":
            c["findings"] = [{"status": "ok", "subject": "api.aifilmstudio.test:443", "reason": "valid",
                              "measured": "364.9 days", "limit": "≥ 30 days", "key": "certificates.min_days_left"}]
        checks.append(c)
    return {"environment": "production", "change_request": "CHG0030001", "finished_at": "2026-01-11T05:12:40+00:00",
            "markexpr": "post_maintenance", "exitstatus": 1, "checks": checks,
            "target": {"environment": "production", "kind": "aws", "account": "210987654321", "region": "us-east-1",
                       "caller_arn": "arn:aws:sts::210987654321:assumed-role/opsproof-verify/ops"},
            "window": {"id": "2026-01-11", "kind": "scheduled", "label": "Sun 2026-01-11 02:00–06:00 UTC"},
            "waivers": {"active": list(WAIVED.values()), "expired": [], "problems": [],
                        "report": ["1 waiver active, none expired"]}}


def window_run() -> dict:
    return {"operator": "j.doe", "started_at": "2026-01-11T02:00:05+00:00", "finished_at": "2026-01-11T05:14:02+00:00",
            "change_requests": [{"id": "CHG0030001"}], "deviations": [
                "step 3 (reindex) took 1 h 12 min, over its estimate of 45 min"],
            "steps": [
                {"index": 1, "action": "snapshot", "title": "Pre-window snapshot", "status": "done",
                 "duration_s": 412.0, "estimate": "30 min"},
                {"index": 2, "action": "vacuum-analyze", "title": "VACUUM ANALYZE", "status": "done",
                 "duration_s": 1810.4, "estimate": "45 min"},
                {"index": 3, "action": "reindex", "title": "Reindex large tables", "status": "done",
                 "duration_s": 4321.9, "estimate": "45 min"},
                {"index": 4, "action": "archive-jobs", "title": "Archive completed jobs > 90 days", "status": "done",
                 "duration_s": 950.2, "estimate": "30 min"}]}
