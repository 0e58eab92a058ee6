# -*- test-case-name: tests.integration.test_reuseport -*-
"""
C{reuseport:5000}: a TCP listener that several processes share (SO_REUSEPORT).

One CPython process uses one core.  On Linux, processes that each set
C{SO_REUSEPORT} before binding may all listen on the same address and port,
and the kernel spreads incoming connections among them: with C{--redis}, a
machine's cores then serve one room on one port (see docs/cluster.md and the
systemd template unit in contrib/systemd).

Twisted's C{tcp6:} endpoint has no such option, and the option must be set
between C{socket()} and C{bind()}; so this endpoint makes the socket itself
and hands it to the reactor (C{adoptStreamPort}), which from then on treats
it like any listener of its own.

Syntax (a Twisted endpoint string, registered by the dropin
C{twisted/plugins/chatroom_endpoints.py})::

    reuseport:PORT[:interface=ADDRESS][:backlog=N]

The interface defaults to C{::} (IPv6 and, as with C{tcp6:}, IPv4); an IPv4
address (C{interface=0.0.0.0}) listens on IPv4 only.  Escape colons in an
IPv6 address: C{interface=\\:\\:1}.
"""

from __future__ import annotations

import ipaddress
import socket

from twisted.internet import defer, interfaces
from twisted.internet.protocol import Factory
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(interfaces.IStreamServerEndpoint)
class ReusePortEndpoint:
    def __init__(self, reactor, port: int, interface: str = "::", backlog: int = 50) -> None:
        self.reactor = reactor
        self.port = port
        self.interface = interface
        self.backlog = backlog

    def listen(self, factory: Factory) -> defer.Deferred:
        return defer.execute(self._listen, factory)

    def _listen(self, factory: Factory) -> interfaces.IListeningPort:
        family = (
            socket.AF_INET if ipaddress.ip_address(self.interface).version == 4 else socket.AF_INET6
        )
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((self.interface, self.port))
            sock.listen(self.backlog)
            sock.setblocking(False)
            # The reactor keeps a duplicate of the descriptor; ours is closed below.
            return self.reactor.adoptStreamPort(sock.fileno(), family, factory)
        finally:
            sock.close()


@implementer(IPlugin, interfaces.IStreamServerEndpointStringParser)
class ReusePortParser:
    prefix = "reuseport"

    def parseStreamServer(
        self, reactor, port: str, interface: str = "::", backlog: str = "50"
    ) -> ReusePortEndpoint:
        if not hasattr(socket, "SO_REUSEPORT"):
            raise ValueError("reuseport: this system has no SO_REUSEPORT (Linux and BSDs do)")
        try:
            ipaddress.ip_address(interface)
        except ValueError:
            raise ValueError(
                f"reuseport: interface must be an IP address, not {interface!r}"
            ) from None
        return ReusePortEndpoint(reactor, int(port), interface, int(backlog))
