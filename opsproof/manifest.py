"""An evidence folder's manifest: the SHA-256 of every file in it, the run's identity and the digest of the
previous run's manifest (a hash chain, as CloudTrail's digest files chain each hour to the one before), written as
an in-toto Statement with the test-result predicate inside a DSSE envelope, signed with Ed25519 when a key is
configured.

    >>> st = statement(files(folder), record, identity, previous=None)
    >>> env = envelope(st, key)                 # key None: "signatures": [] and the run says it is unsigned
    >>> write(folder, env); problems = check_folder(folder, public_key)

The chain link is the SHA-256 of the previous manifest file's bytes; the history store keeps every manifest, so
`python -m opsproof verify` follows the chain back as far as the history holds.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

NAME = "manifest.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREVIOUS = "previous-manifest"
RUN = "opsproof-run"


# ---- files ------------------------------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files(folder: Path, exclude: tuple[Path, ...] = ()) -> dict[str, str]:
    """relative path -> SHA-256 of every file under folder, but the manifest itself and `exclude` (the history
    store and its journal when it lives in the folder: it changes after the manifest is written)."""
    folder = Path(folder)
    skip = {Path(p).resolve() for p in exclude}
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name == NAME or p.resolve() in skip or p.name.startswith(f".{NAME}"):
            continue
        out[p.relative_to(folder).as_posix()] = sha256_file(p)
    return out


def store_files(path: Path) -> tuple[Path, ...]:
    """A SQLite store's file and every file SQLite and the lock keep beside it."""
    return tuple(Path(f"{path}{suffix}") for suffix in ("", "-journal", "-wal", "-shm", ".lock"))


# ---- the statement ----------------------------------------------------------------------------------------------
def statement(digests: dict[str, str], record: dict, identity: dict, previous: str | None) -> dict:
    """The in-toto Statement: the folder's files are its subject; the predicate is the test-result predicate, its
    configuration the suite's commit, the environment file, the run's identity and the previous manifest."""
    passed, warned, failed = [], [], []
    for c in record.get("checks", []):
        {"passed": passed, "waived": warned, "failed": failed}.get(c["outcome"], []).append(c["nodeid"])
    result = "FAILED" if failed or record.get("exitstatus", 0) != 0 else "WARNED" if warned else "PASSED"
    configuration = [
        {"name": "opsproof", "digest": {"gitCommit": identity["commit"]}} if identity.get("commit")
        else {"name": "opsproof", "annotations": {"gitCommit": "unknown"}},
        {"name": RUN, "annotations": {k: identity.get(k) for k in (
            "environment", "account", "change_requests", "markexpr", "started_at", "finished_at", "signed")}},
        {"name": PREVIOUS, "digest": {"sha256": previous}} if previous
        else {"name": PREVIOUS, "annotations": {"first": True}},
    ]
    if identity.get("environment_file"):
        configuration.insert(1, identity["environment_file"])
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": d}} for name, d in sorted(digests.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"result": result, "configuration": configuration,
                      "passedTests": passed, "warnedTests": warned, "failedTests": failed},
    }


def run_annotations(st: dict) -> dict:
    return next((c.get("annotations", {}) for c in st["predicate"]["configuration"] if c.get("name") == RUN), {})


def previous_digest(st: dict) -> str | None:
    link = next((c for c in st["predicate"]["configuration"] if c.get("name") == PREVIOUS), {})
    return link.get("digest", {}).get("sha256")


# ---- the envelope (DSSE) and its Ed25519 signature --------------------------------------------------------------
def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed (the type is bound to the payload)."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def keyid(public_key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def envelope(st: dict, private_key=None) -> dict:
    payload = json.dumps(st, sort_keys=True, separators=(",", ":")).encode()
    sigs = []
    if private_key is not None:
        sig = private_key.sign(pae(PAYLOAD_TYPE, payload))
        sigs.append({"keyid": keyid(private_key.public_key()), "sig": base64.b64encode(sig).decode()})
    return {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode(), "signatures": sigs}


def dumps(env: dict) -> bytes:
    return (json.dumps(env, indent=1) + "\n").encode()


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(folder: Path, env: dict) -> tuple[Path, str]:
    """Write the manifest atomically (a reader never sees half of one); returns its path and digest."""
    data = dumps(env)
    path = Path(folder) / NAME
    tmp = path.with_name(f".{NAME}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path, digest_bytes(data)


def load_private_key(pem: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(pem: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

    if b"PRIVATE KEY" in pem:
        key = load_pem_private_key(pem, password=None)
        key = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    else:
        key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


def generate_pem() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a new Ed25519 key: `python -m opsproof keygen`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    return (key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


# ---- verification -----------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What verify found: problems (each names the file or link; any one means exit 1) and notes (what was and
    was not checked)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    statement: dict | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def open_envelope(data: bytes) -> tuple[dict, dict]:
    env = json.loads(data)
    if env.get("payloadType") != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is {env.get('payloadType')!r}, not {PAYLOAD_TYPE}")
    st = json.loads(base64.b64decode(env["payload"]))
    if st.get("_type") != STATEMENT_TYPE or st.get("predicateType") != PREDICATE_TYPE:
        raise ValueError("not an in-toto Statement with the test-result predicate")
    return env, st


def check_signature(env: dict, public_key, required: bool) -> tuple[list[str], list[str]]:
    """(problems, notes) of the envelope's signatures against the public key (None: not checkable here)."""
    sigs = env.get("signatures") or []
    if not sigs:
        return (["manifest: unsigned, and a signature is required ([integrity] require_signature)"]
                if required else [], ["manifest: unsigned (no signing key was configured for that run)"])
    if public_key is None:
        return ([], [f"manifest: signed by key {sigs[0].get('keyid', '?')[:16]}…, not checked: no public key "
                     "(--public-key, or [integrity] public_key / signing_key)"])
    from cryptography.exceptions import InvalidSignature

    payload = base64.b64decode(env["payload"])
    mine = keyid(public_key)
    for s in sigs:
        if s.get("keyid") not in (None, mine):
            continue
        try:
            public_key.verify(base64.b64decode(s["sig"]), pae(env["payloadType"], payload))
            return [], [f"manifest: signature valid (Ed25519 key {mine[:16]}…)"]
        except (InvalidSignature, ValueError):
            return [f"manifest: the signature does not match its content (key {mine[:16]}…): the manifest was "
                    "edited or re-signed"], []
    return [f"manifest: signed by key {sigs[0].get('keyid', '?')[:16]}…, not by the configured key "
            f"{mine[:16]}…"], []


def check_folder(folder: Path, public_key=None, require_signature: bool = False,
                 exclude: tuple[Path, ...] = ()) -> Verdict:
    """Every file's hash against the manifest (edited, added and removed files are named) and the signature."""
    folder = Path(folder)
    v = Verdict()
    path = folder / NAME
    if not path.is_file():
        v.problems.append(f"{NAME}: missing: this folder has no manifest")
        return v
    data = path.read_bytes()
    v.digest = digest_bytes(data)
    try:
        env, st = open_envelope(data)
    except (ValueError, KeyError, TypeError) as e:
        v.problems.append(f"{NAME}: unreadable: {e}")
        return v
    v.statement = st
    problems, notes = check_signature(env, public_key, require_signature)
    v.problems += problems
    v.notes += notes
    listed = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
    present = files(folder, exclude)
    for name in sorted(listed.keys() - present.keys()):
        v.problems.append(f"{name}: removed (in the manifest, not in the folder)")
    for name in sorted(present.keys() - listed.keys()):
        v.problems.append(f"{name}: added (in the folder, not in the manifest)")
    for name in sorted(listed.keys() & present.keys()):
        if listed[name] != present[name]:
            v.problems.append(f"{name}: edited (SHA-256 {present[name][:12]}…, the manifest says {listed[name][:12]}…)")
    v.notes.append(f"files: {len(listed)} listed, {len(listed.keys() & present.keys())} present")
    return v


def check_chain(v: Verdict, manifest_of, public_key=None, require_signature: bool = False,
                limit: int = 10_000) -> None:
    """Follow the chain back through the history (manifest_of(digest) -> the manifest's bytes, or None when the
    history never saw it): this manifest must be one the history recorded, and each link must hold."""
    if v.statement is None or v.digest is None:
        return
    if manifest_of(v.digest) is None:
        v.problems.append(f"{NAME}: not in the history (digest {v.digest[:12]}…): it is not the manifest that "
                          "run wrote (swapped, or rewritten after an edit)")
        return
    st, n = v.statement, 0
    while (prev := previous_digest(st)) and n < limit:
        data = manifest_of(prev)
        if data is None:
            v.notes.append(f"chain: {n} link(s) back verified; the history holds nothing before {prev[:12]}…")
            return
        if digest_bytes(data) != prev:
            v.problems.append(f"chain: the history's manifest {prev[:12]}… does not hash to its digest")
            return
        env, st = open_envelope(data)
        problems, _ = check_signature(env, public_key, require_signature)
        v.problems += [f"chain link {n + 1} ({prev[:12]}…): {p}" for p in problems]
        n += 1
    v.notes.append(f"chain: {n} link(s) back verified to the first run the history holds")
