"""A run's seal and its verification, from the run's record (reports/evidence.json) and [integrity]:

    seal(env, folder, record, started_at)     manifest + history row, in one exclusive history transaction
    verify(path, env)                         files, signature and chain of an evidence folder (or a copy)

The order inside `seal` is what makes the chain safe with two runs at once: lock the history, read the head, write
the manifest that links to it, insert the run (with the manifest's bytes), commit. A run whose history is down is
still sealed (unchained, and it says so).
"""

import datetime as dt
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import ROOT, config, history, manifest, vocabulary
from .errors import ConfigError

AREAS = tuple(vocabulary.AREAS)


# ---- where things are, from [integrity] ------------------------------------------------------------------------
def history_location(env: config.Environment) -> str:
    loc = env.integrity.history
    return loc if history.is_url(loc) else str(env.path(loc))


def exclude(env: config.Environment) -> tuple[Path, ...]:
    """Files beside the evidence that no manifest covers: a SQLite history kept in the evidence folder."""
    loc = history_location(env)
    return () if history.is_url(loc) else manifest.store_files(Path(loc))


def signing_key(env: config.Environment):
    """The Ed25519 private key from [integrity] signing_key (a file), else $signing_key_env (PEM text); None."""
    cfg = env.integrity
    try:
        if cfg.signing_key:
            return manifest.load_private_key(env.path(cfg.signing_key).read_bytes())
        pem = os.environ.get(cfg.signing_key_env)
        return manifest.load_private_key(pem.encode()) if pem else None
    except (OSError, ValueError, TypeError) as e:
        where = "integrity.signing_key" if cfg.signing_key else f"${cfg.signing_key_env}"
        raise ConfigError(f"{env.file}: {where}: not a readable Ed25519 private key (PEM): {e}") from None


def public_key(env: config.Environment, path: str | None = None):
    """The key signatures are checked with: --public-key, [integrity] public_key, else the signing key's."""
    where = path or env.integrity.public_key
    if where:
        try:
            return manifest.load_public_key(env.path(where).read_bytes())
        except (OSError, ValueError) as e:
            raise ConfigError(f"{where}: not a readable Ed25519 key (PEM): {e}") from None
    key = signing_key(env)
    return key.public_key() if key is not None else None


def git_commit(root: Path = ROOT) -> str | None:
    """The suite's commit (HEAD), from git when it is there, else $OPSPROOF_COMMIT (a deployed copy)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        if out.returncode == 0 and len(out.stdout.strip()) == 40:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("OPSPROOF_COMMIT") or None


# ---- from the record -------------------------------------------------------------------------------------------
def _epoch(iso: str | None) -> float:
    return dt.datetime.fromisoformat(iso).timestamp() if iso else dt.datetime.now(dt.timezone.utc).timestamp()


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def measurements(check: dict) -> list[tuple[str, str, float]]:
    """(key, subject, value) of a check's numeric measurements: its findings' `measured` by configuration key,
    and its evidence values by check and title."""
    name = check["nodeid"].split("::")[-1]
    out = []
    for f in check.get("findings") or []:
        if (v := _number(f.get("measured"))) is not None:
            out.append((f.get("key") or name, f.get("subject") or name, v))
    for e in check.get("evidence") or []:
        if e.get("kind") == "value" and isinstance(e.get("payload"), list) and e["payload"]:
            if (v := _number(e["payload"][0])) is not None:
                out.append((f"{name}:{e['title']}", name, v))
    return out


VERDICT = ("status", "reason")
"""A findings table's judgement columns: a flip changes them by definition, so "the same evidence" leaves them out."""


def evidence_digest(check: dict) -> str:
    """Whether a check's evidence (what it measured) changed from one run to the next; 64 bits tell that."""
    def measured(item: dict) -> dict:
        if item.get("kind") == "table" and isinstance(item.get("payload"), list):
            rows = [{k: v for k, v in r.items() if k not in VERDICT} if isinstance(r, dict) else r
                    for r in item["payload"]]
            return {**item, "payload": rows}
        return item

    data = json.dumps([measured(e) for e in check.get("evidence") or []], sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def results(record: dict) -> list[dict]:
    """The record's checks as history rows (one per nodeid: a setup error and its call are one result)."""
    out: dict[str, dict] = {}
    for c in record.get("checks", []):
        area = next((m for m in c.get("markers", []) if m in AREAS), None)
        row = {"nodeid": c["nodeid"], "area": area, "outcome": c["outcome"], "duration_s": c.get("duration_s"),
               "evidence_digest": evidence_digest(c), "measurements": measurements(c)}
        if c["nodeid"] not in out or c["outcome"] == "failed":
            out[c["nodeid"]] = row
    return list(out.values())


def identity(env: config.Environment, record: dict, started_at: float, signed: bool) -> dict:
    target = record.get("target") or {}
    cr = record.get("change_request")
    ident = {"environment": record.get("environment", env.name), "account": target.get("account"),
             "change_requests": [c for c in str(cr).split(",") if c] if cr else [],
             "markexpr": record.get("markexpr") or "", "started_at": _iso(started_at),
             "finished_at": record.get("finished_at"), "commit": git_commit(), "signed": signed}
    if env.source and env.source.is_file():
        ident["environment_file"] = {"name": env.file, "digest": {"sha256": manifest.sha256_file(env.source)}}
    return ident


def as_run(record: dict, started_at: float, folder: Path, ident: dict) -> history.Run:
    return history.Run(
        environment=ident["environment"], started_at=started_at, finished_at=_epoch(record.get("finished_at")),
        exitstatus=int(record.get("exitstatus", 1)), results=results(record), account=ident["account"],
        change_request=record.get("change_request"), commit_sha=ident["commit"], markexpr=ident["markexpr"],
        folder=str(folder))


# ---- the seal ---------------------------------------------------------------------------------------------------
@dataclass
class Sealed:
    path: Path
    digest: str
    previous: str | None
    signed: bool
    run_id: int | None
    notes: list[str] = field(default_factory=list)


def seal(env: config.Environment, folder: Path, record: dict, started_at: float) -> Sealed:
    """Write the folder's manifest (linked to the environment's last one) and the run's history row, in one
    exclusive history transaction. Call it after every other file of the folder is written."""
    key = signing_key(env)
    ident = identity(env, record, started_at, signed=key is not None)
    run = as_run(record, started_at, folder, ident)
    notes = [] if key is not None else ["manifest unsigned: no signing key ([integrity] signing_key or "
                                        f"${env.integrity.signing_key_env})"]

    def write(previous: str | None) -> tuple[Path, str, bytes]:
        st = manifest.statement(manifest.files(folder, exclude(env)), record, ident, previous)
        path, digest = manifest.write(folder, manifest.envelope(st, key))
        return path, digest, path.read_bytes()

    try:
        with history.open_store(history_location(env), env.integrity.lock_timeout_s) as store, \
                store.appending() as tx:
            head = tx.head(run.environment)
            previous = head[0] if head else None
            path, digest, data = write(previous)
            run.manifest_digest, run.previous_digest, run.manifest = digest, previous, data
            run_id = tx.add_run(run)
    except history.StoreError as e:  # a history that is down must not cost the run its manifest
        path, digest, _ = write(None)
        return Sealed(path, digest, None, key is not None, None,
                      notes + [f"history unavailable, manifest not chained: {type(e).__name__}: {e}"])
    return Sealed(path, digest, previous, key is not None, run_id, notes)


# ---- verification ------------------------------------------------------------------------------------------------
def verify(path: Path, env: config.Environment, public_key_path: str | None = None,
           history_at: str | None = None) -> manifest.Verdict:
    """An evidence folder (or the manifest file in one): each file, the signature, and the chain through the
    history (the environment's, or history_at) as far back as it holds."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    key = public_key(env, public_key_path)
    v = manifest.check_folder(folder, key, env.integrity.require_signature, exclude(env))
    loc = history_at or history_location(env)
    if not history.is_url(loc) and not Path(loc).is_file():
        v.notes.append(f"chain: not checked: no history at {loc}")
        return v
    with history.open_store(loc, env.integrity.lock_timeout_s) as store:
        manifest.check_chain(v, store.manifest, key, env.integrity.require_signature)
    return v
