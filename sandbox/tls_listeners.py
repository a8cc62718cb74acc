"""Many TLS listeners in one process, for benchmarks and probe tests: healthy ones and ones broken in known ways.

    python -m sandbox.tls_listeners --dir /tmp/tlsbench --base-port 61600 --count 100
    # ... writes /tmp/tlsbench/listeners.json (port -> kind, server name), serves until SIGTERM / SIGINT

Every listener serves on 127.0.0.1 with its own certificate from a throwaway CA (DIR/ca.pem). Kinds cycle by port
(see KINDS): ten in a hundred are each expired, for the wrong name, from an untrusted CA, TLS 1.1 only, or
accepting TLS 1.0/1.1 beside 1.3; the rest are healthy. Only loopback is used.
"""

import argparse
import asyncio
import datetime as dt
import json
import signal
import ssl
import warnings
from pathlib import Path

import trustme

KINDS = {1: "expired", 3: "wrong-name", 5: "untrusted", 7: "old-tls-only", 9: "accepts-old-tls"}
"""port % 10 -> kind; every other listener is 'healthy'."""
SERVER_NAME = "api{n}.bench.test"


def kind_of(n: int) -> str:
    return KINDS.get(n % 10, "healthy")


def prepare(folder: Path, base_port: int, count: int) -> list[dict]:
    """Issue the CA and one leaf per listener; returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, rogue = trustme.CA(organization_name="opsproof bench CA"), trustme.CA(organization_name="rogue CA")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    now = dt.datetime.now(dt.timezone.utc)
    out = []
    for n in range(count):
        kind, name = kind_of(n), SERVER_NAME.format(n=n)
        hosts = ["www.example.test"] if kind == "wrong-name" else [name]
        issuer = rogue if kind == "untrusted" else ca
        kwargs = {"not_before": now - dt.timedelta(days=400), "not_after": now - dt.timedelta(days=2)} \
            if kind == "expired" else {}
        leaf = issuer.issue_cert(*hosts, common_name=hosts[0], **kwargs)
        pem, key = folder / f"leaf-{n}.pem", folder / f"leaf-{n}.key"
        pem.write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
        key.write_bytes(leaf.private_key_pem.bytes())
        out.append({"port": base_port + n, "kind": kind, "server_name": name, "pem": str(pem), "key": str(key)})
    (folder / "listeners.json").write_text(json.dumps(out, indent=1))
    return out


def context(entry: dict) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(entry["pem"], entry["key"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if entry["kind"] == "old-tls-only":
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        elif entry["kind"] == "accepts-old-tls":
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.read(1024), timeout=5)  # whatever the client says; then close
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (asyncio.TimeoutError, ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


async def serve(entries: list[dict]) -> None:
    servers = [await asyncio.start_server(_handle, "127.0.0.1", e["port"], ssl=context(e), backlog=64)
               for e in entries]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, _context: None)  # refused handshakes are the point, not news
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sandbox.tls_listeners", description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--base-port", type=int, required=True)
    p.add_argument("--count", type=int, default=100)
    a = p.parse_args(argv)
    entries = prepare(a.dir, a.base_port, a.count)
    asyncio.run(serve(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
