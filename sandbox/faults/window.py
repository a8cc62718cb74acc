"""Faults of the window area."""

from . import fault  # noqa: F401
