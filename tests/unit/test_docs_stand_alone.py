"""The product stands alone: README.md and docs/ name no file outside the repository, and name the runbook by its
title and version."""

import re

from opsproof import ROOT, runbook

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_point_to_no_file_outside_the_repository():
    outside = []
    for doc in DOCS:
        for ref in re.findall(r"(?<![.\w])\.\./[\w./-]+", doc.read_text()):
            target = (doc.parent / ref).resolve()
            if not target.is_relative_to(ROOT):
                outside.append(f"{doc.relative_to(ROOT)}: {ref}")
    assert not outside, "docs point outside the repository: " + ", ".join(outside)


def test_the_runbook_is_named_by_its_title_and_version():
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "runbook.md").read_text()
    assert f'"{runbook.TITLE}", v{runbook.VERSION}' in text
