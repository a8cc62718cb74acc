"""Post-maintenance: 'Verify all services healthy' and 'Run smoke tests' against the product's API.

The smoke requests ([services.smoke] requests) run once per module: a wrong answer is retried for eventually_s
(services settling after a deploy), then each request is sampled `samples` times for its p95 latency, which is
recorded as the metric smoke.<name>.p95_ms for the before/after comparison.
"""

import pytest

from opsproof import findings
from opsproof.probes import http, smoke
from opsproof.rules import services as rules

pytestmark = [pytest.mark.services]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_api_health_answers_within_budget(env, api, evidence):
    """The API's health endpoint answers 200 within its latency budget."""
    url = str(api.base_url).rstrip("/") + api.health_path
    r = http.get(url, timeout=max(api.health_budget_s * 3, env.timeouts.connect_s))
    evidence.table("health", [r])
    findings.expect_no_alarm(rules.health(r, api), evidence)


@pytest.fixture(scope="module")
def smoke_results(env, api):
    if not env.services.smoke.requests:
        pytest.skip(f"{env.file} has no [services.smoke] requests")
    return smoke.run(api, env.services.smoke, env.timeouts)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_smoke_requests_answer_as_expected(env, smoke_results, evidence):
    """Run smoke tests: every configured request answers its expected status and body fragment (retried while
    the services settle, up to services.smoke.eventually_s)."""
    evidence.table("smoke tests", [r.row() for r in smoke_results])
    findings.expect_no_alarm(rules.smoke_answers(smoke_results, env.services.smoke), evidence)


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_smoke_p95_latency_within_budget(env, smoke_results, evidence):
    """Each smoke test's p95 latency over services.smoke.samples requests is within its budget (budget_s)."""
    metrics = {f"smoke.{r.name}.p95_ms": r.p95_ms for r in smoke_results if r.p95_ms is not None}
    evidence.json("metrics", metrics)
    evidence.table("latency", [{"request": r.name, "p95_ms": r.p95_ms, "max_ms": r.max_ms, "budget_ms": r.budget_ms,
                                "samples": len(r.samples_ms)} for r in smoke_results])
    findings.expect_no_alarm(rules.smoke_latency(smoke_results, env.services.smoke), evidence)
