"""Issue 15 end to end: a real run's evidence folder is sealed last (its manifest covers report.html, junit.xml,
evidence.json and the metrics file), the reports carry the history section, an edited copy is caught by
`python -m opsproof verify`, and two real runs at once both land in one unforked chain."""

import json
import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from opsproof import config, history, integrity, manifest
from opsproof.config import ROOT
from tests.conftest import SANDBOX_ENV, checks_command

CHEAP = "checks/storage/test_replication.py::test_replication_is_configured"


def _verify(path, *more) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opsproof", f"--env={SANDBOX_ENV}", "verify", str(path), *more],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_the_healthy_runs_evidence_is_sealed_and_an_edited_copy_is_caught(healthy, tmp_path):
    out = healthy.out
    done = _verify(out)
    assert done.returncode == 0, done.stdout + done.stderr + healthy.output[-2000:]
    st = manifest.open_envelope((out / manifest.NAME).read_bytes())[1]
    names = {s["name"] for s in st["subject"]}
    assert {"report.html", "junit.xml", "evidence.json", "metrics.prom"} <= names, names
    assert set(names) == {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {manifest.NAME}
    assert st["predicate"]["passedTests"] and manifest.run_annotations(st)["environment"]
    assert "<h3>History</h3>" in healthy.record["history"]["html"]
    assert "<h3>History</h3>" in (out / "report.html").read_text()
    families = {f.name for f in text_string_to_metric_families((out / "metrics.prom").read_text())}
    assert {"opsproof_check_status", "opsproof_run_duration_seconds"} <= families

    import shutil

    copy = shutil.copytree(out, tmp_path / "attached")
    report = copy / "report.html"
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x20
    report.write_bytes(bytes(data))
    caught = _verify(copy)
    assert caught.returncode == 1 and "FAIL report.html: edited" in caught.stdout, caught.stdout + caught.stderr


def test_two_runs_at_once_are_both_sealed_in_one_unforked_chain(sandbox, tmp_path):
    outs = [tmp_path / f"run-{i}" for i in range(2)]
    procs = [subprocess.Popen(checks_command(o, CHEAP), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=os.environ.copy()) for o in outs]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)[-3000:]
    env = config.load(SANDBOX_ENV)
    digests = [manifest.digest_bytes((o / manifest.NAME).read_bytes()) for o in outs]
    with history.open_store(integrity.history_location(env)) as store:
        assert store.chain_forks(json.loads((outs[0] / "evidence.json").read_text())["environment"]) == []
        later = max(digests, key=lambda d: store.query("SELECT id FROM runs WHERE manifest_digest = %s", (d,))[0])
    first = digests[1 - digests.index(later)]
    later_out = outs[digests.index(later)]
    st = manifest.open_envelope((later_out / manifest.NAME).read_bytes())[1]
    assert manifest.previous_digest(st) == first, "the later run links to the other, not to a shared head"
    for o in outs:
        v = integrity.verify(o, env)
        assert v.ok, v.problems
