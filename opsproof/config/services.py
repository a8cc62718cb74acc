"""The [services] section: the product's API and its smoke tests, ECS services, load balancer target groups and
CloudWatch alarms (runbook: post-maintenance "Verify all services healthy", "Run smoke tests", "Check monitoring
dashboards (30 minutes)"; "Container Image Updates": `aws ecs update-service --force-new-deployment`)."""

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, HttpUrl, NonNegativeFloat, PositiveFloat, field_validator, \
    model_validator

from .base import Section
from .target import AwsTarget
from .window import PositiveDuration


class Api(Section):
    """The product's API, for smoke tests."""

    base_url: HttpUrl
    health_path: str = "/health"
    health_budget_s: PositiveFloat = 1.0
    """The health endpoint must answer within this."""


# ---- smoke tests -----------------------------------------------------------------------------------------------------
class SmokeRequest(Section):
    """One smoke test: a request against the API and what its answer must look like."""

    name: str
    """Names the request in evidence and failure messages (and the p95 metric smoke.<name>.p95_ms)."""
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    path: str
    """Under services.api.base_url, starting with '/'."""
    status: Annotated[int, Field(ge=100, le=599)] = 200
    """The expected HTTP status."""
    contains: str | None = None
    """A fragment the body must contain (plain text, case-sensitive)."""
    budget_s: PositiveFloat = 1.0
    """Latency budget: the p95 over services.smoke.samples requests must stay within it."""
    json_body: dict | list | None = None
    """A JSON body to send (POST/PUT/PATCH)."""
    headers: dict[str, str] = {}
    """Plain headers (never a credential: use headers_env)."""
    headers_env: dict[str, str] = {}
    """Header name -> environment variable holding its value (a token); the value never reaches a report."""

    @field_validator("path")
    @classmethod
    def _path(cls, v):
        if not v.startswith("/"):
            raise ValueError(f"must start with '/' (got {v!r})")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", v):
            raise ValueError(f"use letters, digits, '_', '.', '-' only (got {v!r})")
        return v


class Smoke(Section):
    """The runbook's "Run smoke tests": every request answers as expected, within its latency budget."""

    requests: list[SmokeRequest] = []
    samples: Annotated[int, Field(ge=1, le=1000)] = 20
    """Requests per smoke test for its p95 latency (nearest rank)."""
    eventually_s: NonNegativeFloat = 60.0
    """A request that does not answer as expected is retried this long (services still settling after a deploy);
    0: one attempt."""
    retry_every_s: PositiveFloat = 2.0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    """Smoke tests run this many at a time (each test's own samples run one after another)."""

    @model_validator(mode="after")
    def _unique(self):
        names = [r.name for r in self.requests]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"smoke request names must be unique (twice: {', '.join(dupes)})")
        return self


# ---- ECS -------------------------------------------------------------------------------------------------------------
class EcsService(Section):
    name: str
    image: str | None = None
    """The image this service must run after a deploy, as repository:tag (e.g. 'backend:v1.2.0'); overrides
    services.ecs.expected_tag for this service."""
    min_running: Annotated[int, Field(ge=0)] | None = None
    """The fewest tasks this service may run (a worker scaled to 0 runs all it is asked to, and nothing); unset:
    its Application Auto Scaling MinCapacity, else 1."""


def _service(v):
    return {"name": v} if isinstance(v, str) else v


class Ecs(Section):
    """ECS services that must be steady: rollout finished, running = desired, the expected image."""

    cluster: str = "prod-cluster"
    services: list[Annotated[EcsService, BeforeValidator(_service)]] = []
    """Service names, or tables {name = "...", image = "backend:v1.2.0", min_running = 2}."""
    expected_tag: str | None = None
    """The image tag every service's containers must run after a deploy (e.g. 'v1.2.0'); unset: not checked."""
    settle_s: NonNegativeFloat = 0.0
    """Rollout and running-count checks wait up to this long for a deployment still in progress (0: look once)."""
    settle_every_s: PositiveFloat = 10.0
    rollback_lookback: PositiveDuration = dt.timedelta(hours=24)
    """A circuit-breaker rollback in a service's events newer than this fails (a rollback is a failed deploy even
    once the old tasks run again)."""
    deploy_timeout_s: PositiveFloat = 900.0
    """force-deploy waits at most this long for the new deployment to complete (ECS's own default is 10 min for a
    healthy rollout)."""
    deploy_poll_s: PositiveFloat = 10.0


# ---- load balancers --------------------------------------------------------------------------------------------------
class LoadBalancing(Section):
    target_groups: list[str] = []
    """Target group names (or ARNs) whose every registered target must be healthy."""
    min_targets: Annotated[int, Field(ge=0)] = 1
    """A target group with fewer registered targets than this fails (an empty group serves nothing); draining
    targets do not count."""
    settle_s: NonNegativeFloat = 330.0
    """Targets draining (deregistration delay: AWS's default is 300 s) or registering (initial) are waited for this
    long before they fail (0: look once)."""
    settle_every_s: PositiveFloat = 10.0


# ---- monitoring ------------------------------------------------------------------------------------------------------
class Monitoring(Section):
    """CloudWatch alarms (runbook: 'Check monitoring dashboards (30 minutes)')."""

    alarms: list[str] = []
    """Alarm names that must not be in ALARM."""
    alarm_prefixes: list[str] = []
    """...and every alarm whose name starts with one of these."""
    insufficient_data_fails: list[str] = []
    """Alarms (names, or '*' for all) for which INSUFFICIENT_DATA fails too (a metric that stopped reporting)."""
    watch: PositiveDuration = dt.timedelta(minutes=30)
    """How long `--watch` watches when given without a duration (runbook: 30 minutes)."""
    watch_every_s: PositiveFloat = 60.0
    """Poll interval while watching."""

    @model_validator(mode="after")
    def _some(self):
        if self.insufficient_data_fails and not (self.alarms or self.alarm_prefixes):
            raise ValueError("insufficient_data_fails needs alarms or alarm_prefixes")
        return self


class Services(AwsTarget):
    api: Api | None = None
    smoke: Smoke = Smoke()
    ecs: Ecs | None = None
    load_balancing: LoadBalancing = LoadBalancing()
    monitoring: Monitoring = Monitoring()
