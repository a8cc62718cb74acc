"""attach-evidence: upload a run's change-request report, JUnit XML and evidence.json to its change record
(ServiceNow or Jira, as [window.attach] says; credentials from the environment).

    python -m actions attach-evidence --change-request CHG0030001                # what would be uploaded, and where
    python -m actions attach-evidence --change-request CHG0030001 --apply        # upload

A refused upload (401, 413 over the size limit, no answer) is one failed line; the local files stay as they are.
"""

from opsproof import change_record, handover
from opsproof.errors import ConfigError

from . import Step, action, param


@action("attach-evidence", help="upload the change-request report, JUnit XML and evidence.json to the change record "
                                "(ServiceNow or Jira, [window.attach])",
        params=[param("--change-request", required=True, help="the change's number (ServiceNow) or issue key (Jira)"),
                param("--reports", default="reports", help="the run's report folder (default: reports)")])
def attach_evidence(ctx, change_request: str, reports: str):
    cfg = ctx.env.window.attach
    if cfg.system is None:
        raise ConfigError(f"{ctx.env.file}: [window.attach] system is not set (servicenow or jira)")
    folder = ctx.env.path(reports)
    where = f"{change_record.SYSTEMS[cfg.system]} {change_request}"
    files = handover.evidence_files(ctx.env, folder)
    if not ctx.apply:
        for f in files:
            size = f"{f.stat().st_size} bytes" if f.is_file() else "MISSING"
            ctx.step(f"attach {f.name} ({size}) to {where}")
        return None
    rows = handover.attach(ctx.env, folder, [change_request])
    for r in rows:
        ctx.report.steps.append(Step(f"attach {r['file']} to {where}", "done" if r["ok"] else "failed",
                                     r["detail"]))
    return rows
