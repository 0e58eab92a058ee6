"""
The least a Twisted server can do for the load generator's handshake: greeting,
name, group, join notice, public message, /quit.  No sanitising, limits, log or
timers.  A floor for handshakes/s on stock Twisted (docs/performance.md).

    python minimal_twisted.py PORT
"""

import sys

from twisted.internet import endpoints, protocol, reactor

STAMP = "[12:00:00]"
room: dict[str, "Minimal"] = {}


def broadcast(line: str, but: "Minimal | None" = None) -> None:
    data = (line + "\r\n").encode()
    for member in room.values():
        if member is not but:
            member.transport.write(data)


class Minimal(protocol.Protocol):
    name = group = None
    _buffer = b""

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)
        self.transport.write(b"Welcome.\r\nYour name:\r\n")

    def dataReceived(self, data: bytes) -> None:
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        out = []
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if self.name is None:
                self.name = line
                out.append(b"Your lab group:\r\n")
            elif self.group is None:
                self.group = line
                out.append(f"Hello {line}, {len(room) + 1} online.\r\n".encode())
                broadcast(f"{STAMP} * {self.name} ({line}) joined")
                room[self.name] = self
            elif line.startswith("/"):
                self.transport.write(b"".join(out) + b"Goodbye!\r\n")
                self.transport.loseConnection()
                return
            else:
                broadcast(f"{STAMP} {self.name} ({self.group}): {line}", but=self)
        if out:
            self.transport.write(b"".join(out))

    def connectionLost(self, reason: object = None) -> None:
        if room.get(self.name) is self:
            del room[self.name]
            broadcast(f"{STAMP} * {self.name} ({self.group}) left")


if __name__ == "__main__":
    where = f"tcp6:{int(sys.argv[1])}:interface=\\:\\:1:backlog=1024"
    endpoints.serverFromString(reactor, where).listen(protocol.Factory.forProtocol(Minimal))
    reactor.run()
