"""Each section's IAM policy (opsproof/iam.py) lists exactly the API calls its checks make: the healthy run records
every call (OPSPROOF_RECORD_CALLS), costing no extra run."""

from opsproof import iam


def test_each_sections_policy_is_exactly_its_calls(healthy):
    calls = healthy.aws_calls()
    assert calls, "the healthy run recorded no AWS call (OPSPROOF_RECORD_CALLS)\n" + healthy.output[-2000:]
    assert {c["section"] for c in calls} >= set(iam.POLICIES) - {"window", "integrity"}, "a section made no call"
    assert iam.compare(calls) == []
