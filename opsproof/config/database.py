from pathlib import Path

from pydantic import PositiveInt

from .base import Section


class Database(Section):
    """Where the PostgreSQL database is and how checks and actions log in. No password here: see password_*."""

    host: str
    port: PositiveInt = 5432
    dbname: str = "aifilmstudio"
    sslmode: str = "prefer"
    user: str = "opsproof_check"
    """The read-only role checks use."""
    password_env: str | None = "OPSPROOF_DB_PASSWORD"
    password_file: Path | None = None
    """A file holding the password (relative to the project folder); the sandbox writes its throwaway ones."""
    action_user: str = "opsproof_action"
    """The role actions use (vacuum, reindex, archive)."""
    action_password_env: str | None = "OPSPROOF_DB_ACTION_PASSWORD"
    action_password_file: Path | None = None
    min_server_version: PositiveInt = 12
    """REINDEX CONCURRENTLY needs 12+ (runbook: 'PostgreSQL 12+')."""
