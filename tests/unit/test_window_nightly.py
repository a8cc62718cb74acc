"""The nightly gate examples: 0 healthy, 1 a check failed, anything else a broken run that pages the suite's
owners; the reports are kept whatever happened."""

import os
import subprocess

import pytest
import yaml

from opsproof import ROOT

CI = ROOT / "examples" / "ci"


def test_the_workflow_runs_the_nightly_marker_keeps_reports_and_pages_only_a_broken_run():
    wf = yaml.safe_load((CI / "nightly.yml").read_text())
    steps = {s.get("name") or s.get("uses"): s for s in wf["jobs"]["gate"]["steps"]}
    assert "python -m pytest -m nightly" in steps["pytest -m nightly"]["run"]
    keep = steps["keep the reports"]
    assert keep["if"] == "always()" and keep["with"]["path"] == "reports/"
    page = next(s for n, s in steps.items() if n and n.startswith("page the suite's owners"))
    assert page["if"] == "always() && steps.gate.outputs.code != '0' && steps.gate.outputs.code != '1'"
    assert "OPSPROOF_DB_PASSWORD: ${{ secrets." in (CI / "nightly.yml").read_text(), "secrets come from the CI store"


@pytest.mark.parametrize("pytest_exit, gate_exit, paged", [(0, 0, False), (1, 1, False), (2, 2, True), (4, 2, True),
                                                            (5, 2, True)])
def test_the_gate_script_maps_exit_codes(tmp_path, pytest_exit, gate_exit, paged):
    fake = tmp_path / "fake-pytest"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\nexit {pytest_exit}\n")
    fake.chmod(0o755)
    page = tmp_path / "page"
    page.write_text(f"#!/bin/sh\necho \"$1\" > {tmp_path}/paged\n")
    page.chmod(0o755)
    p = subprocess.run([str(CI / "nightly-gate.sh"), "-n", "2"], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PYTEST": str(fake), "PAGE_COMMAND": str(page),
                            "KEEP_DIR": str(tmp_path / "keep")})
    assert p.returncode == gate_exit, p.stdout + p.stderr
    assert (tmp_path / "paged").exists() == paged
    args = (tmp_path / "args").read_text()
    assert args.startswith("-m nightly --html=") and str(tmp_path / "keep") in args and args.strip().endswith("-n 2")
    if paged:
        assert f"pytest exit {pytest_exit}" in (tmp_path / "paged").read_text()
