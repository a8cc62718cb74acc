"""The evidence folder's manifest: tamper detection (an edited byte, a removed, an added file, another run's
manifest swapped in), the Ed25519 signature, and the hash chain through the history."""

import base64
import json
import os
import subprocess
import sys

import pytest

from opsproof import integrity, manifest
from opsproof.config import ROOT

from .integrity_runs import check, environment, record, seal_run


@pytest.fixture
def keys(tmp_path):
    private, public = manifest.generate_pem()
    (tmp_path / "signing.pem").write_bytes(private)
    (tmp_path / "public.pem").write_bytes(public)
    return tmp_path / "signing.pem", tmp_path / "public.pem"


@pytest.fixture
def sealed(tmp_path, keys):
    """Two signed runs in one history: run-1, then run-2 linked to it."""
    env = environment(tmp_path / "history.sqlite", signing_key=str(keys[0]), require_signature=True)
    one = seal_run(env, tmp_path / "run-1", record([check("test_a"), check("test_b", "failed")], cr="CHG-1"))
    two = seal_run(env, tmp_path / "run-2", record([check("test_a"), check("test_b")], cr="CHG-2"))
    return env, one, two


def _verify(env, path):
    return integrity.verify(path, env)


def test_an_untouched_folder_verifies_with_its_signature_and_chain(sealed):
    env, one, two = sealed
    assert two.previous == one.digest and one.previous is None
    v = _verify(env, two.path.parent)
    assert v.ok, v.problems
    assert any("signature valid" in n for n in v.notes)
    assert any("1 link(s) back verified" in n for n in v.notes)
    st = v.statement
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert st["predicate"]["result"] == "PASSED" and len(st["predicate"]["passedTests"]) == 2
    assert {s["name"] for s in st["subject"]} == {"report.html", "junit.xml", "evidence.json", "change-request.html"}
    run = manifest.run_annotations(st)
    assert run["environment"] == "sandbox" and run["account"] == "123456789012"
    assert run["change_requests"] == ["CHG-2"] and run["started_at"] and run["finished_at"]
    assert manifest.previous_digest(st) == one.digest
    assert _verify(env, one.path.parent).statement["predicate"]["failedTests"] == ["checks/database/test_x.py::test_b"]


def test_one_edited_byte_of_the_html_report_is_named(sealed):
    env, _, two = sealed
    report = two.path.parent / "report.html"
    data = bytearray(report.read_bytes())
    data[10] ^= 0x01
    report.write_bytes(bytes(data))
    v = _verify(env, two.path.parent)
    assert [p for p in v.problems if p.startswith("report.html: edited")], v.problems
    assert len(v.problems) == 1


def test_a_removed_and_an_added_file_are_named(sealed):
    env, _, two = sealed
    (two.path.parent / "junit.xml").unlink()
    (two.path.parent / "extra.png").write_bytes(b"\x89PNG")
    problems = _verify(env, two.path.parent).problems
    assert "junit.xml: removed (in the manifest, not in the folder)" in problems
    assert "extra.png: added (in the folder, not in the manifest)" in problems


def test_another_runs_manifest_swapped_in_is_caught(sealed):
    env, one, two = sealed
    two.path.write_bytes(one.path.read_bytes())
    problems = _verify(env, two.path.parent).problems
    assert any(p.startswith("evidence.json: edited") for p in problems), problems
    assert any(p.startswith("change-request.html: edited") for p in problems)


def test_a_manifest_rewritten_after_an_edit_is_not_the_one_the_history_holds(tmp_path):
    """Unsigned: anyone can recompute the hashes; the chain in the history still tells."""
    env = environment(tmp_path / "history.sqlite")
    done = seal_run(env, tmp_path / "run", record([check("test_a")]))
    (done.path.parent / "report.html").write_text("<html>all green, honest</html>")
    st = manifest.statement(manifest.files(done.path.parent), record([check("test_a")]), {}, done.previous)
    manifest.write(done.path.parent, manifest.envelope(st))
    v = _verify(env, done.path.parent)
    assert not [p for p in v.problems if "edited" in p]
    assert any("not in the history" in p for p in v.problems), v.problems


def test_a_signature_over_other_content_or_by_another_key_fails(sealed, tmp_path):
    env, _, two = sealed
    envelope = json.loads(two.path.read_bytes())
    st = json.loads(base64.b64decode(envelope["payload"]))
    st["predicate"]["failedTests"] = []
    envelope["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    two.path.write_text(json.dumps(envelope))
    assert any("signature does not match" in p for p in _verify(env, two.path.parent).problems)

    private, public = manifest.generate_pem()
    (tmp_path / "other.pub").write_bytes(public)
    v = integrity.verify(sealed[1].path.parent, env, public_key_path=str(tmp_path / "other.pub"))
    assert any("not by the configured key" in p for p in v.problems), v.problems


def test_unsigned_says_so_and_fails_where_a_signature_is_required(tmp_path, keys):
    env = environment(tmp_path / "history.sqlite")
    done = seal_run(env, tmp_path / "run", record([check("test_a")]))
    assert not done.signed and any("unsigned" in n for n in done.notes)
    assert json.loads(done.path.read_bytes())["signatures"] == []
    v = _verify(env, done.path.parent)
    assert v.ok and any("unsigned" in n for n in v.notes)
    strict = environment(tmp_path / "history.sqlite", require_signature=True, public_key=str(keys[1]))
    assert any("unsigned, and a signature is required" in p for p in _verify(strict, done.path.parent).problems)


def test_the_key_may_come_from_the_environment(tmp_path, keys, monkeypatch):
    monkeypatch.setenv("OPSPROOF_SIGNING_KEY", keys[0].read_text())
    env = environment(tmp_path / "history.sqlite")
    done = seal_run(env, tmp_path / "run", record([check("test_a")]))
    assert done.signed
    assert integrity.verify(done.path.parent, env, public_key_path=str(keys[1])).ok


def test_the_chain_is_followed_back_and_a_rewritten_link_is_caught(tmp_path):
    env = environment(tmp_path / "history.sqlite")
    runs = [seal_run(env, tmp_path / f"run-{i}", record([check("test_a")])) for i in range(4)]
    assert [r.previous for r in runs[1:]] == [r.digest for r in runs[:-1]]
    v = _verify(env, runs[-1].path.parent)
    assert v.ok and any("3 link(s) back verified" in n for n in v.notes), v.notes
    import sqlite3
    import zlib

    edited = runs[1].path.read_bytes().replace(b'"payload"', b'"payload" ')
    with sqlite3.connect(tmp_path / "history.sqlite") as c:  # someone edits an old run's manifest in the store
        c.execute("UPDATE runs SET manifest = ? WHERE manifest_digest = ?", (zlib.compress(edited), runs[1].digest))
    assert any("does not hash to its digest" in p for p in _verify(env, runs[-1].path.parent).problems)


def test_an_attached_copy_verifies_elsewhere_and_the_command_exits_1_naming_the_file(sealed, tmp_path):
    env, _, two = sealed
    import shutil

    copy = shutil.copytree(two.path.parent, tmp_path / "attached")
    cmd = [sys.executable, "-m", "opsproof", "verify", str(copy / manifest.NAME),
           "--history", str(tmp_path / "history.sqlite"), "--public-key", str(tmp_path / "public.pem")]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    (copy / "report.html").write_text("<html>edited</html>")
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert run.returncode == 1 and "FAIL report.html: edited" in run.stdout, run.stdout + run.stderr


def test_the_history_store_beside_the_evidence_is_not_covered(tmp_path):
    env = environment(tmp_path / "run" / "history.sqlite")
    done = seal_run(env, tmp_path / "run", record([check("test_a")]))
    names = {s["name"] for s in _verify(env, done.path.parent).statement["subject"]}
    assert "history.sqlite" not in names
    seal_run(env, tmp_path / "other", record([check("test_a")]))  # the store changes after the manifest
    assert _verify(env, done.path.parent).ok
