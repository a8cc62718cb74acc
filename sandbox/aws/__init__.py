"""The sandbox's AWS: moto's server with overlays that supply what moto lacks, behind the same wire protocol.

    python -m sandbox.aws.server --port 15000 --state-dir .sandbox/aws     # the server (server.py)
    sandbox.aws.seed.seed(sb)                                             # the runbook's production (seed.py)
    sandbox.aws.admin.set_replication_status(url, bucket, key, "FAILED")  # faults (admin.py)

One module per overlay: s3_replication.py, ecs.py, ssm.py, elbv2.py, cloudfront.py, rds.py, secretsmanager.py;
overlay.py is the machinery they share. Each module's docstring says what moto does, what the overlay adds, and
its admin routes. Admin API: GET /_sandbox/health, GET /_sandbox/state, POST /_sandbox/reset, POST /_sandbox/<route>.
"""


def seeders():
    """seed.seed first (the runbook's production), then each area's extra seeding in seed_<area>.py, by name."""
    import importlib
    import pkgutil

    from . import seed

    extra = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("seed_"))
    return [seed.seed] + [importlib.import_module(f"{__name__}.{name}").seed for name in extra]
