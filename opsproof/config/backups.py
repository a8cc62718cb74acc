from .base import Section


class Backups(Section):
    """Backup validation (snapshots, restore drill) thresholds."""
