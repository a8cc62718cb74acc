"""EC2 instances, read-only (DescribeInstances): what other probes need to name an instance to a person.

    >>> instance_names(ec2, ["i-0abc"])
    {'i-0abc': 'gpu-worker-1'}
"""

from ..connect import aws_call


def instance_names(ec2, ids: list[str]) -> dict[str, str]:
    """Each instance's Name tag (its id when it has none); instances EC2 does not know are left out."""
    names = {}
    if not ids:
        return names
    resp = aws_call("ec2 describe-instances", ec2.describe_instances, InstanceIds=ids)
    for r in resp.get("Reservations", []):
        for inst in r.get("Instances", []):
            tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
            names[inst["InstanceId"]] = tags.get("Name", inst["InstanceId"])
    return names
