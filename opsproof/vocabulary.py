"""The suite's vocabulary, defined once: when a check runs (schedule markers) and what it is about (areas). An area
is a folder of checks (checks/AREA/), the marker those checks carry, and the area of the faults that break them
(sandbox/faults/AREA.py); the markers are registered from here (fixtures/options.py), never listed elsewhere."""

SCHEDULES = {
    "pre_maintenance": "run before a maintenance window (pytest -m pre_maintenance)",
    "post_maintenance": "run after a maintenance window (pytest -m post_maintenance)",
    "nightly": "the nightly CI health gate (pytest -m nightly)",
    "monthly": "the runbook's monthly reviews and tests",
    "quarterly": "the runbook's quarterly tasks",
}

AREAS = {
    "window": "maintenance windows: announcement, readiness, status page, baseline",
    "database": "PostgreSQL / RDS database",
    "infrastructure": "hosts, patching, infrastructure code, base images",
    "security": "image vulnerability scans and dependency audits",
    "certificates": "ACM, load balancer, CloudFront and live TLS endpoints",
    "backups": "snapshots, restore drills, logical dumps",
    "storage": "S3 buckets and cross-region replication",
    "secrets": "Secrets Manager credentials and rotation",
    "services": "ECS services, load balancers, smoke tests, monitoring",
    "capacity": "capacity planning",
}
"""In the runbook's order (its sections: scheduled maintenance, database, infrastructure, security, certificates,
backups, then the rest)."""

OTHER = {"destructive": "changes the target; needs --apply"}


def marker_lines() -> list[str]:
    """pytest's `markers` ini lines, for config.addinivalue_line."""
    return ([f"{k}: {v}" for k, v in SCHEDULES.items()] + [f"{k}: area: {v}" for k, v in AREAS.items()]
            + [f"{k}: {v}" for k, v in OTHER.items()])
