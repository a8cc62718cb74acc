"""Faults of the backups area."""

from . import fault  # noqa: F401
