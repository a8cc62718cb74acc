"""Faults of the secrets area: Secrets Manager and the database credential."""

import json
import secrets as pysecrets

from psycopg import sql

from ..aws import admin
from ..aws.seed import SECRET_DATABASE_URL, SECRET_LAST_ROTATED_DAYS
from . import fault

APP_ROLE = "app"
"""The sandbox role the database URL logs in as (sandbox/aws/seed.py)."""


def _notes(sb) -> dict:
    try:
        return json.loads((sb.dir / "faults-security.json").read_text())
    except FileNotFoundError:
        return {}


def _note(sb, **kw) -> None:
    notes = {**_notes(sb), **kw}
    path = sb.dir / "faults-security.json"
    path.write_text(json.dumps(notes))


# ---- Secrets Manager -----------------------------------------------------------------------------------------------
@fault("stale-secret", area="secrets", part="aws")
class StaleSecret:
    """The database credential was last rotated 120 days ago (the runbook rotates it quarterly)."""

    AGE = 120

    def apply(self, sb):
        self._age(sb, self.AGE)

    def heal(self, sb):
        self._age(sb, SECRET_LAST_ROTATED_DAYS)

    @staticmethod
    def _age(sb, days):
        admin.set_secret_rotated(sb.endpoint_url, SECRET_DATABASE_URL, days)
        admin.post(sb.endpoint_url, "secretsmanager/version-age",
                   {"secret": SECRET_DATABASE_URL, "stage": "AWSCURRENT", "age_days": days})


@fault("rotation-disabled", area="secrets", part="aws")
class RotationDisabled:
    """Automatic rotation of the database credential is switched off."""

    def apply(self, sb):
        admin.post(sb.endpoint_url, "secretsmanager/rotation", {"secret": SECRET_DATABASE_URL, "enabled": False})

    def heal(self, sb):
        admin.post(sb.endpoint_url, "secretsmanager/rotation", {"secret": SECRET_DATABASE_URL, "enabled": True})


@fault("secret-same-as-previous", area="secrets", part="aws")
class SecretSameAsPrevious:
    """A 'rotation' stored the same database credential again: AWSCURRENT equals AWSPREVIOUS."""

    def apply(self, sb):
        sm = sb.client("secretsmanager")
        before = _stages(sm)
        value = sm.get_secret_value(SecretId=SECRET_DATABASE_URL)["SecretString"]
        new = sm.put_secret_value(SecretId=SECRET_DATABASE_URL, SecretString=value)["VersionId"]
        _note(sb, same_as_previous={"current": before["AWSCURRENT"], "previous": before.get("AWSPREVIOUS"),
                                    "added": new})

    def heal(self, sb):
        n = _notes(sb).get("same_as_previous")
        if not n:
            return
        sm = sb.client("secretsmanager")
        sm.update_secret_version_stage(SecretId=SECRET_DATABASE_URL, VersionStage="AWSCURRENT",
                                       MoveToVersionId=n["current"], RemoveFromVersionId=n["added"])
        if n.get("previous"):
            sm.update_secret_version_stage(SecretId=SECRET_DATABASE_URL, VersionStage="AWSPREVIOUS",
                                           MoveToVersionId=n["previous"], RemoveFromVersionId=n["added"])


def _stages(sm) -> dict[str, str]:
    versions = sm.list_secret_version_ids(SecretId=SECRET_DATABASE_URL, MaxResults=100)["Versions"]
    return {s: v["VersionId"] for v in versions for s in v["VersionStages"]}


@fault("secret-does-not-connect", area="secrets", part="postgres")
class SecretDoesNotConnect:
    """The database password was changed but the secret was not: AWSCURRENT no longer logs in (half a rotation)."""

    def apply(self, sb):
        with sb.admin() as c:
            c.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(APP_ROLE),
                                                                   sql.Literal(pysecrets.token_urlsafe(24))))

    def heal(self, sb):
        with sb.admin() as c:
            c.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(APP_ROLE),
                                                                   sql.Literal(sb.password(APP_ROLE))))
