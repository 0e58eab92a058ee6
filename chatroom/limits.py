# -*- test-case-name: tests.test_limits -*-
"""
Small pure classes that bound what one connection or one address may do.

They know nothing of sockets or reactors: time comes in as C{now}, addresses as
strings, so the rules are tested without a network and reused by every front door.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class FloodGuard:
    """
    A token bucket for input lines, with a notice and, for persistent floods, a kick.

    C{rate} tokens a second refill up to C{burst}; each line costs one.  A line
    with no token is dropped.  Only the first drop of an episode asks for a
    notice, so a flood never makes the server talk more than the flooder.  The
    episode (and its drop count) ends once the bucket is full again, that is
    after C{burst / rate} quiet seconds; more than C{kick} drops in one episode
    means the sender keeps flooding.  A paste of a few lines fits the burst.
    """

    PASS = 0
    WARN = 1
    DROP = 2
    KICK = 3

    __slots__ = ("rate", "burst", "kick", "_tokens", "_stamp", "_dropped")

    def __init__(self, rate: float, burst: int, kick: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.kick = kick
        self._tokens = float(burst)
        self._stamp = now
        self._dropped = 0

    def check(self, now: float) -> int:
        """Account for one line arriving at C{now}; say what to do with it."""
        tokens = self._tokens + (now - self._stamp) * self.rate
        self._stamp = now
        if tokens >= self.burst:
            tokens = self.burst
            self._dropped = 0
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return self.PASS
        self._tokens = tokens
        self._dropped += 1
        if self.kick and self._dropped > self.kick:
            return self.KICK
        return self.WARN if self._dropped == 1 else self.DROP


def parse_network(text: str) -> IPNetwork:
    """Parse an address or network (C{10.0.0.0/8}, C{2001:db8::/32}, C{192.0.2.7})."""
    return ipaddress.ip_network(text.strip(), strict=False)


@functools.lru_cache(maxsize=4096)
def address_key(host: str) -> str:
    """
    The form an address is counted under: IPv4-mapped IPv6 as plain IPv4.

    A C{tcp6:} listener sees IPv4 clients as C{::ffff:a.b.c.d}; without this the
    same host would have two counts.  Scoped addresses lose their C{%zone}.
    Cached: parsing an address costs more than the rest of accepting a
    connection, and the same hosts come back.
    """
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


def in_networks(host: str, networks: Iterable[IPNetwork], not_ip: bool) -> bool:
    """
    Whether C{host} (as L{address_key} counts it: IPv4-mapped IPv6 as IPv4)
    is in one of C{networks}; C{not_ip} when it is not an IP address at all
    (a UNIX socket), since only the caller knows what that should mean.
    """
    try:
        address = ipaddress.ip_address(address_key(host))
    except ValueError:
        return not_ip
    return any(address in network for network in networks)


class AddressLimiter:
    """
    Counts open connections per address so one host can't take every slot.

    Loopback is exempt by default (as ergo does), so local tools, tunnels and
    tests are not limited; C{exempt} adds networks such as a reverse proxy or a
    lab behind NAT.  A C{limit} of 0 turns the limit off.
    """

    def __init__(
        self,
        limit: int,
        exempt: Iterable[IPNetwork] = (),
        exempt_loopback: bool = True,
    ) -> None:
        self.limit = limit
        self._exempt = (*exempt, *(LOOPBACK if exempt_loopback else ()))
        self._counts: dict[str, int] = {}

    def is_exempt(self, key: str) -> bool:
        # Not an IP (a UNIX socket, say): nothing to count by.
        return in_networks(key, self._exempt, not_ip=True)

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def acquire(self, key: str) -> bool:
        """Count one more connection from C{key}, unless that would go over the limit."""
        if not self.limit or self.is_exempt(key):
            return True
        count = self._counts.get(key, 0)
        if count >= self.limit:
            return False
        self._counts[key] = count + 1
        return True

    def release(self, key: str) -> None:
        """Forget one connection counted by a successful L{acquire}."""
        count = self._counts.get(key, 0)
        if count <= 1:
            self._counts.pop(key, None)
        else:
            self._counts[key] = count - 1
