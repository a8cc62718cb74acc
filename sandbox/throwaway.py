"""Throwaway credentials of the sandbox's receivers (change records, mail): made once per state folder, readable
only by its owner, and read by the clients from the same file (the sandbox environment's credentials_file)."""

import json
import secrets
from pathlib import Path


def credentials(state: Path, name: str) -> Path:
    """<state>/secrets/NAME, {"user": "opsproof-sandbox", "password": <random>}; made when missing."""
    path = state / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"user": "opsproof-sandbox", "password": secrets.token_urlsafe(18)}))
        path.chmod(0o600)
    return path
