"""ListObjectsV2 that costs what it costs on S3: one page, not the whole bucket.

What moto 5.2.5 does: every ListObjectsV2 page walks, sorts and filters every key of the bucket, so listing N keys
costs O(N²/1000): 50,000 keys take half a minute, and a tool that lists two buckets at once waits on the server, not
on itself. Real S3 answers each page in about the same time whatever the bucket's size.

What this overlay adds: ListObjectsV2 without a delimiter (the recursive listing that `aws s3 ls --recursive`,
`rclone --fast-list` and the parity check make) is answered from a sorted snapshot of the bucket's key names,
bisected to the page's start: the same XML, tokens, url encoding and fields as moto's. With a delimiter, fetch-owner,
or an unknown bucket, moto answers as before. Every other S3 request passes straight to moto. No admin routes.
"""

import base64
import bisect
import urllib.parse
from xml.sax.saxutils import escape

from werkzeug.datastructures import Headers

from .overlay import Call, Overlay, Reply, handles, moto_backend

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Listing(Overlay):
    name = "s3-listing"

    @handles("s3", "*")
    def any_call(self, call: Call) -> Reply:
        q = call.query
        if (call.method != "GET" or not call.bucket or call.key or q.get("list-type") != "2" or q.get("delimiter")
                or q.get("fetch-owner", "false").lower() == "true"):
            return call.forward()
        bucket = moto_backend("s3", "aws").buckets.get(call.bucket)
        if bucket is None:
            return call.forward()
        return self.list_v2(call, bucket)

    def list_v2(self, call: Call, bucket) -> Reply:
        from moto.s3.models import FakeDeleteMarker

        q = call.query
        prefix = q.get("prefix", "")
        max_keys = int(q.get("max-keys", "1000"))
        token = q.get("continuation-token")
        start_after = q.get("start-after")
        url = q.get("encoding-type") == "url"
        store = bucket.keys
        names = sorted(store.keys())
        if token:
            after = base64.urlsafe_b64decode(token.encode()).decode()
            i = bisect.bisect_right(names, after)
        elif start_after:
            i = bisect.bisect_right(names, start_after)
        else:
            i = bisect.bisect_left(names, prefix)
        contents, last, truncated = [], None, False
        while i < len(names):
            name = names[i]
            i += 1
            if not name.startswith(prefix):
                if name > prefix:
                    break
                continue
            versions = dict.get(store, name) or []
            key = versions[-1] if versions else None
            if key is None or isinstance(key, FakeDeleteMarker):
                continue
            if len(contents) == max_keys:
                truncated = True
                break
            contents.append(key)
            last = name
        enc = (lambda s: urllib.parse.quote(s, safe="/")) if url else (lambda s: s)
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}">',
                 f"<Name>{escape(bucket.name)}</Name><Prefix>{escape(enc(prefix))}</Prefix>",
                 f"<MaxKeys>{max_keys}</MaxKeys><KeyCount>{len(contents)}</KeyCount>",
                 f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if url:
            parts.append("<EncodingType>url</EncodingType>")
        if token:
            parts.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
        if truncated and last is not None:
            nxt = base64.urlsafe_b64encode(last.encode()).decode()
            parts.append(f"<NextContinuationToken>{nxt}</NextContinuationToken>")
        if start_after and not token:
            parts.append(f"<StartAfter>{escape(enc(start_after))}</StartAfter>")
        for k in contents:
            checksum = f"<ChecksumAlgorithm>{k.checksum_algorithm}</ChecksumAlgorithm>" if getattr(
                k, "checksum_algorithm", None) else ""
            parts.append(f"<Contents><Key>{escape(enc(k.name))}</Key><LastModified>{k.last_modified_ISO8601}"
                         f"</LastModified><ETag>{escape(k.etag)}</ETag><Size>{k.size}</Size>{checksum}"
                         f"<StorageClass>{k.storage_class}</StorageClass></Contents>")
        parts.append("</ListBucketResult>")
        body = "".join(parts).encode()
        return Reply(200, Headers({"Content-Type": "application/xml", "Content-Length": str(len(body))}), body)
