from pydantic import HttpUrl, PositiveFloat

from .base import Section


class Api(Section):
    """The product's API, for smoke tests."""

    base_url: HttpUrl
    health_path: str = "/health"
    health_budget_s: PositiveFloat = 1.0
    """The health endpoint must answer within this."""


class Services(Section):
    api: Api | None = None
