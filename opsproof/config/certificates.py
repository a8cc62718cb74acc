from pathlib import Path

from pydantic import PositiveInt

from .base import Section


class Endpoint(Section):
    """A live TLS endpoint: what a browser would connect to."""

    host: str
    port: PositiveInt = 443
    server_name: str | None = None
    """SNI and the name the certificate must match (defaults to host)."""


class Certificates(Section):
    endpoints: list[Endpoint] = []
    ca_file: Path | None = None
    """Verify served chains against this bundle instead of the system trust store (relative to the project)."""
    min_days_left: PositiveInt = 30
    """Fail when a certificate expires in fewer days than this (AWS Config uses 14; we warn earlier)."""
