"""Seed what the certificates, secrets and security checks look at, beyond seed.py's production names.

    from sandbox.aws.seed_security import seed
    seed(sb)            # after seed.seed, with the AWS server running (sandbox/aws/__init__.py runs it)

* ACM: the seeded certificates look like production's (ACM-issued, DNS-validated); the ALB's HTTPS listener is
  wired to the sandbox's TLS endpoint; certificates requested later are issued by the sandbox's CA.
* Secrets Manager: the database URL has a rotation history (AWSPREVIOUS holds a password that no longer works,
  AWSCURRENT the working one, rotated SECRET_LAST_ROTATED_DAYS ago); API keys were last changed weeks ago.
* RDS: a new master password of prod-db is applied to the sandbox server's ``app`` role (the database URL's user).
* ECR: the deployed images' scan-on-push findings (a few LOW/MEDIUM ones, as a healthy image has).
* Dependency audits: pip-audit and npm audit reports "produced earlier in CI" under <state>/audit/ (the
  vulnerability databases are out of reach here), with one finding the sandbox's configuration waives.

Every AWS start re-runs it (moto is in memory); the audit reports are rewritten healthy at the same time.
"""

import datetime as dt
import json
import secrets
import urllib.parse
from pathlib import Path

from . import admin
from .seed import (ALB_NAME, API_CERT_DOMAIN, CDN_ALIAS, DB_INSTANCE, DB_NAME, ECR_REPOSITORIES, IMAGE_TAG,
                   SECRET_DATABASE_URL, SECRET_LAST_ROTATED_DAYS, SECRET_OPENAI, SECRET_STRIPE)

KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
"""ListCertificates returns only RSA_2048 certificates unless asked for every key type (AWS's default filter)."""

SECRET_PREVIOUS_AGE_DAYS = SECRET_LAST_ROTATED_DAYS + 91  # the rotation before: a quarter earlier
API_KEY_AGES = {SECRET_OPENAI: 40, SECRET_STRIPE: 75}

IMAGE_FINDINGS = {
    "backend": [
        {"name": "CVE-2023-45853", "severity": "LOW", "package_name": "zlib1g", "package_version": "1:1.2.13"},
        {"name": "CVE-2024-2511", "severity": "MEDIUM", "package_name": "openssl", "package_version": "3.0.11"},
    ],
    "worker": [
        {"name": "CVE-2023-4641", "severity": "MEDIUM", "package_name": "passwd", "package_version": "1:4.13"},
    ],
}

WAIVED_PYTHON = {"name": "jinja2", "version": "3.1.2", "id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"],
                 "fix_versions": ["3.1.3"],
                 "description": "The xmlattr filter accepts keys containing spaces (XSS with user-supplied keys)."}
"""A real advisory in the healthy report, waived in environments/sandbox.toml (proves waivers work)."""

PYTHON_DEPENDENCIES = [("fastapi", "0.110.0"), ("uvicorn", "0.29.0"), ("sqlalchemy", "2.0.29"),
                       ("psycopg", "3.1.18"), ("boto3", "1.34.84"), ("pydantic", "2.7.0"), ("openai", "1.23.2"),
                       ("stripe", "9.2.0")]
NODE_DEPENDENCIES = 412


def seed(sb) -> dict:
    url = sb.endpoint_url
    done = {}
    done["acm"] = seed_acm(sb)
    done["secrets"] = seed_secrets(sb)
    admin.post(url, "rds/master-credential", {
        "instance": DB_INSTANCE, "socket_dir": str(sb.run_dir), "port": sb.ports.postgres,
        "dbname": getattr(sb.env.database, "dbname", None) or DB_NAME, "role": "app",
        "password_file": str(sb.secrets_dir / "app")})
    sb.password("app")  # the file exists before the overlay may rewrite it
    for repo in ECR_REPOSITORIES:
        admin.post(url, "ecr/findings", {"repository": repo, "tag": IMAGE_TAG, "findings": IMAGE_FINDINGS[repo],
                                         "baseline": True, "scanned_days_ago": 3})
    done["audit"] = [str(p) for p in write_audit_reports(audit_dir(sb))]
    return done


# ---- ACM -------------------------------------------------------------------------------------------------------------
def certificate_arns(sb) -> dict[str, str]:
    """{domain: ARN} of the seeded certificates (the first for each domain: a renewal's come later)."""
    acm = sb.client("acm")
    found = acm.list_certificates(MaxItems=1000, Includes={"keyTypes": KEY_TYPES})["CertificateSummaryList"]
    arns: dict[str, str] = {}
    for c in found:
        if c["DomainName"] in (API_CERT_DOMAIN, CDN_ALIAS):
            arns.setdefault(c["DomainName"], c["CertificateArn"])
    return arns


def https_listener_arn(sb) -> str:
    elb = sb.client("elbv2")
    lb = elb.describe_load_balancers(Names=[ALB_NAME])["LoadBalancers"][0]
    listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"], PageSize=400)["Listeners"]
    return next(l["ListenerArn"] for l in listeners
                if l["Port"] == 443)


def seed_acm(sb) -> dict:
    arns = certificate_arns(sb)
    tls_dir = sb.tls_dir
    admin.post(sb.endpoint_url, "acm/sandbox", {
        "tls_dir": str(tls_dir), "web_control": str(sb.web_control), "listener": https_listener_arn(sb),
        "default_leaf": "api", "leaves": {arns[API_CERT_DOMAIN]: "api", arns[CDN_ALIAS]: "cdn"},
        "present": list(arns.values()), "validation_delay_s": 2})
    return arns


# ---- Secrets Manager -------------------------------------------------------------------------------------------------
def seed_secrets(sb) -> dict:
    sm, url = sb.client("secretsmanager"), sb.endpoint_url
    current = sm.get_secret_value(SecretId=SECRET_DATABASE_URL)["SecretString"]
    parts = urllib.parse.urlsplit(current)
    stale_password = secrets.token_urlsafe(18)  # the quarter before's: no role has it any more
    previous = parts._replace(netloc=f"{parts.username}:{stale_password}@{parts.hostname}:{parts.port}").geturl()
    if not _distinct_previous(sm, SECRET_DATABASE_URL, current):
        sm.put_secret_value(SecretId=SECRET_DATABASE_URL, SecretString=previous)
        sm.put_secret_value(SecretId=SECRET_DATABASE_URL, SecretString=current)
    older = 400
    for v in sm.list_secret_version_ids(SecretId=SECRET_DATABASE_URL, MaxResults=100)["Versions"]:
        if not v["VersionStages"]:
            admin.post(url, "secretsmanager/version-age", {"secret": SECRET_DATABASE_URL,
                                                            "version_id": v["VersionId"], "age_days": older})
            older += 91
    admin.post(url, "secretsmanager/version-age", {"secret": SECRET_DATABASE_URL, "stage": "AWSPREVIOUS",
                                                    "age_days": SECRET_PREVIOUS_AGE_DAYS})
    admin.post(url, "secretsmanager/version-age", {"secret": SECRET_DATABASE_URL, "stage": "AWSCURRENT",
                                                    "age_days": SECRET_LAST_ROTATED_DAYS})
    admin.set_secret_rotated(url, SECRET_DATABASE_URL, SECRET_LAST_ROTATED_DAYS)
    for name, age in API_KEY_AGES.items():
        admin.post(url, "secretsmanager/version-age", {"secret": name, "stage": "AWSCURRENT", "age_days": age})
    versions = sm.list_secret_version_ids(SecretId=SECRET_DATABASE_URL, MaxResults=100)["Versions"]
    return {"database_url_versions": len(versions)}


def _distinct_previous(sm, name: str, current: str) -> bool:
    """Whether AWSPREVIOUS exists and differs from AWSCURRENT (moto's rotation without a Lambda copies the value)."""
    try:
        return sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] != current
    except sm.exceptions.ResourceNotFoundException:
        return False


# ---- dependency audit reports ----------------------------------------------------------------------------------------
def audit_dir(sb) -> Path:
    return sb.dir / "audit"


def write_audit_reports(folder: Path, *, python_extra: list[dict] = (), node_extra: dict | None = None,
                        when: dt.datetime | None = None) -> list[Path]:
    """The reports a CI job would have left: pip-audit -f json and npm audit --json (v7+ format)."""
    folder.mkdir(parents=True, exist_ok=True)
    deps = [{"name": n, "version": v, "vulns": []} for n, v in PYTHON_DEPENDENCIES]
    deps.append({"name": WAIVED_PYTHON["name"], "version": WAIVED_PYTHON["version"], "vulns": [
        {k: WAIVED_PYTHON[k] for k in ("id", "fix_versions", "aliases", "description")}]})
    for extra in python_extra:
        deps.append(extra)
    py = folder / "pip-audit.json"
    _write(py, {"dependencies": deps, "fixes": []})
    vulns = dict(node_extra or {})
    counts = {s: 0 for s in ("info", "low", "moderate", "high", "critical")}
    for v in vulns.values():
        counts[v["severity"]] += 1
    node = folder / "npm-audit.json"
    _write(node, {"auditReportVersion": 2, "vulnerabilities": vulns, "metadata": {
        "vulnerabilities": {**counts, "total": sum(counts.values())},
        "dependencies": {"prod": 188, "dev": NODE_DEPENDENCIES - 188, "optional": 3, "peer": 0, "peerOptional": 0,
                         "total": NODE_DEPENDENCIES}}})
    if when is not None:
        import os

        for p in (py, node):
            os.utime(p, (when.timestamp(), when.timestamp()))
    return [py, node]


def _write(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
