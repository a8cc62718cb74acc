"""The per-section IAM policies are data (opsproof/iam.py); the README shows them as they are."""

import json

from opsproof import config, iam
from opsproof.config import ROOT


def test_every_aws_section_has_a_policy_and_nothing_else_does():
    assert set(iam.POLICIES) == set(config.AWS_SECTIONS)


def test_action_names_follow_the_service_authorization_reference():
    assert iam.action("s3", "ListObjectsV2") == "s3:ListBucket"
    assert iam.action("s3", "HeadObject") == "s3:GetObject"
    assert iam.action("s3", "GetBucketReplication") == "s3:GetReplicationConfiguration"
    assert iam.action("elbv2", "DescribeListeners") == "elasticloadbalancing:DescribeListeners"
    assert iam.action("rds", "DescribeDBSnapshots") == "rds:DescribeDBSnapshots"


def test_a_call_outside_the_policy_and_an_unused_action_are_named():
    calls = [{"section": "backups", "api": "rds", "operation": "DescribeDBSnapshots"},
             {"section": "backups", "api": "rds", "operation": "DeleteDBInstance"}]
    problems = iam.compare(calls)
    assert "backups: calls rds:DeleteDBInstance, which its policy lacks" in problems
    assert any(p.startswith("backups: its policy has rds:DescribeDBInstances, which no check called") for p in problems)


def test_the_readme_shows_the_policies_as_they_are():
    readme = (ROOT / "README.md").read_text()
    assert iam.markdown() in readme, "regenerate the README's table: python -c 'from opsproof import iam; " \
                                     "print(iam.markdown())'"


def test_the_cli_prints_a_policy_document(capsys):
    assert iam.main(["storage.replica"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["Statement"][0]["Action"] == sorted(iam.POLICIES["storage.replica"])
