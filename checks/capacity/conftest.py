"""The capacity checks' shared reads: every configured metric is fetched once per run and period (one batched
GetMetricData), not once per check."""

import pytest

from opsproof import capacity


@pytest.fixture(scope="session")
def monthly_review(env, aws) -> capacity.Review:
    """Every [capacity.metrics] metric over the last capacity.lookback_days days, analysed (trend, thresholds)."""
    return capacity.Review.read(env, aws, env.capacity.lookback_days)


@pytest.fixture(scope="session")
def quarterly_review(env, aws) -> capacity.Review:
    """The same over capacity.quarterly.lookback_days (the quarterly deep analysis)."""
    return capacity.Review.read(env, aws, env.capacity.quarterly.lookback_days)
