"""What the rule unit tests read of a rule's Findings: the lines a person would see in the assertion message."""

from opsproof import findings


def alarms(found) -> list[str]:
    """Every alarm's and error's line."""
    return [f.line() for f in findings.failing(found)]


def one_alarm(found, *expected) -> str:
    """The one failing line, which must contain every expected fragment."""
    (line,) = alarms(found)
    assert all(e in line for e in expected), line
    return line
