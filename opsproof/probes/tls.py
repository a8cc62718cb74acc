"""What a live TLS endpoint actually serves: verified against a trust store, with the certificate's facts.

    >>> c = served(Endpoint(host="127.0.0.1", port=55443, server_name="api.aifilmstudio.test"), ca_file, 3.0)
    >>> c.verified, c.days_left > 30
    (True, True)
"""

import datetime as dt
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..config import Endpoint
from ..errors import TargetUnreachable


@dataclass(frozen=True)
class Served:
    endpoint: str
    server_name: str
    subject: str
    issuer: str
    serial: str
    sha256: str
    not_after: dt.datetime
    days_left: float
    protocol: str
    verified: bool
    verify_error: str | None


def served(ep: Endpoint, ca_file: Path | None, timeout: float, now: dt.datetime | None = None) -> Served:
    """Connect, verify (chain + hostname) and describe the leaf. Verification failure is a fact, not an error."""
    name = ep.server_name or ep.host
    verify_error = None
    try:
        der, protocol = _handshake(ep, name, _context(ca_file, verify=True), timeout)
        verified = True
    except ssl.SSLCertVerificationError as e:
        verified, verify_error = False, e.verify_message or str(e)
        der, protocol = _handshake(ep, name, _context(None, verify=False), timeout)
    cert = x509.load_der_x509_certificate(der)
    now = now or dt.datetime.now(dt.timezone.utc)
    not_after = cert.not_valid_after_utc
    return Served(
        endpoint=f"{ep.host}:{ep.port}", server_name=name, subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(), serial=format(cert.serial_number, "x"),
        sha256=cert.fingerprint(hashes.SHA256()).hex(), not_after=not_after,
        days_left=round((not_after - now).total_seconds() / 86400, 1), protocol=protocol, verified=verified,
        verify_error=verify_error,
    )


def _context(ca_file: Path | None, verify: bool) -> ssl.SSLContext:
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        return ctx
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _handshake(ep: Endpoint, name: str, ctx: ssl.SSLContext, timeout: float) -> tuple[bytes, str]:
    try:
        with socket.create_connection((ep.host, ep.port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as tls:
                return tls.getpeercert(binary_form=True), tls.version() or "?"
    except ssl.SSLCertVerificationError:
        raise
    except (OSError, ssl.SSLError) as e:
        raise TargetUnreachable(f"TLS endpoint {ep.host}:{ep.port} ({name}): no handshake within {timeout:g}s "
                                f"({e.__class__.__name__}: {e})") from None
