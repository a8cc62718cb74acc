"""Faults of the secrets area."""

from . import fault  # noqa: F401
