"""The storage checks share one parity pass per run: both buckets listed once (concurrently, streamed), the
sample of source keys drawn on the way (opsproof/probes/storage.py)."""

import datetime as dt

import pytest

from opsproof import connect
from opsproof.probes import storage


@pytest.fixture(scope="session")
def buckets(env, aws):
    """(source client, source bucket, replica client, replica bucket), both buckets answering HeadBucket."""
    s = env.storage
    src = aws("s3", "storage.source")
    dst = aws("s3", "storage.replica")
    storage.reachable(src, s.source_bucket)
    storage.reachable(dst, s.replica_bucket)
    return src, s.source_bucket, dst, s.replica_bucket


@pytest.fixture(scope="session")
def survey(env, buckets):
    """The parity of the two buckets (and the sample), computed once per run."""
    s = env.storage
    _, source, _, replica = buckets
    p, smp = s.parity, s.sample
    # Clients of its own: their responses' timestamps are parsed the fast way (storage.fast_timestamps).
    src = storage.fast_timestamps(connect.aws_client(env, "s3", "storage.source"))
    dst = storage.fast_timestamps(connect.aws_client(env, "s3", "storage.replica"))
    return storage.parity(src, source, dst, replica, prefix=p.prefix, sla=dt.timedelta(minutes=p.sla_min),
                          max_culprits=p.max_culprits, page_size=p.page_size, queue_pages=p.queue_pages,
                          etag_is_md5=p.etag_is_md5, verify_max_objects=p.verify_max_objects,
                          verify_max_bytes=p.verify_bytes, sample_size=smp.size, sample_newest=smp.newest,
                          seed=smp.seed)
