"""RDS's master password, applied to the sandbox's real PostgreSQL server.

What moto 5.2.5 does: ModifyDBInstance --master-user-password is stored and changes nothing anywhere (there is no
database behind moto's RDS).

What this overlay adds: once set up (seed_security.py), a new master password for the instance is applied to the
sandbox server's role that stands for the master user (ALTER ROLE, over the superuser's unix socket), and written to
the sandbox's password file for that role, so the rest of the sandbox keeps working with it. As on RDS, the call
answers before anything is verified: whether the new password connects is for the caller to check.

Faults (admin API), for proofs of the rotation action's rollback:

    POST /_sandbox/rds/master-credential {"instance": "prod-db", "socket_dir": DIR, "port": 5432,
                                          "dbname": "aifilmstudio", "role": "app", "password_file": FILE}
        Set-up (survives /_sandbox/reset).
    POST /_sandbox/rds/master-password-fault {"instance": "prod-db", "mode": "reject" | "ignore" | null}
        reject: ModifyDBInstance with a master password fails (InvalidDBInstanceState);
        ignore: it answers as usual but the password never changes (what a slow or lost change looks like).
"""

import logging

from .overlay import AdminError, Call, Overlay, Reply, admin, handles, moto_backend, need

log = logging.getLogger("sandbox.aws.rds_credentials")
MODES = ("reject", "ignore")


class RdsCredentials(Overlay):
    name = "rds-credentials"

    def __init__(self):
        super().__init__()
        self.setup: dict[str, dict] = {}  # instance -> where its master user lives

    def initial_state(self) -> dict:
        return {"faults": {}}  # instance -> mode

    @handles("rds", "ModifyDBInstance")
    def modify(self, call: Call) -> Reply:
        instance = call.form.get("DBInstanceIdentifier", "")
        password = call.form.get("MasterUserPassword")
        if password is None:
            return call.forward()
        with self.lock:
            mode = self.state["faults"].get(instance)
        if mode == "reject":
            return _query_error("InvalidDBInstanceState", f"sandbox fault: DB instance {instance} cannot accept a "
                                "new master password now")
        reply = call.forward()
        if reply.ok and mode != "ignore" and instance in self.setup:
            try:
                self.apply(instance, password)
            except Exception as e:  # noqa: BLE001 - as on RDS, the caller finds out by connecting
                log.error("could not apply the new master password of %s: %s", instance, type(e).__name__)
        return reply

    def apply(self, instance: str, password: str) -> None:
        import psycopg
        from psycopg import sql

        s = self.setup[instance]
        with psycopg.connect(host=s["socket_dir"], port=s["port"], dbname=s["dbname"], user="postgres",
                             connect_timeout=3, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(s["role"]),
                                                                      sql.Literal(password)))
        if s.get("password_file"):
            from pathlib import Path

            path = Path(s["password_file"])
            tmp = path.with_suffix(".tmp")
            tmp.write_text(password)
            tmp.chmod(0o600)
            tmp.replace(path)

    # ---- admin -------------------------------------------------------------------------------------------------------
    @admin("rds/master-credential")
    def configure(self, payload: dict) -> dict:
        instance = need(payload, "instance")
        if instance not in moto_backend("rds", payload.get("region", "us-east-1")).databases:
            raise AdminError(f"no DB instance {instance!r}", 404)
        entry = {"socket_dir": need(payload, "socket_dir"), "port": need(payload, "port", int),
                 "dbname": need(payload, "dbname"), "role": need(payload, "role"),
                 "password_file": payload.get("password_file")}
        with self.lock:
            self.setup[instance] = entry
        return {"instance": instance, "role": entry["role"]}

    @admin("rds/master-password-fault")
    def fault(self, payload: dict) -> dict:
        instance = need(payload, "instance")
        mode = payload.get("mode")
        if mode is not None and mode not in MODES:
            raise AdminError(f"mode must be one of {', '.join(MODES)} or null")
        with self.lock:
            if mode is None:
                self.state["faults"].pop(instance, None)
            else:
                self.state["faults"][instance] = mode
            return {"faults": dict(self.state["faults"])}


def _query_error(code: str, message: str, status: int = 400) -> Reply:
    """An error in the AWS query protocol (RDS, ELBv2): botocore raises ClientError with this code."""
    import uuid

    from werkzeug.datastructures import Headers

    body = (f'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>").encode()
    return Reply(status, Headers({"Content-Type": "text/xml", "Content-Length": str(len(body))}), body)
