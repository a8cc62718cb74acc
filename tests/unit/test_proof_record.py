"""The proofs' record of what each check was seen as: lines from several workers, merged; only a whole-suite run
judges tests/proofs/red_green.json."""

import json
from types import SimpleNamespace

from opsproof import ROOT
from tests import proof_record


def test_lines_from_several_runs_merge_into_green_and_the_faults_seen_red(tmp_path, monkeypatch):
    path = tmp_path / "seen.jsonl"
    monkeypatch.setenv(proof_record.SEEN_ENV, str(path))
    proof_record.seen("test_a", "red", "fault-2")
    proof_record.seen("test_a", "green")
    proof_record.seen("test_a", "red", "fault-1")
    proof_record.seen("test_a", "red", "fault-2")
    proof_record.seen("test_b", "red", "fault-3")
    assert proof_record.observed(path) == {"test_a": {"green": True, "red": ["fault-1", "fault-2"]},
                                           "test_b": {"green": False, "red": ["fault-3"]}}
    assert all(json.loads(line) for line in path.read_text().splitlines())


def _config(args, keyword="", markexpr=""):
    return SimpleNamespace(args=args, option=SimpleNamespace(keyword=keyword, markexpr=markexpr, lf=False,
                                                              deselect=None))


def test_only_a_run_of_every_proof_judges_the_record():
    tests = str(ROOT / "tests")
    assert proof_record._whole_suite(_config([tests]))
    assert proof_record._whole_suite(_config([str(ROOT / "tests" / "proofs"), str(ROOT / "tests" / "unit")]))
    assert not proof_record._whole_suite(_config([tests], keyword="storage"))
    assert not proof_record._whole_suite(_config([tests], markexpr="not slow"))
    assert not proof_record._whole_suite(_config([str(ROOT / "tests" / "proofs" / "test_storage.py")]))
