"""The typed environment model and its loader.

An environment is one TOML file, ``environments/NAME.toml``: where each target is and every threshold, with the
runbook's values as defaults. ``load`` validates it and fails with ONE line naming the file and the key.
"""

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, model_validator

from .. import ROOT
from ..errors import ConfigError
from .aws import Aws, Rds
from .backups import Backups
from .base import Section
from .capacity import Capacity
from .certificates import Certificates, Endpoint
from .database import Database
from .hosts import Hosts
from .infrastructure import Infrastructure
from .integrity import Integrity
from .sandbox import Sandbox
from .secrets import Secrets
from .security import Security
from .services import Api, Services
from .storage import Storage
from .target import KEYS as _TARGET_KEYS, AwsTarget, KeyProblem, Resolved, resolve as _resolve
from .timeouts import Timeouts
from .window import Window

__all__ = [
    "Api",
    "Aws",
    "AwsTarget",
    "Backups",
    "Capacity",
    "Certificates",
    "ConfigError",
    "Database",
    "Endpoint",
    "Environment",
    "Hosts",
    "Infrastructure",
    "Integrity",
    "Rds",
    "Resolved",
    "Sandbox",
    "Secrets",
    "Security",
    "Services",
    "Storage",
    "Timeouts",
    "Window",
    "env_name",
    "load",
]

ENV_DIR = ROOT / "environments"
AWS_SECTIONS = ("aws", "rds", "backups", "storage.source", "storage.replica", "storage.inventory", "certificates",
                "secrets", "security", "services", "infrastructure", "capacity", "window",
                "integrity")
"""Every place AWS calls are made from: each has its own region and credentials (opsproof/config/target.py)."""


class Environment(Section):
    name: str
    kind: Literal["sandbox", "aws"]
    """Required: "aws" for real targets, "sandbox" for the local stand-in. An empty file is no environment."""
    timeouts: Timeouts = Timeouts()
    database: Database | None = None
    aws: Aws = Aws()
    rds: Rds = Rds()
    backups: Backups = Backups()
    storage: Storage = Storage()
    certificates: Certificates = Certificates()
    secrets: Secrets = Secrets()
    security: Security = Security()
    services: Services = Services()
    hosts: Hosts = Hosts()
    infrastructure: Infrastructure = Infrastructure()
    capacity: Capacity = Capacity()
    window: Window = Window()
    integrity: Integrity = Integrity()
    sandbox: Sandbox | None = None

    # Where relative paths in the file are anchored, and the file itself; set by load().
    root: Path = ROOT
    source: Path | None = None

    @model_validator(mode="after")
    def _kind_requires(self):
        """Each kind declares what it cannot run without: a half-loaded file must not reach a check."""
        if self.kind == "aws":
            if self.aws.account_id is None:
                raise ValueError("aws.account_id: required for kind \"aws\" (every run verifies the account)")
            if self.sandbox is not None:
                raise ValueError("sandbox: only a kind \"sandbox\" environment may have a [sandbox] section")
            if self.aws.sandbox_credentials:
                raise ValueError("aws.sandbox_credentials: the sandbox's throwaway keys are refused for kind \"aws\"")
        elif self.sandbox is None:
            raise ValueError("sandbox: required for kind \"sandbox\" (state_dir and ports)")
        return self

    @property
    def file(self) -> str:
        """The loaded file as a person names it (relative to the project when inside it): every message about
        this environment's configuration names it."""
        return _shown(self.source) if self.source else f"environments/{self.name}.toml"

    def path(self, p: Path | str) -> Path:
        """Resolve a path from the file: against the project folder, or "{sandbox}/..." against the sandbox's
        state folder (which OPSPROOF_SANDBOX_DIR may move)."""
        s = str(p)
        if s.startswith("{sandbox}"):
            return self.sandbox_dir / s.removeprefix("{sandbox}").lstrip("/")
        p = Path(s)
        return p if p.is_absolute() else self.root / p

    @property
    def sandbox_dir(self) -> Path:
        """The sandbox's state folder: an absolute state_dir as written; else $OPSPROOF_SANDBOX_DIR; else
        state_dir under the project folder."""
        configured = Path(self.sandbox.state_dir if self.sandbox else ".sandbox")
        override = os.environ.get("OPSPROOF_SANDBOX_DIR")
        if override and not configured.is_absolute():
            return Path(override).resolve()
        return self.path(configured)

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    def aws_target(self, section: str = "aws") -> Resolved:
        """Where a section's AWS calls go (region, credentials, the account they must be in): the section's own
        keys, else [aws]'s. ``section`` is a top-level section name, or storage.source / storage.replica /
        storage.inventory."""
        if section in ("storage.source", "storage.replica"):
            side = section.split(".")[1] + "_"
            own = {k: getattr(self.storage, side + k) for k in _TARGET_KEYS}
        elif section == "storage.inventory":
            inv = self.storage.inventory
            own = {k: getattr(inv, k) for k in _TARGET_KEYS} if inv else {}
        elif section == "aws" or isinstance(getattr(self, section, None), AwsTarget):
            own = {k: getattr(getattr(self, section), k) for k in _TARGET_KEYS}
        else:
            raise ValueError(f"{section!r} is not an AWS section (one of: {', '.join(AWS_SECTIONS)})")
        return _resolve(section, own, self.aws)

    def aws_targets(self) -> dict[str, Resolved]:
        """Every AWS section's resolved target."""
        return {s: self.aws_target(s) for s in AWS_SECTIONS}


def env_name(explicit: str | None = None) -> str:
    """--env, else OPSPROOF_ENV, else the sandbox."""
    return explicit or os.environ.get("OPSPROOF_ENV") or "sandbox"


def load(name: str | None = None, env_dir: Path | None = None) -> Environment:
    """Load and validate ``environments/NAME.toml``; a path to a .toml file works too.

    >>> load("sandbox").database.port
    15432
    """
    name = env_name(name)
    env_dir = env_dir or ENV_DIR
    path = Path(name) if name.endswith(".toml") else env_dir / f"{name}.toml"
    shown = _shown(path)
    if not path.is_file():
        known = sorted(p.stem for p in env_dir.glob("*.toml") if not p.stem.endswith(".example"))
        raise ConfigError(f"{shown}: no such environment file (known environments: {', '.join(known) or 'none'})")
    try:
        data = tomllib.loads(path.read_text())
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not a text file (TOML is UTF-8 text)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{shown}: not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{shown}: cannot be read: {e.strerror or e}") from None
    if not data:
        raise ConfigError(f"{shown}: is empty: an environment needs at least kind and its targets "
                          "(see environments/prod.example.toml)")
    for internal in ("root", "source"):
        if internal in data:
            raise ConfigError(f"{shown}: {internal}: unknown key")
    data.setdefault("name", path.stem)
    try:
        return Environment.model_validate({**data, "root": ROOT, "source": path.resolve()})
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        # A rule of the whole file (what a kind requires) names its key in its own message.
        where = f"{key}: " if key else ""
        problem = err.get("ctx", {}).get("error")
        if isinstance(problem, KeyProblem):
            where = f"{key}.{problem.key}: " if key else f"{problem.key}: "
        raise ConfigError(f"{shown}: {where}{_message(err)}{more}") from None


def _message(err) -> str:
    if err["type"] == "value_error":
        return str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    return f"{err['msg']} (got {err.get('input')!r})"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
