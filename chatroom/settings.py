# -*- test-case-name: tests.test_tap -*-
"""
Every limit and switch of a chat server, with its default, in one record.

The defaults follow what mature chat servers ship (see docs/limits.md):
generous enough for a computer lab behind one NAT address or a pasted
paragraph, small enough that no single client can exhaust the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatroom.limits import IPNetwork


@dataclass(frozen=True)
class Settings:
    max_clients: int = 50
    """Connections at once, registering ones included; over it, one line and close."""

    max_per_ip: int = 10
    """Connections at once from one address; 0 turns the limit off."""

    exempt: tuple[IPNetwork, ...] = field(default_factory=tuple)
    """Addresses or networks the per-address limit does not apply to."""

    exempt_loopback: bool = True
    """Loopback (::1, 127.0.0.0/8) is not counted per address."""

    max_line: int = 4096
    """Longest accepted line in bytes; a longer one is refused and skipped."""

    max_line_hard: int = 65536
    """Bytes without a newline after which the connection is closed."""

    rate: float = 5.0
    """Lines a second each connection may send; 0 turns flood control off."""

    burst: int = 10
    """Lines that may come at once before the rate applies."""

    flood_kick: int = 100
    """Dropped lines in one flood after which the sender is disconnected; 0 never."""

    max_output: int = 1 << 20
    """Bytes queued for a client that stopped reading before it is disconnected."""

    register_timeout: float = 60.0
    """Seconds a connection has to choose a name and group."""

    idle_timeout: float | None = None
    """Seconds of silence after which a member is disconnected; None: never."""

    telnet: bool = True
    """Offer telnet BINARY mode on connect, so telnet users can type Polish letters."""

    close_timeout: float = 10.0
    """Seconds a closing connection may take to flush before it is cut."""

    shutdown_grace: float = 2.0
    """Seconds connections get to close cleanly when the server stops."""

    write_through: bool = True
    """
    Plain TCP connections write to their socket directly when nothing is
    queued (fast; relies on Twisted internals, checked at start-up: see
    L{chatroom.writethrough}).  False: always through C{transport.write}.
    """

    history: int = 50
    """Public messages replayed to each newcomer; 0 turns history off."""

    web_ping: float = 30.0
    """Seconds between pings to a browser; one unanswered by the next closes it; 0: none."""
