"""Credentials: resolved at the last moment, never stored in configuration, never allowed into evidence.

Every secret value opsproof resolves is registered here; evidence rendering refuses to show any registered value.
That is the second line of defence: the first is that no code passes a secret to evidence at all.
"""

import os
from pathlib import Path

from .errors import ConfigError

_KNOWN: set[str] = set()


def register(value: str) -> str:
    if value and len(value) >= 4:
        _KNOWN.add(value)
    return value


def known() -> frozenset[str]:
    return frozenset(_KNOWN)


def redact(text: str) -> str:
    for s in sorted(_KNOWN, key=len, reverse=True):
        if s in text:
            text = text.replace(s, "********")
    return text


def resolve(what: str, env_var: str | None, file: Path | None) -> str:
    """A password from its environment variable, else from its file; a clear error naming both when neither."""
    if env_var and os.environ.get(env_var):
        return register(os.environ[env_var])
    if file is not None:
        try:
            return register(file.read_text().strip())
        except FileNotFoundError:
            pass
    where = " or ".join(w for w in [f"${env_var}" if env_var else "", str(file) if file else ""] if w)
    raise ConfigError(f"no password for {what}: set {where or 'password_env in the environment file'}")
