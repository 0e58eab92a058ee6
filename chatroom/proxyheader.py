# -*- test-case-name: tests.integration.test_proxy_protocol -*-
"""
The line door behind a proxy that speaks the PROXY protocol (nginx's
C{proxy_protocol on;}, HAProxy's C{send-proxy}): C{--port haproxy:tcp:5000}.

Behind a TLS-terminating proxy every connection comes from the proxy's
address, so bans and the per-address limit would all fall on it (and on
loopback, which is never banned).  Twisted's C{haproxy:} wrapper reads the
header and makes C{transport.getPeer()} the client's address, but only once
the header has arrived: the factory's C{buildProtocol}, where a plain
listener admits a connection, still sees the proxy.  So here a connection is
admitted (bans, C{--max-clients}, C{--max-per-ip}) when its header has been
read, with the address it gives; the plain listener keeps its path and its
cost.  A proxy's health check (PROXY's C{LOCAL}/C{UNKNOWN}) is admitted
under the proxy's own address.
"""

from __future__ import annotations

from twisted.internet import interfaces
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString

# Private to Twisted, as of 26.x: the wrapper that reads the header.  Only
# its dataReceived and _proxyInfo are relied on (tests/integration/
# test_proxy_protocol.py would fail if they changed).
from twisted.protocols.haproxy._wrapper import HAProxyProtocolWrapper, HAProxyWrappingFactory
from zope.interface import implementer

from chatroom import events
from chatroom.protocol import ChatFactory, ChatProtocol, TunedEndpoint, format_peer

PREFIX = "haproxy:"


def line_endpoint(reactor, description: str) -> interfaces.IStreamServerEndpoint:
    """The line door's listener for C{--port}: C{haproxy:...} admits by the PROXY header."""
    if description.startswith(PREFIX):
        inner = serverFromString(reactor, description[len(PREFIX) :])
        return TunedEndpoint(ProxyEndpoint(inner))
    return TunedEndpoint(serverFromString(reactor, description))


class _HeaderWrapper(HAProxyProtocolWrapper):
    """Twisted's PROXY wrapper, which also says when the header has been read."""

    def dataReceived(self, data: bytes) -> None:
        if self._proxyInfo is not None:
            self.wrappedProtocol.dataReceived(data)
            return
        super().dataReceived(data)
        if self._proxyInfo is not None:
            self.wrappedProtocol.header_read()


class _HeaderFactory(HAProxyWrappingFactory):
    protocol = _HeaderWrapper

    def buildProtocol(self, addr: interfaces.IAddress) -> _HeaderWrapper:
        # Not the factory's buildProtocol: that admits by the proxy's address.
        protocol = ProxiedChatProtocol()
        protocol.factory = self.wrappedFactory
        protocol.peer = format_peer(addr)
        return self.protocol(self, protocol)


@implementer(interfaces.IStreamServerEndpoint)
class ProxyEndpoint:
    """Wraps a server endpoint: each connection starts with a PROXY header (v1 or v2)."""

    def __init__(self, endpoint: interfaces.IStreamServerEndpoint) -> None:
        self._endpoint = endpoint

    def listen(self, factory: ChatFactory) -> Deferred[interfaces.IListeningPort]:
        return self._endpoint.listen(_HeaderFactory(factory))


class ProxiedChatProtocol(ChatProtocol):
    """
    A line-door connection admitted once the PROXY header says who the client is.

    Until then it says nothing (the prompt would reach whoever the proxy
    is), counts against no limit, and is cut off after the registration
    timeout if no header comes.
    """

    _admitted = False

    def connectionMade(self) -> None:
        self.setTimeout(self.factory.settings.register_timeout)

    def header_read(self) -> None:
        """The header is in: admit by the client's address, or refuse as usual."""
        if self._admitted:
            return
        self._admitted = True
        self.setTimeout(None)
        factory = self.factory
        transport = self.transport
        address = transport.getPeer()
        proxy, peer = self.peer, format_peer(address)
        key, refused = factory.admission.refusal(peer, getattr(address, "host", peer))
        if refused is not None:
            transport.write(factory.audience.render(events.Bye(refused)))
            transport.loseConnection()
            return
        if peer != proxy:
            factory.journal.info("{peer} is {client} (PROXY header)", peer=proxy, client=peer)
        self.peer = peer
        factory.admission.enter(self, peer, key)
        super().connectionMade()

    def dataReceived(self, data: bytes) -> None:
        if not self._admitted:
            self.header_read()
        if self.session is not None:
            super().dataReceived(data)

    def timeoutConnection(self) -> None:
        if self.session is not None:
            super().timeoutConnection()
            return
        self.factory.journal.info("closing {peer}: no PROXY header in time", peer=self.peer)
        self.transport.abortConnection()
