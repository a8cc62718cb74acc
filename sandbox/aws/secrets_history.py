"""Secrets Manager versions with their real dates, rotation that can be switched off, and calls that can fail.

What moto 5.2.5 does: ListSecretVersionIds reports every version as created *now* (so no value ever looks old);
CancelRotateSecret refuses a secret without a rotation Lambda (the sandbox has no Lambdas), so rotation cannot be
switched off; UpdateSecretVersionStage moves AWSCURRENT but GetSecretValue without a stage keeps answering the old
version (and the next PutSecretValue demotes that one); nothing ever fails.

What this overlay adds: ListSecretVersionIds reports each version's own creation date; GetSecretValue without a
stage answers AWSCURRENT after UpdateSecretVersionStage, as AWS does; admin routes to back-date a
version, to switch rotation off or on, and to make the next calls of PutSecretValue, UpdateSecretVersionStage or
GetSecretValue fail as AWS would refuse them (AccessDeniedException), for proofs of the rotation action's rollback.

    POST /_sandbox/secretsmanager/version-age {"secret": NAME, "stage": "AWSCURRENT" | "version_id": ID,
                                               "age_days": 31}
    POST /_sandbox/secretsmanager/rotation {"secret": NAME, "enabled": false}
    POST /_sandbox/secretsmanager/fail {"action": "PutSecretValue", "count": 1}    (count 0 clears)
"""

import time

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, json_error, moto_backend, need

FAILABLE = ("PutSecretValue", "UpdateSecretVersionStage", "GetSecretValue")


class SecretsHistory(Overlay):
    name = "secretsmanager-history"

    def initial_state(self) -> dict:
        return {"fail": {}}  # action -> remaining failures

    @handles("secretsmanager", "ListSecretVersionIds")
    def list_versions(self, call: Call) -> Reply:
        name = call.json.get("SecretId", "")  # read the body before moto consumes it
        reply = call.forward()
        if not reply.ok:
            return reply
        data = reply.json()
        secret = self._secret(name, call.region, missing_ok=True)
        if secret is not None:
            for v in data.get("Versions", []):
                version = secret.versions.get(v.get("VersionId"), {})
                if "createdate" in version:
                    v["CreatedDate"] = version["createdate"]
                    v["LastAccessedDate"] = int(time.time()) // 86400 * 86400
        return reply.with_json(data)

    @handles("secretsmanager", *FAILABLE)
    def failable(self, call: Call) -> Reply:
        name = call.json.get("SecretId", "")  # read the body before moto consumes it
        with self.lock:
            left = self.state["fail"].get(call.action, 0)
            if left > 0:
                self.state["fail"][call.action] = left - 1
                return json_error("AccessDeniedException", f"sandbox fault: {call.action} is denied "
                                  f"(secretsmanager:{call.action} not allowed)")
        reply = call.forward()
        if reply.ok and call.action == "UpdateSecretVersionStage":
            # moto answers GetSecretValue without a stage from its "default version", which UpdateSecretVersionStage
            # does not move (and PutSecretValue then demotes the wrong version): keep it on AWSCURRENT, as AWS does.
            secret = self._secret(name, call.region, missing_ok=True)
            if secret is not None:
                current = [k for k, v in secret.versions.items() if "AWSCURRENT" in v["version_stages"]]
                if current:
                    secret.default_version_id = current[0]
        return reply

    # ---- admin -------------------------------------------------------------------------------------------------------
    @admin("secretsmanager/version-age")
    def version_age(self, payload: dict) -> dict:
        secret = self._secret(need(payload, "secret"), payload.get("region", "us-east-1"))
        age = float(need(payload, "age_days", (int, float)))
        if "version_id" in payload:
            vid = need(payload, "version_id")
            if vid not in secret.versions:
                raise AdminError(f"no version {vid} of {secret.name}", 404)
        else:
            stage = payload.get("stage", "AWSCURRENT")
            found = [k for k, v in secret.versions.items() if stage in v["version_stages"]]
            if not found:
                raise AdminError(f"no version of {secret.name} is {stage}", 404)
            vid = found[0]
        with self.lock:
            secret.versions[vid]["createdate"] = int(time.time() - age * 86400)
        return {"secret": secret.name, "version_id": vid, "created": secret.versions[vid]["createdate"]}

    @admin("secretsmanager/rotation")
    def rotation(self, payload: dict) -> dict:
        secret = self._secret(need(payload, "secret"), payload.get("region", "us-east-1"))
        enabled = need(payload, "enabled", bool)
        with self.lock:
            secret.rotation_requested = True
            secret.rotation_enabled = enabled
        return {"secret": secret.name, "rotation_enabled": enabled}

    @admin("secretsmanager/fail")
    def fail(self, payload: dict) -> dict:
        action = need(payload, "action")
        if action not in FAILABLE:
            raise AdminError(f"action must be one of {', '.join(FAILABLE)}")
        count = int(payload.get("count", 1))
        with self.lock:
            if count > 0:
                self.state["fail"][action] = count
            else:
                self.state["fail"].pop(action, None)
            return {"fail": dict(self.state["fail"])}

    @staticmethod
    def _secret(name: str, region: str, missing_ok: bool = False):
        backend = moto_backend("secretsmanager", region)
        if name in backend.secrets:
            return backend.secrets[name]
        for s in backend.secrets.values():
            if getattr(s, "arn", None) == name or getattr(s, "name", None) == name:
                return s
        if missing_ok:
            return None
        raise AdminError(f"no secret {name!r}", 404)
