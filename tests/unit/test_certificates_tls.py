"""The TLS probe against real listeners broken in known ways (sandbox/tls_listeners.py): each fault is told apart
from the others, endpoints are probed concurrently, and a dead one costs nothing but its own line."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsproof import ROOT
from opsproof.config import Endpoint
from opsproof.errors import TargetUnreachable
from opsproof.probes import tls

BASE = 61810  # inside the security work's private port range (61000-61999)


@pytest.fixture(scope="module")
def listeners(tmp_path_factory):
    folder = tmp_path_factory.mktemp("listeners")
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.tls_listeners", "--dir", str(folder), "--base-port",
                             str(BASE), "--count", "10"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            if (folder / "listeners.json").exists():
                entries = json.loads((folder / "listeners.json").read_text())
                try:
                    tls.probe(Endpoint(host="127.0.0.1", port=entries[-1]["port"]), None, 1)
                    if not tls.probe(Endpoint(host="127.0.0.1", port=entries[-1]["port"]), None, 1).error:
                        break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                pytest.fail("tls listeners did not start")
            time.sleep(0.1)
        yield {e["kind"]: e for e in entries}, folder / "ca.pem"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def probe(listeners, kind, **kw):
    entries, ca = listeners
    e = entries[kind]
    return tls.probe(Endpoint(host="127.0.0.1", port=e["port"], server_name=e["server_name"]), ca, 3, **kw)


def test_healthy_endpoint(listeners):
    s = probe(listeners, "healthy")
    assert (s.chain_trusted, s.hostname_ok, s.verified, s.protocol, s.old_protocol) == (True, True, True, "TLSv1.3",
                                                                                         None)
    assert s.days_left > 300 and len(s.sha256) == 64 and s.names == (s.server_name,)


def test_each_fault_is_told_apart(listeners):
    expired = probe(listeners, "expired")
    assert expired.days_left < 0 and expired.chain_trusted and expired.hostname_ok  # trust judged without dates
    assert "expired" in expired.verify_error
    wrong = probe(listeners, "wrong-name")
    assert wrong.chain_trusted and not wrong.hostname_ok and wrong.names == ("www.example.test",)
    untrusted = probe(listeners, "untrusted")
    assert not untrusted.chain_trusted and untrusted.hostname_ok
    assert "unable to get local issuer certificate" in untrusted.chain_error
    old_only = probe(listeners, "old-tls-only")
    assert old_only.protocol == "TLSv1.1" and not tls.at_least(old_only.protocol, "TLSv1.2")
    accepts = probe(listeners, "accepts-old-tls")
    assert accepts.protocol == "TLSv1.3" and accepts.old_protocol == "TLSv1.1"


def test_probe_many_keeps_order_and_isolates_a_dead_endpoint(listeners):
    entries, ca = listeners
    eps = [Endpoint(host="127.0.0.1", port=e["port"], server_name=e["server_name"]) for e in entries.values()]
    eps.insert(2, Endpoint(host="127.0.0.1", port=BASE + 99))  # nothing listens there
    t0 = time.monotonic()
    served = tls.probe_many(eps, ca, 3, concurrency=8)
    assert time.monotonic() - t0 < 3
    assert [s.endpoint for s in served] == [ep.address for ep in eps]
    assert "no handshake" in served[2].error and "Connection refused" in served[2].error
    assert all(s.error is None for i, s in enumerate(served) if i != 2)


def test_served_raises_one_readable_line_for_a_dead_endpoint():
    with pytest.raises(TargetUnreachable, match=r"TLS endpoint 127.0.0.1:\d+ .*no handshake within 1s"):
        tls.served(Endpoint(host="127.0.0.1", port=BASE + 98), None, 1.0)


def test_a_silent_endpoint_times_out_within_its_bound():
    import socket

    with socket.socket() as silent:  # accepts TCP, never answers the TLS hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        t0 = time.monotonic()
        s = tls.probe(Endpoint(host="127.0.0.1", port=port), None, 0.5)
        assert s.error and time.monotonic() - t0 < 2


@pytest.mark.parametrize("name, names, ok", [
    ("api.example.com", ["*.example.com"], True), ("a.b.example.com", ["*.example.com"], False),
    ("example.com", ["*.example.com"], False), ("API.example.com.", ["api.example.com"], True),
    ("127.0.0.1", ["127.0.0.1"], True), ("127.0.0.1", ["localhost"], False), ("x.test", [], False),
])
def test_hostname_matching(name, names, ok):
    assert tls.matches(name, names) is ok


def test_serials_compare_across_acm_formats():
    assert tls.serial_matches("a1b2", "a1:b2") and tls.serial_matches("ff", "255") and not tls.serial_matches("ff", "0")


def test_foundation_signature_still_works(listeners):
    entries, ca = listeners
    e = entries["healthy"]
    s = tls.served(Endpoint(host="127.0.0.1", port=e["port"], server_name=e["server_name"]), Path(ca), 3.0)
    assert s.verified and s.verify_error is None
