"""
The load client over the browser door: the same simulated user as
L{BenchClient}, speaking WebSocket (C{--ws URL}).

The run writes lines to C{transport} and reads lines back, as over TCP; this
client puts each line it is given in a text message and hands the run the
C{"line"} field of each JSON object it receives.  So both doors are measured
by the same run, the same markers and the same counting, and the difference
is the door's: framing, JSON, one message a turn.
"""

from __future__ import annotations

import json
import re

from twisted.internet.interfaces import ITransport
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.events import Message as WSMessage

from chatroom.bench.client import BenchClient, Listener

_loads = json.loads
# Every object's "line" comes right after its "type" (docs/websocket.md): found
# with one regular expression pass over a message, an array of objects included,
# instead of decoding all of it: the tool must stay cheaper than the server.
_LINE = re.compile(r'"type":"[a-z_]+","line":"([^"\\]*(?:\\.[^"\\]*)*)"')


def _lines(text: str) -> list[str]:
    """The C{"line"} of each object in one message from the door (null ones skipped)."""
    found = _LINE.findall(text)
    if "\\" in text:
        found = [_loads(f'"{line}"') if "\\" in line else line for line in found]
    return found


class _Lines:
    """What the run sees as the transport: lines in, one text message each."""

    def __init__(self, client: WebBenchClient, tcp: ITransport) -> None:
        self.client = client
        self.tcp = tcp

    def write(self, data: bytes) -> None:
        ws = self.client.ws
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        self.tcp.write(b"".join(ws.send(WSMessage(data=line.decode())) for line in lines))

    def loseConnection(self) -> None:
        try:
            self.tcp.write(self.client.ws.send(CloseConnection(1000)))
        except Exception:
            pass
        self.tcp.loseConnection()

    def abortConnection(self) -> None:
        self.tcp.abortConnection()

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.tcp.setTcpNoDelay(enabled)

    @property
    def connected(self) -> bool:
        return self.tcp.connected


class WebBenchClient(BenchClient):
    """One simulated browser: WebSocket framing around a L{BenchClient}."""

    def __init__(self, bench: Listener, name: str, host: str, path: str) -> None:
        super().__init__(bench, name)
        self.host = host
        self.path = path
        self.ws = WSConnection(ConnectionType.CLIENT)
        self._text: list[str] = []

    def makeConnection(self, transport: ITransport) -> None:
        self.tcp = transport
        self.connected = 1
        self.transport = _Lines(self, transport)
        self.alive = True
        try:
            transport.setTcpNoDelay(True)
        except (AttributeError, OSError):
            pass
        transport.write(self.ws.send(Request(host=self.host, target=self.path)))

    def dataReceived(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        lines: list[str] = []
        for event in ws.events():
            if isinstance(event, TextMessage):
                text = event.data
                if self._text or not event.message_finished:
                    self._text.append(text)
                    if not event.message_finished:
                        continue
                    text, self._text = "".join(self._text), []
                lines.extend(_lines(text))
            elif isinstance(event, AcceptConnection):
                self.transport.write(f"{self.name}\n{self.bench.config.group}\n".encode())
            elif isinstance(event, Ping):
                self.tcp.write(ws.send(event.response()))
            elif isinstance(event, RejectConnection):
                lines.append(f"the server refused the WebSocket: HTTP {event.status_code}")
                self.tcp.loseConnection()
            elif isinstance(event, CloseConnection):
                self.tcp.loseConnection()
        if lines:
            super().dataReceived(("\n".join(lines) + "\n").encode())
