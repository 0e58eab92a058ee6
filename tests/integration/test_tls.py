"""
TLS on the line door, end to end: C{twistd chatroom --port ssl:...} with a
certificate the test makes, TLS clients in this process, and chatroom-client
as a real process with C{--connect tls:...} and C{--ca}; a certificate the
client was not told to trust is refused, plainly, with a failing status.
"""

from __future__ import annotations

import re

import pytest
import pytest_twisted
from twisted.internet import defer

from chatroom.testing import join, listen, make_certificate, quit_all, ssl_endpoint, trusting
from tests.integration.process import python, spawn, stop_all
from tests.integration.test_twistd import start_server


@pytest.fixture
def processes(reactor):
    started = []
    yield started
    pytest_twisted.blockon(defer.ensureDeferred(stop_all(started)))


@pytest.fixture
def certificate(tmp_path):
    """(key, cert) for ::1, self-signed."""
    return make_certificate(tmp_path, "::1")


@pytest.fixture
def other_certificate(tmp_path):
    """A certificate for ::1 that nobody was told to trust."""
    directory = tmp_path / "other"
    directory.mkdir()
    return make_certificate(directory, "::1")


def client(reactor, processes, *args: str):
    child = spawn(reactor, python("-m", "chatroom.client", *args))
    processes.append(child)
    return child


@pytest_twisted.ensureDeferred
async def test_chatOverTLSThroughTwistd(reactor, processes, tmp_path, certificate):
    key, cert = certificate
    server, port = await start_server(
        reactor, processes, tmp_path, endpoint=ssl_endpoint(key, cert)
    )
    tls = trusting(cert)
    ala = await join(reactor, port, "ala", "GL3", tls=tls)
    bob = await join(reactor, port, "bob", "GL1", tls=tls)
    cyryl = client(reactor, processes, "--connect", rf"tls:host=\:\:1:port={port}",
                   "--ca", str(cert), "--name", "cyryl", "--group", "3")  # fmt: skip
    await cyryl.expect(r"^Hello cyryl \(3\), you are in: 3/")
    await ala.expect(r"\* cyryl \(3\) joined")

    ala.say("szyfrowane zażółć")
    await bob.expect(r"ala \(GL3\): szyfrowane zażółć$")
    await cyryl.expect(r"ala \(GL3\): szyfrowane zażółć$")
    cyryl.write("hello over TLS\n")
    await bob.expect(r"cyryl \(3\): hello over TLS$")
    cyryl.write("/wyjdz\n")
    assert await cyryl.wait() == 0
    await ala.expect(r"\* cyryl \(3\) left")
    await quit_all(ala, bob)
    await server.expect(r"public cyryl: hello over TLS")
    server.signal("TERM")
    await server.wait()


@pytest_twisted.async_yield_fixture
async def tls_server(reactor, certificate):
    handle = await listen(reactor, endpoint=ssl_endpoint(*certificate))
    yield handle
    await handle.stop()


@pytest.mark.parametrize(
    "where",
    [["--connect", r"tls:host=\:\:1:port={port}"], ["::1", "{port}"]],
    ids=["connect", "host-port"],
)
@pytest_twisted.ensureDeferred
async def test_anUntrustedCertificateIsRefused(
    reactor, processes, tls_server, other_certificate, where
):
    _, wrong = other_certificate
    args = [arg.format(port=tls_server.port) for arg in where]
    child = client(reactor, processes, *args, "--ca", str(wrong), "--name", "eve", "--group", "1")
    assert await child.wait() == 1
    assert "the server's certificate is not trusted" in child.errors
    assert "--ca FILE" in child.errors
    assert not tls_server.room.online


@pytest_twisted.ensureDeferred
async def test_aCertificateForAnotherHostIsRefused(reactor, processes, tmp_path):
    key, cert = make_certificate(tmp_path, "chat.example.org")
    server = await listen(reactor, endpoint=ssl_endpoint(key, cert))
    child = client(reactor, processes, "::1", str(server.port), "--ca", str(cert), "--name", "eve")
    assert await child.wait() == 1
    assert re.search(r"certificate is not for this host", child.errors), child.errors
    await server.stop()
