"""
The browser door over real sockets: a WebSocket client (wsproto) and TCP
clients in one room, on one in-process server, and every limit of the line
door holding for browsers too.
"""

from __future__ import annotations

import re

import pytest
import pytest_twisted
from twisted.internet import defer, endpoints, protocol, task
from twisted.web.client import Agent, readBody
from wsproto.events import BytesMessage, Message

from chatroom import i18n, messages
from chatroom.limits import parse_network
from chatroom.moderation import Ban
from chatroom.settings import Settings
from chatroom.testing import en, join, listen, make_certificate, quit_all, ssl_endpoint, trusting
from chatroom.web.door import WebDoor
from chatroom.web.render import web_audience
from chatroom.web.site import CSP, make_site
from chatroom.web.wsclient import JsonClient
from tests.integration.relay import Relay


class Web:
    """A line server with the browser door beside it, sharing its admission."""

    def __init__(self, server, door, port) -> None:
        self.server = server
        self.door = door
        self.listening = port
        self.port = port.getHost().port
        self.url = f"http://[::1]:{self.port}"

    async def stop(self) -> None:
        await self.listening.stopListening()
        await self.server.stop()


async def serve(
    reactor, settings: Settings | None = None, where: str = r"tcp6:0:interface=\:\:1", **site
) -> Web:
    server = await listen(reactor, settings)
    door = WebDoor(server.room, server.factory.settings, reactor, server.factory.admission)
    endpoint = endpoints.serverFromString(reactor, where)
    port = await endpoint.listen(make_site(door, **site))
    return Web(server, door, port)


async def browser(reactor, web: Web, origin: str | None = None, headers=(), tls=None) -> JsonClient:
    client = JsonClient(reactor, f"[::1]:{web.port}", origin=origin, headers=headers)
    endpoint = endpoints.TCP6ClientEndpoint(reactor, "::1", web.port)
    if tls is not None:
        endpoint = endpoints.wrapClientTLS(tls, endpoint)
    await endpoints.connectProtocol(endpoint, client)
    await client.opened
    return client


async def enter(reactor, web: Web, name: str, group: str = "GL1") -> JsonClient:
    client = await browser(reactor, web)
    client.say(name, group)
    await client.expect("registered")
    return client


async def leave(*clients: JsonClient) -> None:
    for client in clients:
        if client.transport.connected:
            client.say("/wyjdz")
    await defer.gatherResults([client.closed for client in clients])


@pytest_twisted.ensureDeferred
async def test_registrationWithErrorsThenChatBothWaysWithTCP(reactor):
    web = await serve(reactor)
    nc = await join(reactor, web.server.port, "ala")
    ws = await browser(reactor, web)
    welcome = await ws.expect("welcome")
    assert welcome == {"type": "welcome", "line": welcome["line"], "online": 1, "max": 50}
    assert (await ws.expect("prompt"))["field"] == "name"
    ws.say("ALA")  # taken, case-insensitively
    error = await ws.expect("error")
    assert error["line"] == "Error: " + en(messages.NAME_TAKEN, name="ALA")
    assert error["text"] == en(messages.NAME_TAKEN, name="ALA")
    assert (await ws.expect("prompt"))["field"] == "name"
    ws.say("Bożena")
    assert (await ws.expect("prompt"))["field"] == "group"
    ws.say("G" * 17)
    await ws.expect("error")
    ws.say("GL2")
    registered = await ws.expect("registered")
    assert (registered["name"], registered["group"], registered["online"]) == ("Bożena", "GL2", 2)
    roster = await ws.expect("roster")
    assert roster["members"] == [
        {"name": "ala", "group": "GL1"},
        {"name": "Bożena", "group": "GL2"},
    ]
    assert roster["line"] is None and roster["asked"] is False
    await nc.expect(r"\* Bożena \(GL2\) joined \(2/50 online\)$")

    ws.say("cześć <img src=x onerror=alert(1)>")
    line = await nc.expect(r"Bożena \(GL2\): cześć")
    nc.say("hello browser")
    public = await ws.expect("public")
    assert {k: public[k] for k in ("name", "group", "text")} == {
        "name": "ala",
        "group": "GL1",
        "text": "hello browser",
    }
    assert public["line"].endswith(" ala (GL1): hello browser")
    assert re.match(r"^\[\d\d:\d\d:\d\d\] ", public["line"])
    assert abs(public["time"] - reactor.seconds()) < 60
    assert line.endswith("cześć <img src=x onerror=alert(1)>")
    await quit_all(nc)
    left = await ws.expect("left")
    assert (left["name"], left["online"]) == ("ala", 1)
    await leave(ws)
    assert ws.received[-1]["type"] == "bye"
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_privateAcrossDoorsRenameAndRoster(reactor):
    web = await serve(reactor)
    nc = await join(reactor, web.server.port, "ala")
    ws = await enter(reactor, web, "ola")
    await ws.expect("roster")
    # Plain TCP underneath: frames go straight to the socket (the fast path).
    (chat,) = browsers(web)
    assert chat._direct
    ws.say("/msg ala secret one")
    sent = await ws.expect("private_sent")
    assert (sent["to"], sent["text"]) == ("ala", "secret one")
    await nc.expect(r"\[private\] ola \(GL1\): secret one$")
    nc.say("/w ola secret two")
    private = await ws.expect("private")
    assert (private["from"], private["group"], private["text"]) == ("ala", "GL1", "secret two")
    nc.say("/nick alicja")
    renamed = await ws.expect("renamed")
    assert (renamed["old"], renamed["new"]) == ("ala", "alicja")
    roster = await ws.expect("roster")
    assert [m["name"] for m in roster["members"]] == ["alicja", "ola"]
    ws.say("/online")
    asked = await ws.expect("roster", lambda obj: obj["asked"])
    assert asked["line"].startswith("Online (2/50): ")
    ws.say("/nosuch")
    error = await ws.expect("error")
    assert "/nosuch" in error["line"] or "nosuch" in error["text"]
    await quit_all(nc)
    await leave(ws)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_lineCapFragmentsAndBinary(reactor):
    web = await serve(reactor, Settings(max_line=100, max_line_hard=1000))
    nc = await join(reactor, web.server.port, "ala")
    ws = await enter(reactor, web, "ola")
    # One message in three frames is one line; so is one split across TCP writes.
    ws.send_fragments("hel", "lo fr", "agments")
    await nc.expect(r"ola \(GL1\): hello fragments$")
    frame = ws.ws.send(Message(data="split frame"))
    for byte in range(len(frame)):
        ws.transport.write(frame[byte : byte + 1])
    await nc.expect(r"ola \(GL1\): split frame$")
    ws.send_fragments("x" * 60, "y" * 60)  # 120 bytes: over the line cap
    error = await ws.expect("error")
    assert error["line"] == "Error: line too long (the limit is 100 bytes); it was discarded."
    ws.send_text("z" * 101)
    await ws.expect("error")
    ws.transport.write(ws.ws.send(BytesMessage(data=b"bin")))
    assert "binary" in (await ws.expect("error"))["text"]
    ws.say("still here")
    await nc.expect(r"ola \(GL1\): still here$")
    assert not [line for line in nc.lines if "xxx" in line or "zzz" in line]
    # Past the hard cap in one unfinished message: closed with a reason.
    ws.send_fragments(*(["w" * 500] * 3 + [""]))
    await ws.closed
    bye = [obj for obj in ws.received if obj["type"] == "bye"][-1]
    assert bye["error"] and "1000 bytes" in bye["text"]
    await nc.expect(r"\* ola \(GL1\) left")
    await quit_all(nc)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_garbageAndBadUTF8CloseOnlyThatBrowser(reactor):
    web = await serve(reactor)
    nc = await join(reactor, web.server.port, "ala")
    for bad in (
        b"\xff" * 64,  # not a frame at all
        # Bad UTF-8 (C3 28), masked with "abc" as a client must.
        b"\x81\x83abc\x00" + bytes(x ^ y for x, y in zip(b"\xc3\x28!", b"abc", strict=True)),
        b"\x81\x05hello",  # unmasked from a client: a protocol error
    ):
        ws = await enter(reactor, web, "ola")
        ws.transport.write(bad)
        await ws.closed.addTimeout(10, reactor)
        assert ws.close_code in (1002, 1007, None), ws.close_code
        await nc.expect(r"\* ola \(GL1\) left")
    assert not browsers(web)
    other = await enter(reactor, web, "ewa")
    nc.say("hello ewa")
    assert (await other.expect("public", lambda obj: not obj["history"]))["text"] == "hello ewa"
    await quit_all(nc)
    await leave(other)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_floodControlForBrowsers(reactor):
    web = await serve(reactor, Settings(rate=1, burst=3, flood_kick=5))
    ws = await enter(reactor, web, "ola")
    for n in range(12):
        ws.say(f"flood {n}")
    await ws.closed
    kinds = [obj["type"] for obj in ws.received]
    assert "error" in kinds and kinds[-1] == "bye"
    assert ws.received[-1]["error"] is True
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_maxClientsAndPerAddressCountBothDoors(reactor):
    web = await serve(reactor, Settings(max_clients=2))
    nc = await join(reactor, web.server.port, "ala")
    ws = await enter(reactor, web, "ola")
    third = await browser(reactor, web)
    bye = await third.expect("bye")
    assert bye["line"] == "Sorry, the room is full (2/2). Try again later."
    await third.closed
    await quit_all(nc)
    await leave(ws)
    await web.stop()

    web = await serve(reactor, Settings(max_per_ip=1, exempt_loopback=False))
    nc = await join(reactor, web.server.port, "ala")
    second = await browser(reactor, web)
    bye = await second.expect("bye")
    assert bye["message"] == messages.TOO_MANY_FROM_ADDRESS.id
    await second.closed
    assert web.door.admission.addresses.count("::1") == 1
    await quit_all(nc)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_welcomeAndRefusalInThePagesLanguage(reactor):
    """
    The page's language (?lang, else Accept-Language) is known before
    admission: the welcome and a refusal read in it, whatever the server's.
    """
    web = await serve(reactor, Settings(max_clients=1))

    async def first(kind: str, path: str = "/ws", headers=()) -> str:
        client = JsonClient(reactor, f"[::1]:{web.port}", path=path, headers=headers)
        where = endpoints.TCP6ClientEndpoint(reactor, "::1", web.port)
        await endpoints.connectProtocol(where, client)
        said = await client.expect(kind)
        client.transport.loseConnection()
        await client.closed
        return said["line"]

    pl = i18n.catalog("pl")
    web.door.audience = web_audience("pl")  # what --lang pl does
    assert await first("welcome", "/ws?lang=en") == en(messages.WELCOME, online=0, max=1)
    assert await first("welcome") == pl.format(messages.WELCOME, online=0, max=1)
    nc = await join(reactor, web.server.port, "ala")
    full = pl.format(messages.ROOM_FULL, count=1, max=1)
    assert await first("bye", "/ws?lang=en") == en(messages.ROOM_FULL, count=1, max=1)
    web.door.audience = web_audience("en")
    polish = ((b"Accept-Language", b"de-DE, pl;q=0.9, en;q=0.8"),)
    assert await first("bye", headers=polish) == full
    assert await first("bye", "/ws?lang=pl") == full
    assert await first("bye", "/ws?lang=xx") == en(messages.ROOM_FULL, count=1, max=1)
    await quit_all(nc)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_behindATrustedProxyTheForwardedAddressCountsAndCanBeBanned(reactor, log_events):
    web = await serve(reactor, Settings(max_per_ip=1), proxies=[parse_network("::1")])
    forwarded = ((b"X-Forwarded-For", b"198.51.100.1, 203.0.113.7"),)
    first = await browser(reactor, web, headers=forwarded)
    await first.expect("prompt")
    second = await browser(reactor, web, headers=forwarded)
    assert "address" in (await second.expect("bye"))["text"]
    await second.closed
    other = await browser(reactor, web, headers=((b"X-Forwarded-For", b"203.0.113.8"),))
    await other.expect("prompt")
    first.say("ola", "GL1")
    await first.expect("registered")
    assert web.server.room.find("ola").address == "203.0.113.7"  # what /ban would refuse
    web.server.factory.journal.flush()
    said = "\n".join(repr(event) for event in log_events)
    assert re.search(r"ws 203\.0\.113\.7 via \[::1\]:\d+", said)
    web.server.room.moderation.ban(
        Ban("203.0.113.7", reactor.seconds() + 600, "ola", "admin", "test")
    )
    await leave(first)
    banned = await browser(reactor, web, headers=forwarded)
    assert (await banned.expect("bye"))["message"] == messages.BANNED_REFUSAL.id
    await banned.closed
    other.transport.loseConnection()
    await other.closed
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_foreignOriginRefusedOwnOriginAllowed(reactor):
    web = await serve(reactor)
    host = f"[::1]:{web.port}"
    evil = JsonClient(reactor, host, origin="http://evil.example")
    await endpoints.connectProtocol(endpoints.TCP6ClientEndpoint(reactor, "::1", web.port), evil)
    try:
        await evil.opened
    except ConnectionError as e:
        assert "403" in str(e)
    else:
        raise AssertionError("a foreign origin was let in")
    assert evil.status == 403
    assert not web.door.admission.connections
    for origins, origin in (((), f"http://{host}"), (["https://chat.example.org"], None)):
        if origins:
            await web.stop()
            web = await serve(reactor, origins=origins)
            origin = "https://chat.example.org/"
        allowed = await browser(reactor, web, origin=origin)
        await allowed.expect("prompt")
        allowed.transport.loseConnection()
        await allowed.closed
    # --web-origin adds to the page's own origin: the page served directly
    # still works beside the proxy's name; anyone else is still refused.
    own = await browser(reactor, web, origin=f"http://[::1]:{web.port}")
    await own.expect("prompt")
    own.transport.loseConnection()
    await own.closed
    evil = JsonClient(reactor, f"[::1]:{web.port}", origin="http://evil.example")
    await endpoints.connectProtocol(endpoints.TCP6ClientEndpoint(reactor, "::1", web.port), evil)
    with pytest.raises(ConnectionError):
        await evil.opened
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_pageServedWithCSPAndNoCookies(reactor):
    web = await serve(reactor)
    agent = Agent(reactor)
    for path, kind in (("/", "text/html"), ("/app.js", "javascript"), ("/style.css", "css")):
        response = await agent.request(b"GET", (web.url + path).encode())
        body = await readBody(response)
        assert response.code == 200, path
        headers = response.headers
        assert kind in headers.getRawHeaders(b"content-type")[0].decode()
        assert headers.getRawHeaders(b"content-security-policy") == [CSP.encode()]
        assert headers.getRawHeaders(b"x-content-type-options") == [b"nosniff"]
        assert not headers.hasHeader(b"set-cookie")
        if path == "/":
            assert b"<script src=" in body and b"<script>" not in body
    response = await agent.request(b"GET", (web.url + "/nothing-here").encode())
    await readBody(response)
    assert response.code == 404
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_plainHTTPConnectionsAreBoundedWebSocketsCountInTheRoom(reactor):
    web = await serve(reactor, http_limit=2)
    endpoint = endpoints.TCP6ClientEndpoint(reactor, "::1", web.port)
    idle = [await endpoints.connectProtocol(endpoint, Collector()) for _ in range(2)]
    over = await endpoints.connectProtocol(endpoint, Collector())
    # Closed at once: two HTTP connections are open (a timeout, not a hang, if not).
    await over.closed.addTimeout(10, reactor)
    for client in idle:
        client.transport.loseConnection()
        await client.closed
    # An upgraded connection no longer counts as HTTP: two browsers and a page load.
    first, second = await browser(reactor, web), await browser(reactor, web)
    response = await Agent(reactor).request(b"GET", (web.url + "/").encode())
    await readBody(response)
    assert response.code == 200
    for client in (first, second):
        client.transport.loseConnection()
        await client.closed
    await web.stop()


class Collector(protocol.Protocol):
    def __init__(self) -> None:
        self.closed: defer.Deferred[None] = defer.Deferred()

    def connectionLost(self, reason=None) -> None:
        self.closed.callback(None)


@pytest_twisted.ensureDeferred
async def test_wssThroughAnSslEndpoint(reactor, tmp_path):
    """--web ssl:...: https and wss, the same door (no write-through under TLS)."""
    key, cert = make_certificate(tmp_path)
    web = await serve(reactor, Settings(max_output=64 * 1024), where=ssl_endpoint(key, cert))
    nc = await join(reactor, web.server.port, "ala")
    ws = await browser(reactor, web, origin=f"https://[::1]:{web.port}", tls=trusting(cert))
    ws.say("ola", "GL1")
    await ws.expect("registered")
    (chat,) = browsers(web)
    assert not chat._direct
    # The output cap's guard is what the TLS layer (and so the socket) pauses.
    assert chat._wire.transport._producer._producer is chat._guard
    ws.say("over tls")
    await nc.expect(r"ola \(GL1\): over tls$")
    nc.say("back")
    assert (await ws.expect("public"))["text"] == "back"
    await quit_all(nc)
    await leave(ws)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_idleAndRegistrationTimeouts(reactor):
    web = await serve(reactor, Settings(register_timeout=0.3, idle_timeout=0.5))
    slow = await browser(reactor, web)
    await slow.closed
    assert slow.received[-1]["line"] == "Error: registration took too long; closing the connection."
    idle = await enter(reactor, web, "idle")
    await idle.closed
    assert idle.received[-1]["line"] == "Error: idle for too long; closing the connection."
    await web.stop()


class Deaf(JsonClient):
    """Answers no ping: a browser on a laptop whose lid was shut."""

    def dataReceived(self, data: bytes) -> None:
        if self.opened.called:
            return
        super().dataReceived(data)


@pytest_twisted.ensureDeferred
async def test_unansweredPingCloses(reactor):
    web = await serve(reactor, Settings(web_ping=0.2))
    client = Deaf(reactor, f"[::1]:{web.port}")
    await endpoints.connectProtocol(endpoints.TCP6ClientEndpoint(reactor, "::1", web.port), client)
    await client.opened
    await client.closed
    live = await browser(reactor, web)
    await live.expect("prompt")
    live.say("ola", "GL1")
    await live.expect("registered")
    # A reading browser answers every ping and stays.
    await defer.Deferred.fromCoroutine(_turns(reactor, 0.7))
    assert live.transport.connected
    await leave(live)
    await web.stop()


async def _turns(reactor, seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


def browsers(web: Web) -> list:
    return [c for c in web.door.admission.connections if c.peer.startswith("ws")]


class NotReading(JsonClient):
    def stop_reading(self) -> None:
        self.transport.pauseProducing()


@pytest_twisted.ensureDeferred
async def test_browserThatStopsReadingIsCutOff(reactor, log_events):
    web = await serve(reactor, Settings(max_output=64 * 1024, rate=0))
    client = NotReading(reactor, f"[::1]:{web.port}")
    await endpoints.connectProtocol(endpoints.TCP6ClientEndpoint(reactor, "::1", web.port), client)
    await client.opened
    client.say("sleepy", "GL1")
    await client.expect("registered")
    client.stop_reading()
    nc = await join(reactor, web.server.port, "talker")
    line = "x" * 2000
    for _ in range(2000):  # bounded: 4 MB at most
        if not browsers(web):
            break
        nc.say(line)
        await _turns(reactor, 0)
    assert not browsers(web)
    await nc.expect(r"\* sleepy \(GL1\) left")
    web.server.factory.journal.flush()
    said = "\n".join(str(event.get("log_format", "")) + repr(event) for event in log_events)
    assert "not reading (output over the cap)" in said
    assert re.search(r"closing ws \[::1\]:\d+: over 65536 bytes of output queued", said)
    client.transport.abortConnection()
    await quit_all(nc)
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_shutdownSaysGoodbyeToBrowsers(reactor):
    web = await serve(reactor)
    member = await enter(reactor, web, "ola")
    registering = await browser(reactor, web)
    await registering.expect("prompt")
    await web.stop()
    await member.closed
    await registering.closed
    assert member.close_code == 1000
    assert "shutdown" in [obj["type"] for obj in member.received]
    assert registering.received[-1]["type"] == "shutdown"


@pytest_twisted.ensureDeferred
async def test_loadToolOverTheBrowserDoor(reactor):
    """python -m chatroom.bench --ws: the same run and counting, over WebSocket."""
    from chatroom import bench
    from chatroom.bench.cli import web_url

    web = await serve(reactor, Settings(rate=0, max_clients=100))
    config = bench.BenchConfig(
        "::1", web.port, clients=12, senders=2, duration=0.5, ws_path="/ws", strict=True
    )
    result = await bench.run(reactor, config)
    assert result.ok, result.summary()
    assert result.registered == 12 and result.delivered == result.expected_deliveries > 0
    await web.stop()
    assert web_url("ws://[::1]:8080/ws") == ("::1", 8080, "/ws")
    with pytest.raises(bench.ConfigError):
        web_url("http://[::1]:8080/ws")


@pytest_twisted.ensureDeferred
async def test_eachChatLineIsConfirmedOrRefusedInOrder(reactor):
    """
    public_sent for a chat line that went out, an error with said for one
    refused (over --max-line, flooding, muted); commands get neither.
    """
    web = await serve(reactor, Settings(max_line=100, rate=1, burst=5, flood_kick=100))
    nc = await join(reactor, web.server.port, "ala")
    ws = await enter(reactor, web, "ola")
    ws.say("hello \x07there", "//slash", "/online", "x" * 101, "/" + "y" * 101)
    sent = await ws.expect("public_sent")
    assert sent["line"] is None and sent["text"] == "hello there"
    assert abs(sent["time"] - reactor.seconds()) < 60
    assert (await ws.expect("public_sent"))["text"] == "/slash"
    await ws.expect("roster", lambda obj: obj["asked"])
    too_long = await ws.expect("error")
    assert too_long["said"] is True and "too long" in too_long["text"]
    command_too_long = await ws.expect("error")
    assert command_too_long["said"] is False
    ws.say("flooded")
    flooded = await ws.expect("error")
    assert flooded["said"] is True and flooded["message"] == messages.FLOODING.id
    web.server.room.moderation.mute("ola", reactor.seconds() + 600)
    await _turns(reactor, 1.1)  # a token for one more line
    ws.say("muted line")
    muted = await ws.expect("error")
    assert muted["said"] is True and muted["message"] == messages.MUTED.id
    answers = [
        obj["type"] if obj["type"] == "public_sent" else obj["said"]
        for obj in ws.received
        if obj["type"] == "public_sent" or obj["type"] == "error"
    ]
    assert answers == ["public_sent", "public_sent", True, False, True, True]
    # The TCP user got the lines that went out, and nothing of the confirmations.
    await nc.expect(r"ola \(GL1\): /slash$")
    assert not [line for line in nc.lines if "muted line" in line or "flooded" in line]
    await quit_all(nc)
    ws.transport.loseConnection()  # no token left for a /quit
    await ws.closed
    await web.stop()


@pytest_twisted.ensureDeferred
async def test_aGhostHoldingTheNameIsProbedAndDropped(reactor):
    """
    A browser's network drops (half-open: the server hears nothing, no FIN);
    it reconnects and asks for its name, which its ghost still holds.  The
    server pings the ghost at once and, unanswered, drops it, long before the
    regular ping (a minute here) would; a live holder keeps its name.
    """
    web = await serve(reactor, Settings(web_ping=60))
    web.door.probe_timeout = 0.3
    relay = Relay(web.port)
    try:
        nc = await join(reactor, web.server.port, "ala")
        first = await _through(reactor, relay)
        first.say("ola", "GL1")
        await first.expect("registered")
        await nc.expect(r"\* ola \(GL1\) joined")
        # A live holder answers the probe and keeps the name.
        nc.say("/online")
        await nc.expect(r"^Online \(2/50\)")
        other = await browser(reactor, web)
        other.say("ola")
        assert (await other.expect("error"))["message"] == messages.NAME_TAKEN.id
        await _turns(reactor, 0.5)
        assert first.transport.connected
        other.transport.loseConnection()
        await other.closed

        assert relay.half_open() == 1
        await first.closed
        second = await _through(reactor, relay)
        second.say("ola")
        assert (await second.expect("error"))["message"] == messages.NAME_TAKEN.id
        await nc.expect(r"\* ola \(GL1\) left")
        second.say("ola", "GL1")
        registered = await second.expect("registered")
        assert registered["name"] == "ola"
        await quit_all(nc)
        await leave(second)
    finally:
        relay.close()
    await web.stop()


async def _through(reactor, relay: Relay) -> JsonClient:
    client = JsonClient(reactor, f"[::1]:{relay.port}")
    await endpoints.connectProtocol(
        endpoints.TCP6ClientEndpoint(reactor, "::1", relay.port), client
    )
    await client.opened
    await client.expect("prompt")
    return client
