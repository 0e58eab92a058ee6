"""
The same dialogue as minimal_twisted.py on a bare epoll loop: no Twisted, no
buffering (a full socket would lose data), nothing but the handshake.  The floor
for handshakes/s in CPython itself (docs/performance.md).

    python raw_epoll.py PORT
"""

import select
import socket
import sys

STAMP = "[12:00:00]"


class Client:
    __slots__ = ("sock", "buffer", "name", "group")

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer, self.name, self.group = sock, b"", None, None


def main(port: int) -> None:
    listener = socket.create_server(("::1", port), family=socket.AF_INET6, backlog=1024)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited
    listener.setblocking(False)
    poll = select.epoll()
    poll.register(listener.fileno(), select.EPOLLIN)
    clients: dict[int, Client] = {}
    room: dict[str, Client] = {}

    def broadcast(line: str, but: Client | None = None) -> None:
        data = (line + "\r\n").encode()
        for member in room.values():
            if member is not but:
                member.sock.send(data)

    def close(client: Client) -> None:
        poll.unregister(client.sock.fileno())
        del clients[client.sock.fileno()]
        client.sock.close()
        if room.get(client.name) is client:
            del room[client.name]
            broadcast(f"{STAMP} * {client.name} ({client.group}) left")

    def handle(client: Client, data: bytes) -> None:
        *lines, client.buffer = (client.buffer + data).split(b"\n")
        out = []
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if client.name is None:
                client.name = line
                out.append(b"Your lab group:\r\n")
            elif client.group is None:
                client.group = line
                out.append(f"Hello {line}, {len(room) + 1} online.\r\n".encode())
                broadcast(f"{STAMP} * {client.name} ({line}) joined")
                room[client.name] = client
            elif line.startswith("/"):
                client.sock.send(b"".join(out) + b"Goodbye!\r\n")
                client.sock.shutdown(socket.SHUT_RDWR)
                close(client)
                return
            else:
                broadcast(f"{STAMP} {client.name} ({client.group}): {line}", but=client)
        if out:
            client.sock.send(b"".join(out))

    while True:
        for fd, _ in poll.poll():
            if fd == listener.fileno():
                while True:
                    try:
                        sock, _ = listener.accept()
                    except BlockingIOError:
                        break
                    sock.setblocking(False)
                    clients[sock.fileno()] = Client(sock)
                    poll.register(sock.fileno(), select.EPOLLIN)
                    sock.send(b"Welcome.\r\nYour name:\r\n")
            elif (client := clients.get(fd)) is not None:
                try:
                    data = client.sock.recv(65536)
                except ConnectionError:
                    data = b""
                if data:
                    handle(client, data)
                else:
                    close(client)


if __name__ == "__main__":
    main(int(sys.argv[1]))
