"""The sandbox's TLS material: a throwaway CA (trustme) and the leaf certificates the endpoints serve and ACM holds.

Files in <state>/tls/: ca.pem; for each leaf NAME: NAME.pem (leaf + chain) and NAME.key.
"""

import datetime as dt
from pathlib import Path

import trustme

LEAVES = {
    # name: the hostnames it covers. "api" is served by the TLS endpoint and imported into ACM for the ALB;
    # "cdn" is imported into ACM for the CloudFront distribution.
    "api": ["api.aifilmstudio.test", "127.0.0.1"],
    "cdn": ["cdn.aifilmstudio.test"],
}
VALID_DAYS = 365


def ensure(tls_dir: Path) -> trustme.CA:
    """Create the CA and healthy leaves once; later calls reuse them."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = tls_dir / "ca.pem", tls_dir / "ca.key"
    if ca_cert.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="opsproof sandbox CA")
        ca.cert_pem.write_to_path(str(ca_cert))
        ca.private_key_pem.write_to_path(str(ca_key))
    for name, hosts in LEAVES.items():
        if not (tls_dir / f"{name}.pem").exists():
            issue(ca, tls_dir, name, hosts)
    return ca


def issue(ca: trustme.CA, tls_dir: Path, name: str, hosts: list[str], *, not_before: dt.datetime | None = None,
          not_after: dt.datetime | None = None) -> Path:
    """Issue a leaf NAME for hosts, valid from not_before (default now) to not_after (default +365 days)."""
    now = dt.datetime.now(dt.timezone.utc)
    not_before = not_before or now - dt.timedelta(hours=1)
    not_after = not_after or now + dt.timedelta(days=VALID_DAYS)
    leaf = ca.issue_cert(*hosts, common_name=hosts[0], not_before=not_before, not_after=not_after)
    pem = tls_dir / f"{name}.pem"
    pem.write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
    (tls_dir / f"{name}.key").write_bytes(leaf.private_key_pem.bytes())
    return pem


def leaf_cert_pem(tls_dir: Path, name: str) -> bytes:
    """Only the leaf (first PEM block) of NAME.pem: what ACM's ImportCertificate takes as Certificate."""
    data = (tls_dir / f"{name}.pem").read_bytes()
    end = b"-----END CERTIFICATE-----"
    return data[: data.index(end) + len(end)] + b"\n"


def chain_pem(tls_dir: Path, name: str) -> bytes:
    data = (tls_dir / f"{name}.pem").read_bytes()
    end = b"-----END CERTIFICATE-----"
    return data[data.index(end) + len(end):].lstrip()
