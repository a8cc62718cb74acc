"""Dependency audits: pip-audit, safety and npm audit results, live or from a report produced earlier.

    >>> a = audit("python", env.security.python, env.path)
    >>> a.source
    'report .sandbox/audit/pip-audit.json (pip-audit, 0.1 days old)'
    >>> [f.id for f in a.findings]
    ['GHSA-h5c8-rqwp-cp95']

(opsproof/rules/security.py's dependencies judges them: severity floor, waivers, the report's age.)

Where the vulnerability databases are out of reach (this machine, many CI runners), the check reads the JSON a CI
job left and says so, with the report's age; a report older than its maximum age is not trusted. The formats are
recognised by shape: pip-audit (-f json), safety (--json, 1.x and 2.x+) and npm audit (--json, v6 and v7+).
"""

import datetime as dt
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config.security import DependencyAudit


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    severity: str = "unknown"
    fix: str = ""
    title: str = ""

    @property
    def ids(self) -> set[str]:
        return {self.id, *self.aliases}

    @property
    def label(self) -> str:
        return f"{self.package} {self.version} {self.id}" + (f" ({self.severity})" if self.severity else "")


@dataclass
class Audit:
    ecosystem: str
    tool: str = "?"
    source: str = ""
    """What the findings come from: 'live: pip-audit ...' or 'report PATH (TOOL, N days old)'."""
    live: bool = False
    report_age_days: float | None = None
    dependencies: int | None = None
    findings: list[Finding] = field(default_factory=list)
    live_error: str | None = None
    """Why the live run was not used (then the report was)."""
    error: str | None = None
    """Neither a live run nor a usable report: nothing is known."""


def audit(ecosystem: str, cfg: DependencyAudit, resolve_path=lambda p: Path(p), now: dt.datetime | None = None,
          cwd: Path | None = None) -> Audit:
    """Run the live command when one is configured, else (or when it fails) read the report."""
    now = now or dt.datetime.now(dt.timezone.utc)
    result = Audit(ecosystem)
    if cfg.command:
        try:
            data = _run(cfg.command, cfg.command_timeout_s, cwd)
            result.tool, result.dependencies, result.findings = parse(data)
            result.live, result.source = True, f"live: {' '.join(cfg.command)}"
            return result
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            result.live_error = f"{' '.join(cfg.command)}: {e}"
    if cfg.report is None:
        result.error = (f"no {ecosystem} audit: " + (f"the live run failed ({result.live_error}) and " if
                                                     result.live_error else "") + "no report is configured")
        return result
    path = resolve_path(cfg.report)
    try:
        stat = path.stat()
        data = json.loads(path.read_text())
    except FileNotFoundError:
        result.error = f"no {ecosystem} audit report at {path}" + (
            f" (and the live run failed: {result.live_error})" if result.live_error else "")
        return result
    except ValueError as e:
        result.error = f"{path}: not JSON ({e})"
        return result
    try:
        result.tool, result.dependencies, result.findings = parse(data)
    except ValueError as e:
        result.error = f"{path}: {e}"
        return result
    result.report_age_days = round((now.timestamp() - stat.st_mtime) / 86400, 1)
    result.source = f"report {path} ({result.tool}, {result.report_age_days:g} days old)"
    return result


def _run(command: list[str], timeout: float, cwd: Path | None):
    t0 = time.monotonic()
    p = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if p.returncode not in (0, 1) or not p.stdout.strip():  # 1: vulnerabilities found (pip-audit, npm)
        tail = (p.stderr.strip().splitlines() or [""])[-1][:200]
        raise ValueError(f"exit {p.returncode} after {time.monotonic() - t0:.1f}s: {tail or 'no output'}")
    return json.loads(p.stdout)


# ---- formats ---------------------------------------------------------------------------------------------------
def parse(data) -> tuple[str, int | None, list[Finding]]:
    """(tool, dependencies scanned, findings) of any supported report."""
    if isinstance(data, dict) and "dependencies" in data and isinstance(data["dependencies"], list):
        return "pip-audit", len(data["dependencies"]), _pip_audit(data["dependencies"])
    if isinstance(data, list) and (not data or isinstance(data[0], dict) and "vulns" in data[0]):
        return "pip-audit", len(data), _pip_audit(data)
    if isinstance(data, dict) and isinstance(data.get("vulnerabilities"), list):
        return "safety", len(data.get("scanned_packages") or {}) or None, _safety(data["vulnerabilities"])
    if isinstance(data, list) and all(isinstance(x, list) for x in data):
        return "safety", None, [Finding(x[0], x[2], str(x[4]), title=str(x[3])[:200]) for x in data if len(x) >= 5]
    if isinstance(data, dict) and isinstance(data.get("vulnerabilities"), dict):
        deps = ((data.get("metadata") or {}).get("dependencies") or {}).get("total")
        return "npm audit", deps, _npm7(data["vulnerabilities"])
    if isinstance(data, dict) and isinstance(data.get("advisories"), dict):
        deps = (data.get("metadata") or {}).get("totalDependencies")
        return "npm audit", deps, _npm6(data["advisories"])
    raise ValueError("not a pip-audit, safety or npm audit JSON report")


def _pip_audit(deps: list) -> list[Finding]:
    out = []
    for d in deps:
        for v in d.get("vulns") or []:
            out.append(Finding(d.get("name", "?"), str(d.get("version", "?")), v.get("id", "?"),
                               tuple(v.get("aliases") or ()), "", ", ".join(v.get("fix_versions") or ()),
                               (v.get("description") or "")[:200]))
    return out


def _safety(vulns: list) -> list[Finding]:
    out = []
    for v in vulns:
        sev = v.get("severity") or {}
        level = ""
        if isinstance(sev, dict):
            level = ((sev.get("cvssv3") or {}).get("base_severity") or (sev.get("cvssv2") or {}).get(
                "base_severity") or "")
        cve = v.get("CVE") or v.get("cve")
        out.append(Finding(v.get("package_name", "?"), str(v.get("analyzed_version", "?")),
                           str(v.get("vulnerability_id", "?")), (cve,) if cve else (), level.lower(),
                           ", ".join(v.get("fixed_versions") or ()), (v.get("advisory") or "")[:200]))
    return out


def _npm7(vulns: dict) -> list[Finding]:
    out = []
    for name, v in vulns.items():
        for via in v.get("via") or []:
            if not isinstance(via, dict):
                continue  # affected through another package, which is listed itself
            url = via.get("url") or ""
            ghsa = re.search(r"GHSA(-[a-z0-9]{4}){3}", url)
            ident = ghsa.group(0) if ghsa else str(via.get("source", "?"))
            fix = v.get("fixAvailable")
            fix_text = f"{fix.get('name')}@{fix.get('version')}" if isinstance(fix, dict) else ("yes" if fix else "")
            out.append(Finding(name, v.get("range", ""), ident, (str(via["source"]),) if via.get("source") else (),
                               (via.get("severity") or v.get("severity") or "").lower(), fix_text,
                               via.get("title", "")[:200]))
    return out


def _npm6(advisories: dict) -> list[Finding]:
    out = []
    for key, a in advisories.items():
        versions = sorted({f.get("version", "") for f in a.get("findings") or []})
        aliases = tuple(a.get("cves") or ()) + ((str(key),) if a.get("github_advisory_id") else ())
        out.append(Finding(a.get("module_name", "?"), ", ".join(versions), a.get("github_advisory_id") or str(key),
                           aliases, (a.get("severity") or "").lower(), a.get("patched_versions", ""),
                           a.get("title", "")[:200]))
    return out
