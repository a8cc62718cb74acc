"""Faults of the capacity area."""

from . import fault  # noqa: F401
