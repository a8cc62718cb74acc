"""The read-only IAM policy of each AWS section: exactly the API calls its checks make.

Each section (opsproof/config/target.py) may run with credentials of its own (a role in the DR account for the
replica bucket), so each has its own policy. The healthy proof run records every call (OPSPROOF_RECORD_CALLS) and
tests/proofs/test_iam.py compares the recording with POLICIES: every recorded call is in its section's policy, and
every action of a policy was recorded or says why the healthy run cannot make it (REASONS).

    python -m opsproof.iam                      # every section's policy document, as JSON
    python -m opsproof.iam storage.replica      # one section's
"""

import json
import sys

PREFIX = {"elbv2": "elasticloadbalancing"}
"""botocore service name -> IAM action prefix, where they differ."""

ACTION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
}
"""(service, operation) -> IAM action, where the action is not prefix:Operation (the Service Authorization
Reference: S3's object reads are s3:GetObject, its listings s3:ListBucket)."""

NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})
"""Needs no permission (AWS: "no permissions are required to perform this operation"); listed in [aws]'s policy for
the reader, accepted from every section (a section with its own role is verified with it)."""


def action(service: str, operation: str) -> str:
    """The IAM action a call needs."""
    return ACTION.get((service, operation), f"{PREFIX.get(service, service)}:{operation}")


BASELINE = "only at --phase t-1h (the pre-window baseline), which the healthy run does not reach"
POLICIES: dict[str, dict[str, str | None]] = {
    "aws": {"sts:GetCallerIdentity": None},
    "rds": {"rds:DescribeDBInstances": None, "rds:DescribeDBParameters": None},
    "backups": {"rds:DescribeDBInstances": None, "rds:DescribeDBSnapshots": None},
    "storage.source": {
        "s3:ListBucket": None, "s3:GetObject": None, "s3:GetBucketLocation": None, "s3:GetBucketVersioning": None,
        "s3:GetEncryptionConfiguration": None, "s3:GetReplicationConfiguration": None,
        "s3:GetObjectTagging": "only to explain an object that never replicated (its tags against the rule's "
                               "filter): a fault, not the healthy bucket"},
    "storage.replica": {
        "s3:ListBucket": None, "s3:GetObject": None, "s3:GetBucketLocation": None, "s3:GetBucketVersioning": None,
        "s3:GetEncryptionConfiguration": None},
    "storage.inventory": {"s3:ListBucket": None, "s3:GetObject": None},
    "certificates": {
        "acm:ListCertificates": None, "acm:DescribeCertificate": None,
        "elasticloadbalancing:DescribeLoadBalancers": None, "elasticloadbalancing:DescribeListeners": None,
        "elasticloadbalancing:DescribeListenerCertificates": None, "elasticloadbalancing:DescribeSSLPolicies": None,
        "cloudfront:ListDistributions": None, "cloudfront:GetDistribution": None},
    "secrets": {"secretsmanager:DescribeSecret": None, "secretsmanager:ListSecretVersionIds": None,
                "secretsmanager:GetSecretValue": None},
    "security": {"ecs:DescribeServices": None, "ecs:DescribeTaskDefinition": None,
                 "ecr:DescribeImageScanFindings": None},
    "services": {
        "ecs:DescribeServices": None, "ecs:DescribeTaskDefinition": None,
        "application-autoscaling:DescribeScalableTargets": None,
        "elasticloadbalancing:DescribeTargetGroups": None, "elasticloadbalancing:DescribeTargetHealth": None,
        "cloudwatch:DescribeAlarms": None,
        "cloudwatch:DescribeAlarmHistory": "only with --watch (alarm transitions while watching after a deploy)"},
    "infrastructure": {
        "ssm:DescribePatchBaselines": None, "ssm:GetPatchBaseline": None, "ssm:GetPatchBaselineForPatchGroup": None,
        "ssm:DescribeMaintenanceWindows": None, "ssm:DescribeInstanceInformation": None,
        "ssm:DescribeInstancePatchStatesForPatchGroup": None,
        "ssm:DescribeInstancePatches": "only for an instance whose latest patch operation is a Scan and whose state "
                                       "lacks LastNoRebootInstallOperationTime",
        "ec2:DescribeInstances": None,
        "ecs:DescribeServices": None, "ecs:DescribeTaskDefinition": None,
        "ecr:DescribeImages": None, "ecr:BatchGetImage": None, "ecr:DescribeImageScanFindings": None},
    "capacity": {
        "cloudwatch:GetMetricData": None, "rds:DescribeDBInstances": None, "rds:DescribeDBParameters": None,
        "application-autoscaling:DescribeScalableTargets": None,
        "application-autoscaling:DescribeScalingActivities": None},
    "window": {"cloudwatch:GetMetricStatistics": BASELINE, "rds:DescribeDBInstances": BASELINE,
               "ecs:DescribeServices": BASELINE},
    "integrity": {"cloudwatch:PutMetricData": "only with [integrity] cloudwatch = true (opt-in; the run's own "
                                              "metrics, its one write): the healthy run does not publish"},
}
"""section -> {IAM action: None when the healthy run makes the call, else why it cannot}."""

ASSUME_ROLE = ("A section with its own role_arn needs sts:AssumeRole on that role for [aws]'s credentials, and the "
               "role's trust policy must allow them (with sts:ExternalId when external_id is set).")


def compare(calls: list[dict]) -> list[str]:
    """What the recorded calls (opsproof/recording.py lines) and POLICIES disagree on, one line each: a call its
    section's policy lacks, or a policy action never called and not explained in POLICIES."""
    made: dict[str, set[str]] = {}
    for c in calls:
        if c["section"].startswith("assume-role:"):  # [aws]'s credentials assuming a section's role (ASSUME_ROLE)
            continue
        made.setdefault(c["section"], set()).add(action(c["api"], c["operation"]))
    problems = []
    for section, actions in sorted(made.items()):
        policy = POLICIES.get(section)
        if policy is None:
            problems.append(f"{section}: calls {', '.join(sorted(actions))} but has no policy in opsproof/iam.py")
            continue
        for a in sorted(actions - set(policy) - NO_PERMISSION):
            problems.append(f"{section}: calls {a}, which its policy lacks")
    for section, policy in POLICIES.items():
        for a, reason in sorted(policy.items()):
            if reason is None and a not in made.get(section, set()) and a not in NO_PERMISSION:
                problems.append(f"{section}: its policy has {a}, which no check called (remove it, or say why "
                                "the healthy run cannot call it)")
            if reason is not None and a in made.get(section, set()):
                problems.append(f"{section}: {a} was called: it is not only {reason!r}")
    return problems


def document(section: str) -> dict:
    """The IAM policy document for one section (read-only; Resource "*": narrow it to your resources)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Opsproof" + "".join(p.capitalize() for p in section.replace(".", " ").split()),
         "Effect": "Allow", "Resource": "*", "Action": sorted(POLICIES[section])}]}


def markdown() -> str:
    """The README's table of the per-section policies (tests/unit/test_iam.py keeps the README equal to it)."""
    rows = ["| Section | Actions |", "|---|---|"]
    for section, actions in POLICIES.items():
        rows.append(f"| `{section}` | " + ", ".join(f"`{a}`" for a in sorted(actions)) + " |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    sections = argv or list(POLICIES)
    unknown = [s for s in sections if s not in POLICIES]
    if unknown:
        print(f"no such section: {', '.join(unknown)} (one of: {', '.join(POLICIES)})", file=sys.stderr)
        return 2
    out = {s: document(s) for s in sections}
    print(json.dumps(out[sections[0]] if len(sections) == 1 else out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
