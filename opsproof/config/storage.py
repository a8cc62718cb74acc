from .base import Section


class Storage(Section):
    """S3 buckets and cross-region replication."""
