"""
A TCP relay on loopback for tests of what the network does to a browser:
a connection that drops without a close (half-open), and a reverse proxy that
doesn't pass the C{Host} header on (the WebSocket's origin check refuses it).

It runs in threads with blocking sockets, so the same relay serves the tests
on the Twisted reactor (test_web.py) and the Selenium ones (test_browser.py).
Every socket has a timeout, and every thread ends when the relay closes.
"""

from __future__ import annotations

import re
import socket
import threading

_HOST = re.compile(rb"(?im)^host:[^\r\n]*")


class _Pair:
    """One relayed connection: the client's socket and ours to the server."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.dead = False  # half-open: the server's side is kept but hears nothing


class Relay:
    """
    Accepts on C{[::1]:relay.port} and forwards each connection to
    C{[::1]:port}.

    @param host: rewrite every request's C{Host} header to this (a proxy
        missing C{proxy_set_header Host $host}).
    """

    def __init__(self, port: int, host: bytes | None = None) -> None:
        self.target = port
        self.host = host
        self.listener = socket.create_server(("::1", 0), family=socket.AF_INET6)
        self.port = self.listener.getsockname()[1]
        self.pairs: list[_Pair] = []
        self.ghosts: list[_Pair] = []  # cut by half_open, the server's side still open
        self.upgrades = 0  # WebSocket upgrade requests seen (GET /ws)
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("::1", self.target), timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = _Pair(client, server)
            with self._lock:
                self.pairs.append(pair)
            threading.Thread(target=self._up, args=(pair,), daemon=True).start()
            threading.Thread(target=self._down, args=(pair,), daemon=True).start()

    def _up(self, pair: _Pair) -> None:
        """Client to server, the Host header rewritten if asked."""
        while True:
            try:
                data = pair.client.recv(65536)
            except OSError:
                data = b""
            if pair.dead:
                return  # the server's side stays open, and hears nothing more
            if not data:
                _close(pair.server)
                return
            if b"GET /ws" in data:
                with self._lock:
                    self.upgrades += 1
            if self.host is not None:
                data = _HOST.sub(b"Host: " + self.host, data)
            try:
                pair.server.sendall(data)
            except OSError:
                _close(pair.client)
                return

    def _down(self, pair: _Pair) -> None:
        """Server to client; once half-open, the server's writes go nowhere."""
        while True:
            try:
                data = pair.server.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(pair.client)
                _close(pair.server)
                return
            if pair.dead:
                continue
            try:
                pair.client.sendall(data)
            except OSError:
                pass

    def half_open(self) -> int:
        """
        The network drops under every connection so far: the client side is
        closed (a browser notices its network went), while the server's side
        stays open and silent, as when a Wi-Fi link goes (no FIN, no RST).
        How many connections were cut.
        """
        with self._lock:
            pairs, self.pairs = self.pairs, []
            self.ghosts += pairs
        for pair in pairs:
            pair.dead = True
            _close(pair.client)
        return len(pairs)

    def close(self) -> None:
        _close(self.listener)
        with self._lock:
            pairs, self.pairs, self.ghosts = self.pairs + self.ghosts, [], []
        for pair in pairs:
            _close(pair.client)
            _close(pair.server)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
