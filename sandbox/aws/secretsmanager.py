"""Secrets Manager history that moto cannot make through its API: when a secret was last rotated.

What moto 5.2.5 does: RotateSecret stamps LastRotatedDate with the time of the call, and nothing can move it, so a
secret never looks overdue. (RotateSecret with RotateImmediately and no rotation Lambda also leaves AWSCURRENT
without a value: the seed rotates with RotateImmediately=False.)

What this overlay adds: an admin route only (the AWS API is moto's, unchanged).

    POST /_sandbox/secretsmanager/rotated {"secret": NAME|ARN, "age_days": 120, "region": "us-east-1"}
        The secret was last rotated (and changed) age_days ago; its next rotation date follows its rules.
"""

import time

from .overlay import AdminError, Overlay, admin, moto_backend, need


class Secrets(Overlay):
    name = "secretsmanager"

    @admin("secretsmanager/rotated")
    def rotated(self, payload: dict) -> dict:
        backend = moto_backend("secretsmanager", payload.get("region", "us-east-1"))
        name = need(payload, "secret")
        if name not in backend.secrets:
            raise AdminError(f"no secret {name!r}", 404)
        secret = backend.secrets[name]
        when = int(time.time() - float(need(payload, "age_days", (int, float))) * 86400)
        with self.lock:
            secret.last_rotation_date = when
            secret.last_changed_date = when
            if secret.auto_rotate_after_days:
                secret.next_rotation_date = when + int(secret.auto_rotate_after_days) * 86400
        return {"secret": secret.name, "last_rotated": when, "next_rotation": secret.next_rotation_date}
