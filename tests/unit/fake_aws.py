"""An AWS account that is not the sandbox, for the production-target tests: moto's server on a port of its own (no
sandbox port, no sandbox key; its STS answers GetCallerIdentity and AssumeRole), and moto's documented test keys."""

import socket

import pytest

FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


@pytest.fixture(scope="module")
def fake_aws():
    """The URL of a moto server of this test module's own."""
    from moto.server import ThreadedMotoServer

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
