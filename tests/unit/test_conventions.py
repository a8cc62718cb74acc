"""Conventions that keep the suite honest: every check says what it verifies, when it runs, what area it is in,
and has a proof in tests/ that breaks the sandbox for it."""

import ast
import re
from pathlib import Path

from opsproof import ROOT

SCHEDULE = {"pre_maintenance", "post_maintenance", "nightly", "monthly", "quarterly"}
AREAS = {"database", "backups", "storage", "certificates", "secrets", "infrastructure", "services", "capacity",
         "maintenance"}


def _checks():
    for path in sorted((ROOT / "checks").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        module_marks = _marks_of_assign(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = module_marks | {_mark_name(d) for d in node.decorator_list} - {None}
                yield path, node, marks


def _mark_name(dec):
    if isinstance(dec, ast.Call):
        dec = dec.func
    if isinstance(dec, ast.Attribute) and isinstance(dec.value, ast.Attribute) and dec.value.attr == "mark":
        return dec.attr
    return None


def _marks_of_assign(tree):
    marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            for el in ast.walk(node.value):
                if isinstance(el, (ast.Attribute, ast.Call)):
                    name = _mark_name(el)
                    if name:
                        marks.add(name)
    return marks


def test_there_are_checks():
    assert len(list(_checks())) >= 5


def test_every_check_has_a_docstring_a_schedule_and_an_area():
    problems = []
    for path, fn, marks in _checks():
        where = f"{path.relative_to(ROOT)}::{fn.name}"
        if not ast.get_docstring(fn):
            problems.append(f"{where}: no docstring (the runbook sentence it verifies)")
        if not marks & SCHEDULE:
            problems.append(f"{where}: no schedule marker ({', '.join(sorted(SCHEDULE))})")
        if not marks & AREAS:
            problems.append(f"{where}: no area marker ({', '.join(sorted(AREAS))})")
    assert not problems, "\n".join(problems)


def test_every_check_has_a_proof():
    proofs = "\n".join(p.read_text() for p in (ROOT / "tests" / "proofs").rglob("test_*.py"))
    missing = [f"{path.relative_to(ROOT)}::{fn.name}" for path, fn, _ in _checks()
               if not re.search(rf"\b{fn.name}\b", proofs)]
    assert not missing, "checks without a proof in tests/proofs/: " + ", ".join(missing)


def test_every_fault_is_documented_and_used_by_a_proof():
    from sandbox import faults

    proofs = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    unused = [n for n in faults.all_faults() if f'"{n}"' not in proofs]
    undocumented = [n for n, f in faults.all_faults().items() if not f.summary]
    assert not undocumented, f"faults without a docstring: {undocumented}"
    assert not unused, f"faults no test applies: {unused}"
