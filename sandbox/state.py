"""The sandbox's state on disk and the handles faults and seeders use to reach its parts."""

import json
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config as BotoConfig

from opsproof import config
from opsproof.connect import SANDBOX_CREDENTIALS
ROLES = ("opsproof_check", "opsproof_action", "app")
"""Database roles the sandbox creates: checks (read-only), actions (maintenance), the application (owner)."""


@dataclass
class Sandbox:
    env: config.Environment
    env_name: str = "sandbox"
    """How to name this environment again (--env / OPSPROOF_ENV): a name or a .toml path."""

    @classmethod
    def load(cls, env_name: str = "sandbox") -> "Sandbox":
        env = config.load(env_name)
        if not env.is_sandbox or env.sandbox is None:
            raise config.ConfigError(f"{env_name}: kind: is not a sandbox environment")
        return cls(env, env_name)

    # ---- paths -------------------------------------------------------------------------------------------------
    @cached_property
    def dir(self) -> Path:
        return self.env.sandbox_dir

    @property
    def ports(self):
        return self.env.sandbox.ports

    @property
    def pg_data(self) -> Path:
        return self.dir / "pg" / "data"

    @property
    def tls_dir(self) -> Path:
        return self.dir / "tls"

    @property
    def secrets_dir(self) -> Path:
        return self.dir / "secrets"

    @property
    def run_dir(self) -> Path:
        return self.dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def faults_file(self) -> Path:
        return self.dir / "faults.json"

    @property
    def web_control(self) -> Path:
        """JSON read by the web process on every request/handshake: faults change behaviour without a restart."""
        return self.run_dir / "web.json"

    # ---- throwaway secrets ---------------------------------------------------------------------------------------
    def password(self, role: str) -> str:
        """The sandbox's throwaway password for a database role, created on first use (mode 0600)."""
        path = self.secrets_dir / role
        if not path.exists():
            self.secrets_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(18))
            path.chmod(0o600)
        return path.read_text().strip()

    # ---- handles -----------------------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.aws}"

    def client(self, service: str, region: str | None = None):
        """A boto3 client for the sandbox's AWS server (short timeouts, no retries: the sandbox is local)."""
        return boto3.client(
            service,
            region_name=region or self.env.aws.region,
            endpoint_url=self.endpoint_url,
            config=BotoConfig(connect_timeout=3, read_timeout=30, retries={"max_attempts": 1}),
            **SANDBOX_CREDENTIALS,
        )

    def admin_dsn(self, dbname: str | None = None) -> str:
        """Superuser over the unix socket in the sandbox's run dir (trust auth for the OS user running postgres)."""
        db = dbname or self.env.database.dbname
        return f"host={self.run_dir} port={self.ports.postgres} dbname={db} user=postgres connect_timeout=3"

    def admin(self, dbname: str | None = None, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.admin_dsn(dbname), autocommit=autocommit)

    # ---- fault bookkeeping -------------------------------------------------------------------------------------
    def applied_faults(self) -> list[str]:
        try:
            return json.loads(self.faults_file.read_text())
        except FileNotFoundError:
            return []

    def record_faults(self, names: list[str]) -> None:
        self.faults_file.write_text(json.dumps(names))

    def web_state(self) -> dict:
        try:
            return json.loads(self.web_control.read_text())
        except FileNotFoundError:
            return {}

    def set_web_state(self, **changes) -> None:
        """Merge keys into the web process's control file (None removes a key); atomic replace."""
        state = self.web_state()
        for k, v in changes.items():
            if v is None:
                state.pop(k, None)
            else:
                state[k] = v
        tmp = self.web_control.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.web_control)
