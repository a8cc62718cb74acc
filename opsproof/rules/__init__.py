"""Rules: one module per area, a function per rule family, facts and limits in, Findings out (opsproof/findings.py).
No rule reads a target: each is unit-tested on hand-built facts (tests/unit/test_rules_*.py)."""
