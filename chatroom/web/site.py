# -*- test-case-name: tests.integration.test_web -*-
"""
The HTTP side of the browser door: the page at C{/}, its files, and the
WebSocket at C{/ws}, on one twisted.web L{Site}.

Every response carries a Content-Security-Policy that allows scripts, styles
and connections from the page's own origin only (no inline script: the page
shows user text with C{textContent}, and even a slip could run nothing), and
no cookie is ever set.  The WebSocket's C{Origin} is checked against an
allow-list before the upgrade, so another site's page can't talk to the room
with a visitor's browser: refused with 403.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from importlib import resources

from twisted.internet.interfaces import IAddress
from twisted.python.failure import Failure
from twisted.web import http, pages, resource, server
from wsproto import ConnectionType
from wsproto.events import AcceptConnection
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from chatroom import i18n
from chatroom.limits import IPNetwork, address_key, in_networks
from chatroom.protocol import format_peer
from chatroom.web.door import WebDoor, _Wire
from chatroom.web.twistedws import serverBootstrap

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_HEADERS = (
    (b"Content-Security-Policy", CSP.encode()),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"X-Frame-Options", b"DENY"),
    (b"Cache-Control", b"no-cache"),
)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


class _Request(server.Request):
    """Every response gets the security headers, whatever resource answers."""

    def process(self) -> None:
        for name, value in _HEADERS:
            self.setHeader(name, value)
        super().process()


def _origin(text: str) -> str:
    return text.strip().rstrip("/").lower()


class Origins:
    """
    The page origins allowed to open the WebSocket: always the page's own
    (C{http://HOST} or C{https://HOST} for the request's C{Host}), and those
    given (C{--web-origin}) besides: naming a proxy's origin must not lock
    out the page served directly.  A request without C{Origin} is not from
    a browser page (browsers always send it), so it can't be a cross-site
    request and is let through: command-line clients and the load tool
    don't send one.
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(_origin(origin) for origin in allowed)

    def allows(self, origin: bytes | None, host: bytes | None) -> bool:
        if origin is None:
            return True
        text = _origin(origin.decode("latin-1"))
        if text in self.allowed:
            return True
        if not host:
            return False
        own = host.decode("latin-1").strip().lower()
        return text in (f"http://{own}", f"https://{own}")


class Proxies:
    """
    Reverse proxies whose C{X-Forwarded-For} is believed.  From anyone else
    the header is ignored: a browser could claim any address, and the
    per-address limit would count the lie.
    """

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)

    def trusted(self, host: str) -> bool:
        return in_networks(host, self.networks, not_ip=False)

    def client(self, host: str, forwarded: list[bytes]) -> str | None:
        """
        The client's address behind a trusted proxy at C{host}: the nearest
        address in the C{X-Forwarded-For} chain that isn't a trusted proxy.
        """
        if not self.networks or not forwarded or not self.trusted(host):
            return None
        chain = [
            part.strip()
            for header in forwarded
            for part in header.decode("latin-1").split(",")
            if part.strip()
        ]
        for candidate in reversed(chain):
            try:
                ipaddress.ip_address(candidate)
            except ValueError:
                return None  # not an address: believe nothing
            if not self.trusted(candidate):
                return candidate
        return chain[0] if chain else None


def page_language(request: server.Request) -> str | None:
    """
    The language the page reads: C{/ws?lang=pl} (the page says it), else
    the browser's C{Accept-Language} (its best one we have), else L{None}
    (the server's own, C{--lang}).  Known before admission, so even a
    refusal reads in it.
    """
    asked = request.args.get(b"lang")
    if asked:
        found = i18n.language(asked[0].decode("ascii", "replace"))
        if found is not None:
            return found
    best: tuple[float, str] | None = None
    for header in request.requestHeaders.getRawHeaders(b"accept-language", []):
        for part in header.decode("latin-1").split(","):
            tag, _, quality = part.partition(";")
            found = i18n.language(tag) if tag.strip() != "*" else None
            try:
                weight = float(quality.strip().removeprefix("q=")) if quality else 1.0
            except ValueError:
                continue
            if found is not None and weight > 0 and (best is None or weight > best[0]):
                best = (weight, found)
    return best[1] if best is not None else None


class ChatSocket(resource.Resource):
    """C{/ws}: checks the origin, asks the admission, then upgrades."""

    isLeaf = True

    def __init__(self, door: WebDoor, origins: Origins, proxies: Proxies) -> None:
        super().__init__()
        self.door = door
        self.origins = origins
        self.proxies = proxies

    def render_GET(self, request: server.Request) -> bytes | int:
        headers = request.requestHeaders
        origin = headers.getRawHeaders(b"origin", [None])[0]
        if not self.origins.allows(origin, request.getHeader(b"host")):
            self.door.journal.info(
                "refused a WebSocket from {origin}: origin not allowed",
                origin=origin.decode("latin-1", "replace"),
            )
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"This origin may not open the chat's WebSocket (see --web-origin).\n"
        handshake = H11Handshake(ConnectionType.SERVER)
        raw = [(name, value) for name, values in headers.getAllRawHeaders() for value in values]
        try:
            handshake.initiate_upgrade_connection(raw, request.path)
        except RemoteProtocolError:
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"This is the chat's WebSocket: connect with a WebSocket client.\n"
        address = request.getClientAddress()
        host = getattr(address, "host", "")
        peer = f"ws {format_peer(address)}"
        client = self.proxies.client(host, headers.getRawHeaders(b"x-forwarded-for", []))
        if client is not None:
            host = client
            peer = f"ws {address_key(client)} via {format_peer(address)}"
        protocol = self.door.admit(peer, host, page_language(request))
        accept = handshake.send(AcceptConnection())
        wire = _Wire(handshake.connection, serverBootstrap, protocol)
        channel = request.channel
        # The HTTP channel's own timeout would fire on a quiet WebSocket: its
        # reads no longer reset it.  The door has its own timeouts and ping.
        channel.setTimeout(None)
        channel.site.released(channel)
        channel._protocolUpgradeForWebsockets(wire)
        channel.transport.write(accept)
        protocol.negotiationFinished()
        return server.NOT_DONE_YET


def _static() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once from the package data."""
    files = {}
    for entry in resources.files("chatroom.web").joinpath("static").iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if entry.is_file() and suffix in _TYPES:
            files[entry.name] = (entry.read_bytes(), _TYPES[suffix])
    return files


class _File(resource.Resource):
    """One of the page's files, held in memory (a few kilobytes)."""

    isLeaf = True

    def __init__(self, data: bytes, kind: str) -> None:
        super().__init__()
        self.data = data
        self.kind = kind.encode()

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", self.kind)
        return self.data

    def render_HEAD(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", self.kind)
        request.setHeader(b"content-length", b"%d" % len(self.data))
        return b""


class Root(resource.Resource):
    """C{/} (the page), C{/NAME} for its files, C{/ws}; nothing else, no listings."""

    def __init__(self, socket: ChatSocket) -> None:
        super().__init__()
        for name, (data, kind) in _static().items():
            page = _File(data, kind)
            self.putChild(name.encode(), page)
            if name == "index.html":
                self.putChild(b"", page)
        self.putChild(b"ws", socket)

    def getChild(self, path: bytes, request: server.Request) -> resource.IResource:
        return pages.notFound()


class _Channel(http.HTTPChannel):
    """An HTTP connection, counted by its L{ChatSite} until it closes or upgrades."""

    site: ChatSite
    _counted = False

    def connectionLost(self, reason: Failure) -> None:
        self.site.released(self)
        super().connectionLost(reason)


class ChatSite(server.Site):
    """
    The page and the socket, with a bound on plain HTTP connections.

    WebSockets count in the room's admission like TCP users; the HTTP
    connections before them (the page's files, a pending upgrade) are capped
    here, so idle connections opened by the thousand can't exhaust the
    server's descriptors.  Over the cap a new one is closed at once.  HTTP/1.1
    only: a WebSocket upgrade needs it, and the page is three small files.
    """

    protocol = _Channel

    def __init__(self, root: resource.Resource, door: WebDoor, limit: int) -> None:
        super().__init__(root, timeout=HTTP_IDLE)
        self.door = door
        self.limit = limit
        self.open = 0

    def buildProtocol(self, addr: IAddress) -> _Channel | None:
        if self.open >= self.limit:
            self.door.journal.info(
                "refused {peer}: {count} HTTP connections open already",
                peer=f"http {format_peer(addr)}",
                count=self.open,
            )
            return None
        channel = super().buildProtocol(addr)
        channel._counted = True
        self.open += 1
        return channel

    def released(self, channel: _Channel) -> None:
        """C{channel} closed, or became a WebSocket (counted by the admission then)."""
        if channel._counted:
            channel._counted = False
            self.open -= 1


HTTP_IDLE = 30.0
"""Seconds an HTTP connection may stay idle (a browser's keep-alive) before it is closed."""


def make_site(
    door: WebDoor,
    origins: Iterable[str] = (),
    proxies: Iterable[IPNetwork] = (),
    http_limit: int | None = None,
) -> ChatSite:
    """
    The browser door's HTTP site, ready for any stream server endpoint.

    @param http_limit: plain HTTP connections at once; by default twice
        C{--max-clients} (a browser loading the page opens a few), at least 64.
    """
    socket = ChatSocket(door, Origins(origins), Proxies(proxies))
    if http_limit is None:
        http_limit = max(64, 2 * door.settings.max_clients)
    site = ChatSite(Root(socket), door, http_limit)
    site.requestFactory = _Request
    site.displayTracebacks = False
    site.noisy = False
    return site
