"""Conventions that keep the suite honest: every check says what it verifies, when it runs, what area it is in,
and has a proof in tests/ that breaks the sandbox for it."""

import ast
import re
from pathlib import Path

from opsproof import ROOT, vocabulary

SCHEDULE, AREAS = set(vocabulary.SCHEDULES), set(vocabulary.AREAS)


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
        if marks & AREAS != {path.parent.name}:
            problems.append(f"{where}: its area marker must be its folder's, {path.parent.name!r} (areas: "
                            f"{', '.join(AREAS)}), not {sorted(marks & AREAS)}")
    assert not problems, "\n".join(problems)


def test_the_vocabulary_is_defined_once():
    """A folder of checks, its marker and its faults' area are one word from opsproof/vocabulary.py."""
    from sandbox import faults

    folders = {p.name for p in (ROOT / "checks").iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    assert folders == set(AREAS), f"check folders {sorted(folders)} vs areas {sorted(AREAS)}"
    wrong = {n: (f.area, f.impl.__module__) for n, f in faults.all_faults().items()
             if f.area not in AREAS or f.impl.__module__.rsplit(".", 1)[-1] != f.area}
    assert not wrong, f"faults whose area is not their module's (sandbox/faults/AREA.py): {wrong}"
    for ini in (ROOT / "pytest.ini", ROOT / "tests" / "pytest.ini"):
        listed = [w for w in [*SCHEDULE, *AREAS] if re.search(rf"^\s+{w}:", ini.read_text(), re.M)]
        assert not listed, f"{ini.relative_to(ROOT)} lists markers {listed}: they are registered from the vocabulary"


def test_every_check_was_seen_red_under_a_fault_and_green_when_healthy():
    """What the proofs saw (tests/proof_record.py writes tests/proofs/red_green.json from a whole test run), not
    whether a check's name appears in a proof file."""
    from tests import proof_record

    seen = proof_record.load()
    names = {fn.name for _, fn, _ in _checks()}
    never_green = sorted(n for n in names if not seen.get(n, {}).get("green"))
    never_red = sorted(n for n in names if not seen.get(n, {}).get("red"))
    gone = sorted(set(seen) - names)
    assert not never_green, f"checks no proof saw pass on the healthy sandbox: {never_green}"
    assert not never_red, f"checks no proof saw fail under a fault, naming the culprit: {never_red}"
    assert not gone, f"tests/proofs/red_green.json names checks that do not exist: {gone}"


def test_every_fault_is_documented_and_used_by_a_proof():
    from sandbox import faults

    proofs = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    unused = [n for n in faults.all_faults() if f'"{n}"' not in proofs]
    undocumented = [n for n, f in faults.all_faults().items() if not f.summary]
    assert not undocumented, f"faults without a docstring: {undocumented}"
    assert not unused, f"faults no test applies: {unused}"


# ---- judgement lives in rules (issue 13) ----------------------------------------------------------------------
FAILURE_LISTS = {"problems", "bad", "failures", "wrong", "issues"}


def test_no_check_judges_in_its_body():
    judging = sorted(node.name for _, node, _ in _checks()
                     if any(isinstance(n, ast.Assign) and isinstance(n.value, (ast.List, ast.ListComp))
                            and any(getattr(t, "id", "") in FAILURE_LISTS for t in n.targets) for n in ast.walk(node)))
    assert not judging, (f"{judging} build a list of failures in the check: write the rule in opsproof/rules/ "
                         "returning Findings and end the check with findings.expect_no_alarm(...)")


def _reports_findings(fn: ast.FunctionDef) -> bool:
    return any(isinstance(c, ast.Call) and getattr(c.func, "attr", getattr(c.func, "id", "")) == "expect_no_alarm"
               for c in ast.walk(fn))


def test_every_check_reports_findings():
    silent = sorted(f"{p.parent.name}/{p.name}::{fn.name}" for p, fn, _ in _checks() if not _reports_findings(fn))
    assert not silent, (f"{silent} do not end in findings.expect_no_alarm(rules.AREA.RULE(facts, limits), evidence): "
                        "judge in opsproof/rules/ and report Findings")


def test_every_deliberate_error_is_in_the_tree_of_opsproof_errors():
    """An error raised on purpose is one line for a person (fixtures/reporting.py prints an OpsproofError without a
    traceback): every exception class the product defines derives from opsproof.errors.OpsproofError."""
    import importlib
    import inspect
    import pkgutil

    from opsproof.errors import OpsproofError

    outside = []
    for package in ("opsproof", "actions", "fixtures"):
        for info in pkgutil.walk_packages([str(ROOT / package)], f"{package}."):
            module = importlib.import_module(info.name)
            outside += [f"{info.name}.{name}" for name, cls in inspect.getmembers(module, inspect.isclass)
                        if cls.__module__ == info.name and issubclass(cls, BaseException)
                        and not issubclass(cls, OpsproofError)]
    assert not outside, f"{outside}: derive them from a class of opsproof/errors.py"
