"""The suite holds up against AWS's throttling (issue 11): the sandbox throttles at AWS's published rates (harder,
with a scale below 1) and a parallel run of the nightly and post-maintenance checks stays green; with no retry
budget the same throttling fails with one line naming the API, the attempts and the time waited."""

import re
import time

from sandbox.aws import admin

NO_RETRY = ("[timeouts]", "aws_attempts = 1")


def _throttled(sb) -> int:
    return admin.post(sb.endpoint_url, "throttle", {})["throttled"]


def test_parallel_gate_stays_green_under_aws_throttling(broken, sandbox, healthy):
    started = time.monotonic()
    run = broken("aws-throttling", "checks", "-n", "4", "-m", "(nightly or post_maintenance) and not destructive")
    wall = time.monotonic() - started
    throttled = _throttled(sandbox)
    print(f"throttled responses: {throttled}; wall {wall:.1f} s")
    assert throttled > 0, "the fault should have throttled some calls"
    failed = [c["nodeid"] for c in run.record["checks"] if c["outcome"] == "failed"]
    healthy_failed = [c["nodeid"] for c in healthy.record["checks"] if c["outcome"] == "failed"]
    assert sorted(failed) == sorted(healthy_failed), run.output[-4000:]


def test_throttling_past_the_budget_is_one_line(broken, sandbox, tmp_path):
    env_file = tmp_path / "no-retry.toml"
    text = sandbox.env.source.read_text()
    text = re.sub(r"(?m)^aws_attempts = \d+$", "aws_attempts = 1", text)
    env_file.write_text(text.replace('state_dir = ".sandbox"', f'state_dir = "{sandbox.dir}"'))
    from sandbox import faults, lifecycle

    with lifecycle.lock(sandbox):
        faults.apply(sandbox, "aws-throttling")
    try:
        admin.post(sandbox.endpoint_url, "throttle", {"scale": 0.01})
        from opsproof import config, connect

        env = config.load(str(env_file))
        acm = connect.aws_client(env, "acm")
        lines = []
        for _ in range(30):
            try:
                connect.aws_call("acm:ListCertificates", acm.list_certificates)
            except connect.TargetUnreachable as e:
                lines.append(str(e))
                break
    finally:
        with lifecycle.lock(sandbox):
            faults.heal(sandbox, "aws-throttling")
    assert lines and lines[0].startswith("AWS acm:ListCertificates: throttled (ThrottlingException) after 1 attempt(s)")
