"""Every check under checks/, read from its source (no pytest, no import of the check modules): its function name,
the docstring's first paragraph (the runbook sentence, whole), its markers and its file. What the runbook's coverage and the reports name checks by.

    >>> checks()["test_no_invalid_indexes"]["markers"]
    ['database', 'monthly', 'nightly', 'post_maintenance']
"""

import ast
from pathlib import Path

from . import ROOT


def checks(root: Path | None = None) -> dict[str, dict]:
    out = {}
    base = root or ROOT
    for path in sorted((base / "checks").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        module_marks = _marks_of_assign(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = module_marks | ({_mark_name(d) for d in node.decorator_list} - {None})
                doc = (ast.get_docstring(node) or "").strip().split("\n\n")[0]
                out[node.name] = {"doc": " ".join(doc.split()), "markers": sorted(marks),
                                  "path": str(path.relative_to(base))}
    return out


def _mark_name(dec) -> str | None:
    if isinstance(dec, ast.Call):
        dec = dec.func
    if isinstance(dec, ast.Attribute) and isinstance(dec.value, ast.Attribute) and dec.value.attr == "mark":
        return dec.attr
    return None


def _marks_of_assign(tree) -> set[str]:
    marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            marks |= {m for el in ast.walk(node.value) if isinstance(el, (ast.Attribute, ast.Call))
                      and (m := _mark_name(el))}
    return marks
