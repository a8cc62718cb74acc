"""Faults of the storage area."""

from . import fault  # noqa: F401
