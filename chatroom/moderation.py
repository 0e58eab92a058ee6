# -*- test-case-name: tests.test_moderation -*-
"""
Operators, bans and mutes: the rules of moderation, with no sockets and no
clock (time comes in as C{now}, seconds since the epoch).

  - An operator is a member who gave the password (C{/op}); it lasts for
    their session.  Wrong passwords are answered more and more slowly, per
    session: after a session's n-th failure in a row it may try again only
    after 2**(n-1) seconds (at most ten minutes), so guessing is hopeless
    and a typo costs a second.  Reconnecting starts a new session, so an
    address is capped as well, generously: after L{ADDRESS_LIMIT} failures
    within L{ADDRESS_WINDOW} seconds nobody there is heard until the oldest
    of them is that old.  In a lab behind one NAT address a student guessing
    from one session never delays the teacher's first attempt.
  - A ban refuses an address until a time (an IPv4 address, or an IPv6
    address's /64: one host picks new addresses in its /64 at will); loopback (and whatever else is
    C{protected}) is never banned, so the admin can't lock themselves out.
  - A mute refuses a name's public lines until a time; it follows the person
    through renames and outlives a reconnect under the same name.

Every decision is plain data (a L{Ban}; a name key and a time), made on one
node and applied with the same methods on every other: a cluster sends these
over its bus and calls L{Moderation.ban}, L{Moderation.mute}... on each node.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import math
from collections import deque
from dataclasses import dataclass, replace

from chatroom.limits import LOOPBACK, IPNetwork, address_key, in_networks

MAX_MINUTES = 7 * 24 * 60
"""The longest ban or mute: a week (a restart forgets them anyway)."""

_MAX_WAIT = 600.0  # the longest a session waits after a wrong password
ADDRESS_LIMIT = 30
"""Wrong passwords from one address within L{ADDRESS_WINDOW} before it must wait."""
ADDRESS_WINDOW = 600.0
_MAX_TRACKED = 4096  # addresses with failures kept; beyond, the stale ones go


@dataclass(frozen=True, slots=True)
class Ban:
    """An address refused until C{until}; who was banned, by whom, and why."""

    address: str
    until: float
    name: str
    by: str
    reason: str = ""


def minutes_left(until: float, now: float) -> int:
    """Whole minutes, rounded up: a ban with 10 seconds to go still says 1 minute."""
    return max(1, math.ceil((until - now) / 60))


@functools.lru_cache(maxsize=1024)
def ban_scope(address: str) -> str:
    """
    What a ban on C{address} covers, as a key and as shown in C{/bans}: an
    IPv4 address itself (C{192.0.2.7}); for IPv6 its /64
    (C{2001:db8:1:2::/64}), since a host makes up new addresses in its /64
    (privacy addresses) and one network is given a /64.  Also takes what an
    operator types to C{/unban}: C{[2001:db8::1]}, C{2001:db8:1:2::/64}.
    Anything that is not an IP address is left as it is.
    """
    text = address.strip().strip("[]")
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
        else:
            network = ipaddress.ip_network(address_key(text))
    except ValueError:
        return text
    if network.version == 4:
        return str(network.network_address) if network.prefixlen == 32 else str(network)
    if network.prefixlen == 128 and network.network_address.is_loopback:
        return str(network.network_address)  # ::1 is one host, not a network
    if network.prefixlen >= 64:
        network = network.supernet(new_prefix=64)
    return str(network)


class Moderation:
    """
    One room's moderation state.

    @param password: the operators' password; L{None}: nobody can become one.
    @param protected: networks never banned (loopback by default).
    """

    OK, WRONG, WAIT, DISABLED = range(4)

    def __init__(
        self, password: str | None = None, protected: tuple[IPNetwork, ...] = LOOPBACK
    ) -> None:
        self._password = password.encode("utf-8") if password else None
        self.protected = protected
        self.operators: set[str] = set()
        self.bans: dict[str, Ban] = {}
        self.mutes: dict[str, float] = {}
        # session (its member's name key) -> (failures in a row, no new try before)
        self._streaks: dict[str, tuple[int, float]] = {}
        # address -> the times of its latest failures (at most ADDRESS_LIMIT)
        self._failures: dict[str, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        """Whether anyone can become an operator (a password was configured)."""
        return self._password is not None

    # Operators.

    def login(self, attempt: str, address: str, now: float, session: str = "") -> tuple[int, float]:
        """
        Check a C{/op} password from C{session} (its member's name key) at
        C{address}: (L{OK}, 0), (L{WRONG}, 0), (L{WAIT}, seconds to wait) or
        (L{DISABLED}, 0).  While the session or the address must wait,
        attempts are not even compared.
        """
        if self._password is None:
            return self.DISABLED, 0.0
        streak, not_before = self._streaks.get(session, (0, 0.0))
        if now < not_before:
            return self.WAIT, not_before - now
        recent = self._failures.get(address)
        if recent is not None:
            while recent and recent[0] + ADDRESS_WINDOW <= now:
                recent.popleft()
            if len(recent) >= ADDRESS_LIMIT:
                return self.WAIT, recent[0] + ADDRESS_WINDOW - now
        if hmac.compare_digest(attempt.strip().encode("utf-8"), self._password):
            self._streaks.pop(session, None)
            return self.OK, 0.0
        streak += 1
        self._streaks[session] = (streak, now + min(2.0 ** (streak - 1), _MAX_WAIT))
        if recent is None:
            if len(self._failures) >= _MAX_TRACKED:
                self._forget(now)
            recent = self._failures[address] = deque(maxlen=ADDRESS_LIMIT)
        recent.append(now)
        return self.WRONG, 0.0

    def failures(self, session: str) -> int:
        """Wrong passwords in a row from C{session}."""
        return self._streaks.get(session, (0, 0.0))[0]

    def recent_failures(self, address: str, now: float) -> int:
        """Wrong passwords from C{address} in the last L{ADDRESS_WINDOW} seconds."""
        return sum(1 for time in self._failures.get(address, ()) if time + ADDRESS_WINDOW > now)

    def _forget(self, now: float) -> None:
        stale = [a for a, times in self._failures.items() if times[-1] + ADDRESS_WINDOW <= now]
        for address in stale or list(self._failures)[: _MAX_TRACKED // 2]:
            del self._failures[address]

    # Bans, by address.

    def is_protected(self, address: str) -> bool:
        """Loopback (and the other C{protected} networks), or not an IP address at all."""
        return in_networks(address, self.protected, not_ip=True)  # a UNIX socket: a local user

    def ban_address(self, address: str, until: float, name: str, by: str, why: str) -> Ban | None:
        """
        An operator's ban of C{name} at C{address}, as stored (its C{address}
        the scope L{ban} chose); L{None} when the address is protected: only
        a kick then.  The one place both the C{/ban} command and a cluster
        node (for a ban asked on another node) decide a ban.
        """
        if self.is_protected(address):
            return None
        return self.ban(Ban(address, until, name, by, why))

    def ban(self, ban: Ban) -> Ban:
        """
        Refuse C{ban.address} (for IPv6: its /64, see L{ban_scope}) until
        C{ban.until}; only the address itself if its /64 holds a protected one.
        Returns the ban as stored, with the address it covers.
        """
        scope = ban_scope(ban.address)
        if "/" in scope and self._shelters(ipaddress.ip_network(scope)):
            scope = address_key(ban.address.strip().strip("[]"))
        stored = self.bans[scope] = replace(ban, address=scope)
        return stored

    def _shelters(self, network: IPNetwork) -> bool:
        return any(
            network.version == protected.version and network.overlaps(protected)
            for protected in self.protected
        )

    def unban(self, address: str) -> Ban | None:
        """Lift the ban covering C{address} (an address, or the /64 shown); the ban lifted."""
        lifted = self.bans.pop(ban_scope(address), None)
        if lifted is None:
            lifted = self.bans.pop(address_key(address.strip().strip("[]")), None)
        return lifted

    def banned(self, address: str, now: float) -> Ban | None:
        """The ban in force at C{now} covering C{address}, if any (expired ones are dropped)."""
        if not self.bans:
            return None
        for key in {ban_scope(address), address_key(address)}:
            ban = self.bans.get(key)
            if ban is not None:
                if ban.until > now:
                    return ban
                del self.bans[key]
        return None

    def active_bans(self, now: float) -> list[Ban]:
        """The bans in force, soonest to end first."""
        for address in [a for a, ban in self.bans.items() if ban.until <= now]:
            del self.bans[address]
        return sorted(self.bans.values(), key=lambda ban: ban.until)

    # Mutes, by name key.

    def mute(self, key: str, until: float) -> None:
        self.mutes[key] = until

    def unmute(self, key: str) -> bool:
        return self.mutes.pop(key, None) is not None

    def muted(self, key: str, now: float) -> float:
        """Seconds of mute left for C{key} at C{now}; 0 when free to speak."""
        until = self.mutes.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self.mutes[key]
            return 0.0
        return until - now

    # A member's name changes or they leave.

    def renamed(self, old: str, new: str) -> None:
        """Operator status, a mute and a wrong-password streak follow the person."""
        streak = self._streaks.pop(old, None)
        if streak is not None:
            self._streaks[new] = streak
        if old in self.operators:
            self.operators.discard(old)
            self.operators.add(new)
        until = self.mutes.pop(old, None)
        if until is not None:
            self.mutes[new] = until

    def left(self, key: str) -> None:
        """Operator status (and a password streak) end with the session; a mute stays."""
        self.operators.discard(key)
        self._streaks.pop(key, None)
