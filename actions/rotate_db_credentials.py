"""The runbook's "Rotate Database Credentials (Quarterly)", made safe.

    python -m actions rotate-db-credentials                # the plan (and a check that the current one logs in)
    python -m actions rotate-db-credentials --apply

The runbook changes the password, then updates the secret, then restarts the services, and "checks application
logs". Done in that order a failure in the middle leaves the database and the secret disagreeing. Here:

 1. read AWSCURRENT and prove it logs in (otherwise stop: there would be nothing to roll back to);
 2. generate a strong password (secrets module; URL-safe characters RDS accepts);
 3. stage the new credential as AWSPENDING (AWSCURRENT is untouched, services keep working);
 4. change the database password (RDS modify-db-instance --master-user-password --apply-immediately, or ALTER ROLE
    as the action role: secrets.rotation.password_via);
 5. verify the new password logs in (RDS applies it asynchronously: up to secrets.rotation.settle_timeout_s);
 6. promote AWSPENDING to AWSCURRENT (the old value becomes AWSPREVIOUS);
 7. force a new deployment of the services so they pick it up, and wait until they are steady;
 8. verify AWSCURRENT logs in again.

If any step fails, everything done is undone: the old password is set again (and proven to log in), AWSCURRENT
moves back to the old version, AWSPENDING is removed, and the services are redeployed if they had been. Running
tasks hold the credential they started with, so rolling the password back is what keeps them connecting. The
report says what failed and what the rollback did; no password appears in it, nor in any log.
"""

import secrets as pysecrets
import string
import time
import types
import uuid

from psycopg import sql

from opsproof import connect
from opsproof import secrets as registry
from opsproof.errors import ConfigError
from opsproof.probes import secrets as probe

from . import StepFailed, action

ALPHABET = string.ascii_letters + string.digits + "-_.~"
"""URL-safe without quoting, and none of the characters RDS refuses in a master password (/ " @ space)."""


class RotationFailed(StepFailed):
    """A step failed; the rollback ran (its outcome is in the message and the report)."""


def new_password(length: int) -> str:
    """A random password of `length` characters (log2(66) ≈ 6 bits each), registered so no output shows it."""
    while True:
        pw = "".join(pysecrets.choice(ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.islower() for c in pw) and any(c.isupper() for c in pw):
            return registry.register(pw)


@action("rotate-db-credentials", help="Rotate the database password in Secrets Manager and the database, redeploy "
        "the services; roll back on any failure (runbook: Secrets Rotation)")
def rotate_db_credentials(ctx):
    env, cfg = ctx.env, ctx.env.secrets.rotation
    name = cfg.secret
    instance = cfg.rds_instance or env.rds.instance_id
    sm = ctx.aws("secretsmanager", "secrets")

    # ---- look-ups (also in a dry run) -------------------------------------------------------------------------------
    def read_current():
        ids = probe.version_ids(sm, name)
        if "AWSCURRENT" not in ids:
            raise ConfigError(f"secret {name} has no AWSCURRENT version")
        value = probe.value_of(sm, name, version_id=ids["AWSCURRENT"])
        target, _ = probe.parse_database(value)
        login = probe.connects(value, env.timeouts.connect_s)
        if not login.ok:
            raise StepFailed(f"the current credential ({login.target}) does not log in ({login.error}): fix that "
                             "before rotating (there would be nothing to roll back to)")
        return types.SimpleNamespace(ids=ids, value=value, target=target)

    cur = ctx.step(f"read {name} (AWSCURRENT) and prove it logs in", read_current, always=True)
    who = cur.target.shown
    via = (f"aws rds modify-db-instance --db-instance-identifier {instance} --master-user-password *** "
           "--apply-immediately" if cfg.password_via == "rds" else f"ALTER ROLE {cur.target.user} PASSWORD *** "
           f"(as {env.database.action_user if env.database else 'the action role'})")
    ctx.evidence.value("credential", f"{name}: {who}")

    s = types.SimpleNamespace(password=None, value=None, version=None, staged=False, changed=False, accepted=False,
                              promoted=False, deployed=[])

    def generate():
        s.password = new_password(cfg.password_length)
        s.value = registry.register(probe.with_password(cur.value, s.password))
        s.version = str(uuid.uuid4())
        return f"{cfg.password_length} characters"

    def stage():
        connect.aws_call(f"secretsmanager put-secret-value {name} (AWSPENDING)", sm.put_secret_value,
                         SecretId=name, ClientRequestToken=s.version, SecretString=s.value,
                         VersionStages=["AWSPENDING"])
        s.staged = True
        return f"version {s.version} staged as AWSPENDING"

    def change():
        s.changed = True  # from here on the database may hold the new password
        _set_password(ctx, cfg, instance, cur.target, s.password)
        s.accepted = True  # RDS may apply it later: the rollback must set the old one again in any case

    def verify_new():
        return _wait_login(s.value, env.timeouts.connect_s, cfg.settle_timeout_s, cfg.poll_s)

    def promote():
        connect.aws_call(f"secretsmanager update-secret-version-stage {name} AWSCURRENT", sm.update_secret_version_stage,
                         SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=s.version,
                         RemoveFromVersionId=cur.ids["AWSCURRENT"])
        s.promoted = True
        connect.aws_call(f"secretsmanager update-secret-version-stage {name} AWSPENDING", sm.update_secret_version_stage,
                         SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=s.version)
        s.staged = False
        return f"AWSCURRENT is version {s.version}; AWSPREVIOUS is {cur.ids['AWSCURRENT']}"

    def deploy():
        return _redeploy(ctx, cfg, s.deployed)

    def verify_again():
        return _wait_login(probe.value_of(sm, name), env.timeouts.connect_s, cfg.settle_timeout_s, cfg.poll_s)

    services = ", ".join(cfg.ecs_services) or "no services"
    steps = [
        (f"generate a {cfg.password_length}-character password", generate),
        (f"stage the new credential as AWSPENDING of {name}", stage),
        (f"set the new password of {who}: {via}", change),
        (f"verify the new password logs in as {who} (within {cfg.settle_timeout_s:g}s)", verify_new),
        ("promote AWSPENDING to AWSCURRENT (the old value becomes AWSPREVIOUS)", promote),
        (f"force a new deployment of {services} in {cfg.ecs_cluster} and wait until steady "
         f"(at most {cfg.deployment_timeout_s:g}s each)", deploy),
        (f"verify AWSCURRENT logs in as {who}", verify_again),
    ]
    for description, fn in steps:
        try:
            ctx.step(description, fn)
        except StepFailed as failure:
            outcome = _roll_back(ctx, cfg, sm, name, instance, cur, s)
            raise RotationFailed(f"{failure}; rolled back: {outcome}") from None
    if ctx.apply:
        ctx.evidence.value("rotated", f"{name}: AWSCURRENT is version {s.version}, {who} logs in with it")
        return {"secret": name, "version": s.version, "user": cur.target.user, "deployed": s.deployed}
    return None


# ---- the pieces ------------------------------------------------------------------------------------------------
def _set_password(ctx, cfg, instance: str, target: probe.DbTarget, password: str) -> None:
    if cfg.password_via == "rds":
        rds = ctx.aws("rds", "rds")
        connect.aws_call(f"rds modify-db-instance {instance}", rds.modify_db_instance, DBInstanceIdentifier=instance,
                         MasterUserPassword=password, ApplyImmediately=True)
        return
    stmt = sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(target.user), sql.Literal(password))
    ctx.db.execute(stmt)


def _wait_login(value: str, timeout: float, settle_s: float, poll_s: float) -> str:
    deadline = time.monotonic() + settle_s
    while True:
        login = probe.connects(value, timeout)
        if login.ok:
            return f"{login.target} logged in ({login.elapsed_ms:g} ms)"
        if time.monotonic() >= deadline:
            raise StepFailed(f"{login.target} does not log in after {settle_s:g}s: {login.error} "
                             "(secrets.rotation.settle_timeout_s)")
        time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.05)))


def _redeploy(ctx, cfg, deployed: list) -> str:
    from opsproof.probes import ecs as ecs_probe

    from .force_deploy import _wait

    if not cfg.ecs_services:
        return "no services configured (secrets.rotation.ecs_services)"
    ecs = ctx.aws("ecs", "services")
    waiting = types.SimpleNamespace(cluster=cfg.ecs_cluster, deploy_poll_s=cfg.poll_s)
    done = []
    for name in cfg.ecs_services:
        before = ecs_probe.services(ecs, cfg.ecs_cluster, [name], with_images=False)[0]
        if before.status != "ACTIVE":
            raise StepFailed(f"no active service {name} in cluster {cfg.ecs_cluster}")
        old = before.primary.id if before.primary else None
        resp = connect.aws_call(f"ecs update-service {name} --force-new-deployment", ecs.update_service,
                                cluster=cfg.ecs_cluster, service=name, forceNewDeployment=True)["service"]
        primary = next((d for d in resp.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        deployed.append(name)
        started = {"id": primary.get("id"), "at": time.monotonic()}
        result = _wait(ecs, waiting, name, started, old, cfg.deployment_timeout_s)
        done.append(f"{name}: deployment {result['deployment']} steady ({result['running']}/{result['desired']}, "
                    f"{result['seconds']:g}s)")
    return "; ".join(done)


def _roll_back(ctx, cfg, sm, name: str, instance: str, cur, s) -> str:
    """Undo what was done, each step on its own (one failing does not stop the others); returns a summary."""
    failed = []

    def attempt(description, fn):
        try:
            ctx.step(f"roll back: {description}", fn)
        except StepFailed:
            failed.append(description)

    if s.accepted or (s.changed and not probe.connects(cur.value, ctx.env.timeouts.connect_s).ok):
        attempt(f"set the previous password of {cur.target.shown} again",
                lambda: _set_password(ctx, cfg, instance, cur.target, probe.parse_database(cur.value)[1]))
    elif s.changed:
        ctx.skip(f"roll back: set the previous password of {cur.target.shown} again",
                 "the change was refused and the previous password still logs in")
    if s.promoted:
        def unpromote():
            connect.aws_call(f"secretsmanager update-secret-version-stage {name} AWSCURRENT",
                             sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                             MoveToVersionId=cur.ids["AWSCURRENT"], RemoveFromVersionId=s.version)
            if cur.ids.get("AWSPREVIOUS"):
                connect.aws_call(f"secretsmanager update-secret-version-stage {name} AWSPREVIOUS",
                                 sm.update_secret_version_stage, SecretId=name, VersionStage="AWSPREVIOUS",
                                 MoveToVersionId=cur.ids["AWSPREVIOUS"], RemoveFromVersionId=s.version)
            return f"AWSCURRENT is version {cur.ids['AWSCURRENT']} again"
        attempt("move AWSCURRENT back to the previous version", unpromote)
    if s.staged or (s.version and name and _is_pending(sm, name, s.version)):
        attempt("remove the AWSPENDING stage", lambda: connect.aws_call(
            f"secretsmanager update-secret-version-stage {name} AWSPENDING", sm.update_secret_version_stage,
            SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=s.version))
    if s.deployed:
        attempt(f"redeploy {', '.join(s.deployed)} so they run with the previous credential",
                lambda: _redeploy(ctx, cfg, []))
    works = []
    attempt(f"verify AWSCURRENT logs in as {cur.target.shown}",
            lambda: works.append(_wait_login(probe.value_of(sm, name), ctx.env.timeouts.connect_s,
                                             cfg.settle_timeout_s, cfg.poll_s)))
    if works and not failed:
        return f"the previous credential is AWSCURRENT and logs in ({cur.target.shown})"
    if works:
        return f"the previous credential logs in ({cur.target.shown}), but these rollback steps failed: " + \
            "; ".join(failed)
    return "THE CREDENTIAL IN AWSCURRENT DOES NOT LOG IN: these rollback steps failed: " + "; ".join(failed)


def _is_pending(sm, name: str, version: str) -> bool:
    try:
        return probe.version_ids(sm, name).get("AWSPENDING") == version
    except Exception:  # noqa: BLE001 - a look-up during a rollback must never stop it
        return False
