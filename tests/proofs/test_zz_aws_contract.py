"""The AWS contract of the proof runs: every next page is read, every response fits its operation's output shape,
and every paginated operation the suite calls crosses a page boundary on the sandbox.

Every check run the proofs make records its AWS responses (tests/conftest.py sets OPSPROOF_RECORD_CALLS;
opsproof/recording.py writes one JSON line per call). The healthy run (every non-destructive check) is the one
judged on paging: it is a session fixture, so these tests see it whatever ran before them. The shapes of the
broken runs' responses are judged too, for the runs made before this module: it is named ``test_zz_`` to come last
in CI's serial run (pytest collects ``tests/proofs`` in name order); run alone, it judges the healthy run only.

Named at the end of the run: each operation, how many listings it made and the most pages one of them took.
"""

import json

from opsproof import recording

ONE_PAGE_ON_PURPOSE = {
    ("application-auto-scaling", "DescribeScalingActivities"):
        "capacity.scaling_activities reads newest first and stops at the first page reaching back past its window",
}
"""Listings that stop before the last page on purpose: (service, operation) -> why."""

ONE_PAGE_BY_CONSTRUCTION = {
    ("acm", "ListCertificates"): "the listing filtered by key types holds 2 or fewer: one page of 2; botocore's "
                           "paginator reads the rest",
    ("cloudfront", "ListDistributions"): "one distribution; moto pages at MaxItems 100 (AWS's default)",
    ("cloudwatch", "GetMetricData"): "pages by datapoints (100,800 by default); crossed in tests/unit (cloudwatch)",
    ("ec2", "DescribeInstances"): "asked by instance ids or filters without MaxResults: AWS answers all at once",
    ("ecr", "DescribeImageScanFindings"): "a handful of findings an image against AWS's page of 100",
    ("ecr", "DescribeImages"): "asked by imageIds (AWS answers those at once) or one image per tag",
    ("elastic-load-balancing-v2", "DescribeLoadBalancers"): "asked by name: one load balancer",
    ("elastic-load-balancing-v2", "DescribeTargetGroups"): "asked by name: one target group",
    ("elastic-load-balancing-v2", "DescribeSSLPolicies"): "asked by name: one policy",
    ("elastic-load-balancing-v2", "DescribeListenerCertificates"): "a listener's 2 certificates: one page of 2 (the "
                                                                   "sandbox's page); pages of 1 in tests/unit",
    ("elastic-load-balancing-v2", "DescribeListeners"): "2 listeners: one page of 2 (the sandbox's page); "
                                                        "pages of 1 in tests/unit/test_aws_paging.py",
    ("application-auto-scaling", "DescribeScalableTargets"): "asked by ResourceIds: one target each",
    ("rds", "DescribeDBInstances"): "asked by DBInstanceIdentifier: one instance",
    ("ssm", "DescribeInstanceInformation"): "asked by the patch group's 2 instance ids (the 11-host fleet is in "
                                            "another group); crossed in tests/unit/test_aws_page_limits.py",
    ("ssm", "DescribeInstancePatchStatesForPatchGroup"): "2 GPU workers against a page of 50",
    ("ssm", "DescribeMaintenanceWindows"): "asked by name: one window",
    ("ssm", "DescribePatchBaselines"): "asked by name: one baseline",
}
"""Paginated operations whose healthy listings fit one AWS page by construction: (service, operation) -> why.
A named lookup of one resource cannot cross a page; a short listing against a page of hundreds is crossed in a unit
test instead, where the probe's client asks for small pages."""

KNOWN_SHAPE_GAPS = {
    ("GetMetricData", "Timestamps"): "probes/cloudwatch.py parses Timestamps as raw epoch numbers on purpose (speed)",
    ("DescribeScalableTargets", ".RoleARN: required"): "moto 5.2.5 leaves RoleARN out of ScalableTarget",
    ("ListDistributions", ".Staging: required"): "moto 5.2.5 leaves Staging out of DistributionSummary",
}
"""(operation, text in the violation) -> why a response outside its output shape is tolerated."""


def _healthy_lines(healthy) -> list[dict]:
    lines = recording.read(healthy.out / "aws-calls.jsonl")
    assert lines, f"the healthy run recorded no AWS call (is OPSPROOF_RECORD_CALLS passed on?)\n{healthy.output[-2000:]}"
    return lines


def test_every_next_page_is_read(healthy):
    unread = [c for c in recording.listings(_healthy_lines(healthy))
              if c["unfollowed"] and (c["service"], c["operation"]) not in ONE_PAGE_ON_PURPOSE]
    assert not unread, "next page never requested: " + "; ".join(
        f"{c['service']} {c['operation']} after page {c['pages']}" for c in unread)


def test_responses_fit_their_output_shapes(healthy, tmp_path_factory):
    # the healthy run's, then every broken run's this process made so far (each pytester run records in its folder)
    lines = _healthy_lines(healthy) + [line for f in sorted(tmp_path_factory.getbasetemp().rglob("aws-calls.jsonl"))
                                       if f.parent != healthy.out for line in recording.read(f)]
    bad = sorted({f"{line['service']} {line['operation']}: {v}" for line in lines for v in line["violations"]
                  if not any(op == line["operation"] and text in v for op, text in KNOWN_SHAPE_GAPS)})
    assert not bad, f"{len(bad)} responses outside botocore's output shapes:\n" + "\n".join(bad[:40])


def test_every_paginated_operation_crosses_a_page(healthy, capsys):
    table = recording.pages_by_operation(_healthy_lines(healthy))
    with capsys.disabled():
        print("\nAWS paging in the healthy run (operation: listings, most pages, calls):")
        for (service, op), row in sorted(table.items()):
            print(f"  {service} {op}: {row['listings']} listings, {row['max_pages']} pages at most, "
                  f"{row['calls']} calls")
    single = [f"{s} {o}" for (s, o), row in sorted(table.items())
              if row["max_pages"] < 2 and (s, o) not in ONE_PAGE_BY_CONSTRUCTION]
    assert not single, f"one page only (seed more, or say why in ONE_PAGE_BY_CONSTRUCTION): {single}"


def test_the_recorder_links_pages_and_checks_shapes():
    """The recorder's own logic, without AWS: tokens link pages per client; shapes catch missing and mistyped
    members and enum values outside the model."""
    import botocore.session

    a = {"pid": 1, "client": 7, "service": "rds", "operation": "DescribeDBSnapshots", "paginated": True,
         "error": None, "in_token": None, "out_token": ["m1"], "violations": []}
    b = {**a, "in_token": ["m1"], "out_token": None}
    other_client = {**a, "client": 8, "in_token": ["m1"], "out_token": None}
    assert [c["pages"] for c in recording.listings([a, b])] == [2]
    assert [bool(c["unfollowed"]) for c in recording.listings([a, other_client])] == [True, False]
    model = botocore.session.get_session().get_service_model("rds").operation_model("DescribeDBSnapshots")
    found = recording.violations(model.output_shape, {"DBSnapshots": [{"AllocatedStorage": "20", "Status": "x"}],
                                                      "Marker": 3})
    assert any("AllocatedStorage: str" in v for v in found) and any("Marker: int" in v for v in found), found
    ssm = botocore.session.get_session().get_service_model("ssm").operation_model("DescribeInstanceInformation")
    found = recording.violations(ssm.output_shape, {"InstanceInformationList": [{"PingStatus": "Sleepy"}]})
    assert found == ["$.InstanceInformationList[0].PingStatus: 'Sleepy' is not one of PingStatus's values"], found
    ecs = botocore.session.get_session().get_service_model("ecs").operation_model("DescribeServices")
    assert recording.violations(ecs.output_shape, {"services": [{"deployments": [{"rolloutState": "FAILED"}]}]}) \
        == []
    assert json.dumps(recording.paging_config("rds", "2014-10-31", "DescribeDBSnapshots")) == json.dumps(
        {"input": ["Marker"], "output": ["Marker"], "more": None, "limit": "MaxRecords", "result": ["DBSnapshots"]})
