"""The runbook's "Secrets Rotation" as rules over what Secrets Manager says of each configured secret
(opsproof/probes/secrets.py's SecretInfo, Connection) and the [secrets] items. A Finding names a secret by its label
and name (or ARN), never by its value: the facts hold no value, only digests' comparison and a login's outcome."""

from ..config.secrets import Secret
from ..findings import Finding, alarm, ok
from ..probes.secrets import Connection, SecretInfo

ROTATE_DB = "python -m actions rotate-db-credentials --apply"


def _subject(s: Secret) -> str:
    return f"{s.shown} ({s.name})"


def _missing(s: Secret) -> Finding:
    return alarm(_subject(s), f"no secret {s.name} in Secrets Manager", key="secrets.items.name")


def _rotate(s: Secret) -> str:
    return ROTATE_DB if s.kind == "database" else "runbook: Rotate API Keys (aws secretsmanager rotate-secret)"


def ages(infos: list[tuple[Secret, SecretInfo | None]]) -> list[Finding]:
    """Each secret's current value is younger than its max_age_days."""
    found = []
    for s, i in infos:
        if i is None:
            found.append(_missing(s))
        elif i.age_days is None:
            found.append(alarm(_subject(s), "no rotation or change date", limit=s.max_age_days,
                               key="secrets.items.max_age_days", fix=_rotate(s)))
        elif i.age_days > s.max_age_days:
            found.append(alarm(_subject(s), f"last changed {i.age_days:g} days ago, over {s.max_age_days}",
                               measured=i.age_days, limit=s.max_age_days, key="secrets.items.max_age_days",
                               fix=_rotate(s)))
        else:
            found.append(ok(_subject(s), f"last changed {i.age_days:g} days ago", measured=i.age_days,
                            limit=s.max_age_days))
    return found


def rotation_enabled(infos: list[tuple[Secret, SecretInfo | None]]) -> list[Finding]:
    """Automatic rotation is enabled for each secret configured with rotation_required (the others are not judged)."""
    found = []
    for s, i in infos:
        if not s.rotation_required:
            continue
        if i is None:
            found.append(_missing(s))
        elif i.rotation_enabled:
            found.append(ok(_subject(s), f"automatic rotation every {i.rotation_days} days",
                            measured=i.rotation_days))
        else:
            found.append(alarm(_subject(s), "automatic rotation is disabled", measured=False, limit=True,
                               key="secrets.items.rotation_required",
                               fix=f"aws secretsmanager rotate-secret --secret-id {s.name} --rotation-rules "
                                   "AutomaticallyAfterDays=90"))
    return found


def versions(infos: list[tuple[Secret, SecretInfo | None]]) -> list[Finding]:
    """AWSCURRENT differs from AWSPREVIOUS (by digest) and no AWSPENDING version was left behind."""
    found = []
    for s, i in infos:
        if i is None:
            found.append(_missing(s))
            continue
        wrong = []
        if i.current_differs_from_previous is False:
            wrong.append(alarm(_subject(s), "AWSCURRENT is the same value as AWSPREVIOUS (the rotation changed "
                               "nothing)", fix=_rotate(s)))
        if i.pending:
            wrong.append(alarm(_subject(s), "an AWSPENDING version was left behind (a rotation did not finish)",
                               fix=f"finish or cancel the rotation: aws secretsmanager cancel-rotate-secret "
                                   f"--secret-id {s.name}"))
        found += wrong or [ok(_subject(s), "AWSCURRENT differs from AWSPREVIOUS" if i.has_previous
                              else "never rotated (no AWSPREVIOUS)", measured=i.versions)]
    return found


def logins(results: list[tuple[Secret, Connection | None]]) -> list[Finding]:
    """Each database credential's AWSCURRENT logs in; None: there is no such secret."""
    found = []
    for s, c in results:
        if c is None:
            found.append(_missing(s))
        elif c.ok:
            found.append(ok(_subject(s), f"logs in as {c.target} ({c.elapsed_ms:g} ms)", measured=c.elapsed_ms))
        else:
            found.append(alarm(_subject(s), f"as {c.target}: {c.error}", fix=ROTATE_DB))
    return found
