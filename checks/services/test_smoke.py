"""Post-maintenance: 'Verify all services healthy' and 'Run smoke tests'."""

import pytest

from opsproof.probes import http

pytestmark = [pytest.mark.services]


@pytest.mark.post_maintenance
@pytest.mark.nightly
def test_api_health_answers_within_budget(env, api, evidence):
    """The API's health endpoint answers 200 within its latency budget."""
    url = str(api.base_url).rstrip("/") + api.health_path
    r = http.get(url, timeout=max(api.health_budget_s * 3, env.timeouts.connect_s))
    evidence.table("health", [r])
    assert r.status == 200, f"{url} answered {r.status}: {r.body[:120]}"
    assert r.elapsed_s <= api.health_budget_s, (
        f"{url} took {r.elapsed_s:.2f}s, over its budget of {api.health_budget_s:g}s (services.api.health_budget_s)"
    )
