"""What a live TLS endpoint actually serves, measured the way a browser meets it: chain, name, protocol, dates.

    >>> ep = Endpoint(host="127.0.0.1", port=15443, server_name="api.aifilmstudio.test")
    >>> c = served(ep, ca_file, 3.0)
    >>> c.verified, c.days_left > 30, c.protocol
    (True, True, 'TLSv1.3')
    >>> [s.endpoint for s in probe_many([ep, ep2], ca_file, 3.0) if not s.hostname_ok]   # concurrently
    []

Each endpoint costs one handshake that verifies the chain against the trust store (the system's, or a configured
CA bundle) with expiry left out, so that trust, name and dates are judged separately; a second handshake offers
only the protocols below the minimum to learn whether the endpoint still accepts them (what sslscan reports). A
certificate that fails verification is still read (an unverified handshake) and described: a failed check is a
fact to report, not an error. Only an endpoint that does not answer is an error (``error``; ``served`` raises
TargetUnreachable for it).
"""

import datetime as dt
import ipaddress
import socket
import ssl
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..config import Endpoint
from ..config.certificates import TLS_VERSIONS
from ..errors import TargetUnreachable

_NO_CHECK_TIME = 0x200000
"""OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify the chain without judging dates (days left are judged apart)."""

_SSL_VERSIONS = {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1_1", "TLSv1.2": "TLSv1_2", "TLSv1.3": "TLSv1_3"}


@dataclass(frozen=True)
class Served:
    endpoint: str
    server_name: str
    subject: str = ""
    issuer: str = ""
    serial: str = ""
    """Hexadecimal, without separators (compare with serial_matches)."""
    sha256: str = ""
    not_after: dt.datetime | None = None
    days_left: float = 0.0
    protocol: str = ""
    """Negotiated with a client that offers every protocol: the best the endpoint speaks."""
    verified: bool = False
    """Chain trusted, name matching and not expired: what a browser accepts."""
    verify_error: str | None = None
    names: tuple[str, ...] = ()
    """Subject alternative names (DNS names and IP addresses)."""
    hostname_ok: bool = False
    chain_trusted: bool = False
    """The chain leads to the trust store (dates aside)."""
    chain_error: str | None = None
    old_protocol: str | None = None
    """The newest protocol below the minimum that the endpoint still accepted, if any."""
    error: str | None = None
    """The endpoint did not answer (then nothing else is known)."""
    elapsed_ms: float = 0.0

    @property
    def reachable(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Handshake:
    der: bytes
    protocol: str


def served(ep: Endpoint, ca_file: Path | None, timeout: float, now: dt.datetime | None = None,
           min_version: str = "TLSv1.2") -> Served:
    """Connect, verify (chain + hostname) and describe the leaf; an endpoint that does not answer raises
    TargetUnreachable. Verification failure is a fact, not an error."""
    s = probe(ep, ca_file, timeout, now=now, min_version=min_version)
    if s.error:
        raise TargetUnreachable(s.error)
    return s


def probe_many(endpoints: list[Endpoint], ca_file: Path | None, timeout: float, *, concurrency: int = 32,
               min_version: str = "TLSv1.2", now: dt.datetime | None = None) -> list[Served]:
    """Probe every endpoint at once (a pool of `concurrency` threads); results in the order given. A dead endpoint
    costs at most `timeout` per handshake and never stops the others."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(concurrency, len(endpoints)), thread_name_prefix="tls-probe") as pool:
        return list(pool.map(lambda ep: probe(ep, ca_file, timeout, now=now, min_version=min_version), endpoints))


def probe(ep: Endpoint, ca_file: Path | None, timeout: float, *, now: dt.datetime | None = None,
          min_version: str = "TLSv1.2") -> Served:
    """Everything one endpoint shows a client; never raises for the endpoint's faults."""
    t0 = time.monotonic()
    name = ep.name
    where = f"{ep.host}:{ep.port}"
    now = now or dt.datetime.now(dt.timezone.utc)
    chain_error = None
    try:
        try:
            hs = _handshake(ep, name, _verifying_context(ca_file), timeout)
            trusted = True
        except ssl.SSLCertVerificationError as e:
            trusted, chain_error = False, e.verify_message or str(e)
            hs = _handshake(ep, name, _lenient_context(), timeout)
        except ssl.SSLError as e:
            # No handshake a modern client accepts (an old protocol only, say): describe it all the same.
            trusted, chain_error = False, f"not verified: no TLS 1.2+ handshake ({e.reason or e})"
            hs = _handshake(ep, name, _lenient_context(), timeout)
        old = None
        if _rank(hs.protocol) >= _rank(min_version):
            old = _accepts_below(ep, name, min_version, timeout)
    except (OSError, ssl.SSLError) as e:
        return Served(endpoint=where, server_name=name, error=f"TLS endpoint {where} ({name}): no handshake within "
                      f"{timeout:g}s ({e.__class__.__name__}: {e})", elapsed_ms=_ms(t0))
    cert = x509.load_der_x509_certificate(hs.der)
    names = _names(cert)
    hostname_ok = matches(name, names)
    not_after = cert.not_valid_after_utc
    days_left = round((not_after - now).total_seconds() / 86400, 1)
    problems = [p for p in (chain_error, None if hostname_ok else f"name {name} not in {', '.join(names) or '-'}",
                            "certificate has expired" if days_left < 0 else None) if p]
    return Served(
        endpoint=where, server_name=name, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"), sha256=cert.fingerprint(hashes.SHA256()).hex(), not_after=not_after,
        days_left=days_left, protocol=hs.protocol, verified=not problems, verify_error="; ".join(problems) or None,
        names=tuple(names), hostname_ok=hostname_ok, chain_trusted=trusted, chain_error=chain_error,
        old_protocol=old, elapsed_ms=_ms(t0),
    )


# ---- names ---------------------------------------------------------------------------------------------------------
def matches(name: str, names: list[str] | tuple[str, ...]) -> bool:
    """RFC 6125 matching of a host name (or IP address) against a certificate's names: a wildcard stands for
    exactly one whole left-most label.

    >>> matches("api.example.com", ["*.example.com"]), matches("a.b.example.com", ["*.example.com"])
    (True, False)
    >>> matches("127.0.0.1", ["127.0.0.1"]), matches("API.Example.com.", ["api.example.com"])
    (True, True)
    """
    host = name.strip().rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for n in names:
        n = n.strip().rstrip(".").lower()
        if ip is not None:
            try:
                if ipaddress.ip_address(n) == ip:
                    return True
            except ValueError:
                pass
            continue
        if n == host:
            return True
        if n.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == n[2:] and rest.count(".") >= 1:
                return True
    return False


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return [str(cn[0].value)] if cn else []  # legacy: no SAN, the CN (browsers refuse this; we report it)
    return [str(v) for v in san.get_values_for_type(x509.DNSName)] + \
        [str(v) for v in san.get_values_for_type(x509.IPAddress)]


def serial_matches(served_hex: str, acm_serial: str) -> bool:
    """Compare a served serial (hex) with ACM's: real ACM writes "0a:1b:..." (hex), moto a decimal number.

    >>> serial_matches("a1b", "0a:1b"), serial_matches("ff", "255"), serial_matches("ff", "fe")
    (True, True, False)
    """
    want = int(served_hex, 16)
    s = acm_serial.strip().lower()
    if ":" in s or any(c in "abcdef" for c in s):
        return int(s.replace(":", ""), 16) == want
    return int(s) == want or int(s, 16) == want


def at_least(protocol: str, floor: str) -> bool:
    """Whether a negotiated protocol is floor or newer.

    >>> at_least("TLSv1.3", "TLSv1.2"), at_least("TLSv1.1", "TLSv1.2"), at_least("?", "TLSv1.2")
    (True, False, False)
    """
    return _rank(protocol) >= _rank(floor) >= 0


# ---- handshakes ----------------------------------------------------------------------------------------------------
def _rank(version: str) -> int:
    return TLS_VERSIONS.index(version) if version in TLS_VERSIONS else -1


def _verifying_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    ctx.check_hostname = False  # judged apart (matches), so a wrong name and an untrusted chain are told apart
    ctx.verify_flags |= _NO_CHECK_TIME
    return ctx


def _lenient_context(max_version: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1: we ask on purpose
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        if max_version:
            ctx.maximum_version = getattr(ssl.TLSVersion, _SSL_VERSIONS[max_version])
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def _accepts_below(ep: Endpoint, name: str, min_version: str, timeout: float) -> str | None:
    """The newest protocol older than min_version the endpoint accepts, or None when it refuses them all."""
    below = [v for v in TLS_VERSIONS if v in _SSL_VERSIONS and _rank(v) < _rank(min_version)]
    if not below:
        return None
    try:
        return _handshake(ep, name, _lenient_context(max_version=below[-1]), timeout).protocol
    except ssl.SSLError:
        return None
    except OSError:
        return None  # a refusal may close the connection abruptly


def _handshake(ep: Endpoint, name: str, ctx: ssl.SSLContext, timeout: float) -> _Handshake:
    sni = None if _is_ip(name) else name
    with socket.create_connection((ep.host, ep.port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        with ctx.wrap_socket(raw, server_hostname=sni) as tls:
            return _Handshake(tls.getpeercert(binary_form=True), tls.version() or "?")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000, 1)


__all__ = ["Served", "at_least", "matches", "probe", "probe_many", "serial_matches", "served"]
