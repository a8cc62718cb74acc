"""Faults of the infrastructure area."""

from . import fault  # noqa: F401
