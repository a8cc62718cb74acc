"""The [storage] section: the runbook's "S3 Data Integrity Check" (prod bucket → DR bucket cross-region replication),
with every threshold's default.

    [storage]
    source_bucket = "ai-film-studio-media-prod"
    replica_bucket = "ai-film-studio-media-dr-usw2"
    [storage.parity]
    sla_min = 15                      # S3 Replication Time Control's 15 minutes
"""

import re
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from .base import Section
from .target import AccountId, AwsTarget, RoleArn, check_credentials

_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}


def _bytes(value: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?[bB])?\s*", str(value))
    if not m:
        raise ValueError(f"not a size: {value!r} (write it like 64MB)")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])


class Replication(Section):
    """What the replication configuration of the source bucket must say."""

    rule_id: str | None = None
    """The rule that must be Enabled and point at the replica bucket (unset: any rule that does)."""
    delete_marker_replication: Literal["Enabled", "Disabled"] | None = "Enabled"
    """What the rule's DeleteMarkerReplication must be (unset: either). Enabled keeps deletions in step; with
    Disabled the DR bucket keeps deleted objects, and parity reports them as extra without failing."""
    require_other_region: bool = True
    """The replica bucket must be in another region than the source (cross-region, not same-region, replication),
    and in [storage] replica_region."""


class Parity(Section):
    """Object parity: a streaming merge of both buckets' sorted listings, fetched concurrently."""

    prefix: str = ""
    """Compare only keys under this prefix (the replication rule's filter, if it has one)."""
    sla_min: PositiveFloat = 15.0
    """Objects younger than this are reported as pending, not as failures (S3 Replication Time Control replicates
    99.99% of objects within 15 minutes)."""
    max_culprits: PositiveInt = 20
    """The first N culprits by key of each kind go into the message and evidence; counts are always complete."""
    page_size: int = Field(1000, ge=1, le=1000)
    """ListObjectsV2 MaxKeys (1000 is S3's maximum)."""
    queue_pages: PositiveInt = 4
    """Pages of each listing buffered ahead of the merge: memory is this × page_size objects, whatever the
    buckets' sizes."""
    etag_is_md5: Literal["auto", "never"] = "auto"
    """auto: an ETag without '-N' in a bucket without SSE-KMS default encryption is the content's MD5, so differing
    ETags mean differing content. never: treat every ETag as opaque (objects written with SSE-KMS or SSE-C)."""
    verify_max_objects: NonNegativeInt = 50
    """Objects whose ETags cannot be compared (multipart, SSE-KMS) are verified by their additional checksums
    (HeadObject ChecksumMode=ENABLED) or, lacking those, by downloading both copies: at most this many per run;
    the rest are counted as unverified."""
    verify_max_bytes: str = "256MB"
    """...and at most this many bytes downloaded per run."""
    allow_extra: bool = False
    """Objects in the replica bucket that the source no longer has are failures unless this is set (set it when
    delete marker replication is Disabled on purpose)."""

    @field_validator("verify_max_bytes")
    @classmethod
    def _size(cls, v):
        _bytes(v)
        return v

    @property
    def verify_bytes(self) -> int:
        return _bytes(self.verify_max_bytes)


class Sample(Section):
    """The per-object checks (replication status, metadata) look at a sample of the source's keys, drawn during the
    parity listing: a uniform random sample plus the newest objects (where replication breaks first)."""

    size: NonNegativeInt = 100
    """Uniformly random keys (reservoir sampling: memory independent of the bucket's size)."""
    newest: NonNegativeInt = 20
    """The newest keys by LastModified, in addition."""
    seed: int | None = None
    """Fix the random sample (unset: a new sample every run)."""
    workers: PositiveInt = 8
    """HeadObject calls in flight at once."""


class Inventory(AwsTarget):
    """For buckets too large to list in a window: S3 Inventory reports of both buckets, diffed with DuckDB here (or
    the same SQL on Athena; docs/backups.md)."""

    bucket: str
    """Where S3 Inventory delivers the reports of both buckets."""
    prefix: str = "inventory"
    """The inventory configurations' destination prefix: reports are under <prefix>/<bucket>/<config_id>/."""
    source_config_id: str = "daily"
    replica_config_id: str = "daily"
    max_age_h: PositiveFloat = 48.0
    """The newest report of each bucket must be younger than this (inventories are daily)."""
    max_files: PositiveInt = 1000
    """At most this many data files per report are read."""


class Storage(Section):
    """S3 buckets and cross-region replication (the runbook's prod bucket → DR bucket)."""

    source_bucket: str = "ai-film-studio-media-prod"
    source_region: str | None = None
    """Default: [aws] region."""
    source_profile: str | None = None
    source_role_arn: RoleArn | None = None
    source_external_id: str | None = None
    source_account_id: AccountId | None = None
    """The source bucket's credentials and account (default: [aws]'s), as any section's region/profile/role_arn/
    external_id/account_id."""
    replica_bucket: str = "ai-film-studio-media-dr-usw2"
    replica_region: str = "us-west-2"
    replica_profile: str | None = None
    replica_role_arn: RoleArn | None = None
    replica_external_id: str | None = None
    replica_account_id: AccountId | None = None
    """The DR bucket's credentials and account: a DR bucket in another account names the role to read it with
    (replica_role_arn) and that account (replica_account_id); default: [aws]'s."""
    replication: Replication = Replication()
    parity: Parity = Parity()
    sample: Sample = Sample()
    inventory: Inventory | None = None
    """Set to diff S3 Inventory reports (nightly) in addition to, or instead of, listing the buckets."""
    list_parity: bool = True
    """Run the listing parity (turn off for buckets too large to list, and use [storage.inventory])."""

    @model_validator(mode="after")
    def _one_way_each_side(self):
        check_credentials(self, "source_")
        check_credentials(self, "replica_")
        return self
