"""Each ECS service runs at least its minimum: the judgement on hand-built facts, and where the minimum comes from."""

import pytest

from opsproof.config.services import Ecs
from opsproof.probes import ecs as probe


def svc(name, desired, running, status="ACTIVE"):
    return probe.ServiceState("prod-cluster", name, status, desired, running, 0, "td:1", [])


def judge(s, configured=None, scaling=None):
    return probe.minimums([s], {s.name: configured}, scaling or {})[0]


def test_scaled_to_zero_fails_against_the_default_of_one():
    m = judge(svc("worker-service", desired=0, running=0))
    assert not m.ok and (m.minimum, m.source) == (1, "default (no scalable target)")


def test_autoscaling_minimum_two_with_one_running_fails():
    m = judge(svc("backend-service", desired=1, running=1), scaling={"backend-service": 2})
    assert not m.ok and (m.minimum, m.source) == (2, "autoscaling MinCapacity")


def test_configured_minimum_overrides_autoscaling():
    s = svc("backend-service", desired=2, running=2)
    m = judge(s, configured=3, scaling={"backend-service": 1})
    assert not m.ok and (m.minimum, m.source) == (3, "services.ecs.services min_running")
    assert judge(svc("worker-service", 0, 0), configured=0, scaling={"worker-service": 1}).ok  # 0 allowed


def test_running_at_or_above_minimum_passes():
    assert judge(svc("backend-service", desired=2, running=2), scaling={"backend-service": 2}).ok
    assert judge(svc("backend-service", desired=4, running=3), scaling={"backend-service": 2}).ok
    assert judge(svc("worker-service", desired=1, running=1)).ok


def test_missing_service_runs_nothing():
    assert not judge(svc("gone-service", 0, 0, status="MISSING")).ok


def test_row_names_service_counts_and_source():
    assert judge(svc("w", 0, 0)).row() == {"service": "w", "status": "ACTIVE", "desired": 0, "running": 0,
                                           "minimum": 1, "minimum from": "default (no scalable target)"}


class FakePaginator:
    def __init__(self, pages):
        self.pages, self.calls = pages, []

    def paginate(self, **kwargs):
        self.calls.append(kwargs)
        return iter(self.pages)


class FakeAas:
    def __init__(self, pages):
        self.paginator = FakePaginator(pages)

    def get_paginator(self, name):
        assert name == "describe_scalable_targets"
        return self.paginator


def test_scaling_minimums_follows_pages_and_batches_resource_ids():
    pages = [{"ScalableTargets": [{"ResourceId": "service/c/a", "MinCapacity": 2}], "NextToken": "x"},
             {"ScalableTargets": [{"ResourceId": "service/c/b", "MinCapacity": 0},
                                  {"ResourceId": "service/c/not-asked", "MinCapacity": 9}]}]
    aas = FakeAas(pages)
    names = ["a", "b"] + [f"s{i}" for i in range(60)]
    assert probe.scaling_minimums(aas, "c", names) == {"a": 2, "b": 0}
    calls = aas.paginator.calls
    assert [len(c["ResourceIds"]) for c in calls] == [50, 12]  # the API takes at most 50 ResourceIds
    assert all(c["ServiceNamespace"] == "ecs" and c["ScalableDimension"] == "ecs:service:DesiredCount"
               for c in calls)


def test_min_running_config():
    cfg = Ecs(services=["backend-service", {"name": "worker-service", "min_running": 0}])
    assert [s.min_running for s in cfg.services] == [None, 0]
    with pytest.raises(ValueError):
        Ecs(services=[{"name": "w", "min_running": -1}])
