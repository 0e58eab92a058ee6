# -*- test-case-name: tests.test_telnet -*-
"""
A small telnet (RFC 854) filter: commands out of the byte stream, options answered.

Why not C{twisted.conch.telnet}: it loops over input one byte at a time in
Python and raises C{ValueError("Stumped")} on an unexpected byte after IAC, so a
hostile client could trip it.  This filter copies plain data in slices, keeps its
state across chunks (negotiation is often split between packets), bounds
subnegotiations, and never answers the same option twice, so two peers can't
talk each other into a loop.

Why negotiate at all: a real C{telnet} in its default (NVT) mode mangles bytes
above 0x7F: Polish letters lose a byte or leave as IAC IP / IAC SUSP.  Offering
BINARY both ways (RFC 856) makes the same client send UTF-8 intact.  C{nc}
users see nothing of it: the bytes are not printable text.
"""

from __future__ import annotations

from collections.abc import Callable

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
BINARY, ECHO, SGA = 0, 1, 3

# Options we are happy to have on: binary transmission, and suppress-go-ahead
# (we never send GA anyway).
_ACCEPTED = (1 << BINARY) | (1 << SGA)

# Subnegotiations carry terminal types and window sizes: a few dozen bytes.
# Past this, the client is not speaking telnet; the rest is treated as data.
MAX_SUBNEGOTIATION = 512

_DATA, _IAC, _OPTION, _SB, _SB_IAC = range(5)

# Sent on connect: "I will send binary, please do too" (RFC 856).
OFFER = bytes((IAC, WILL, BINARY, IAC, DO, BINARY))


class TelnetFilter:
    """
    Strips telnet commands from received bytes, answering option requests.

    @ivar answer: called with the bytes to send back (a negotiation reply), or
        L{None} to only strip (the client side does that).
    """

    __slots__ = ("answer", "_state", "_verb", "_sb_length", "_local", "_remote", "_refused")

    def __init__(
        self, answer: Callable[[bytes], object] | None = None, offered: bool = False
    ) -> None:
        """
        @param offered: L{OFFER} was already sent, so the peer's C{DO BINARY}
            and C{WILL BINARY} are acknowledgements, not requests.
        """
        self.answer = answer
        self._state = _DATA
        self._verb = 0
        self._sb_length = 0
        # Bit sets of options (ints: a filter exists per connection, and an
        # int costs far less than a set): on our side (we WILL), on the peer's
        # side (they WILL), and refusals already sent (verb DONT: bit n,
        # verb WONT: bit 256 + n).
        self._local = self._remote = (1 << BINARY) if offered else 0
        self._refused = 0

    @property
    def idle(self) -> bool:
        """True when no command is half-received (so plain data can skip L{feed})."""
        return self._state == _DATA

    def feed(self, data: bytes) -> bytes:
        """Return C{data} with every telnet command removed."""
        if self._state == _DATA and b"\xff" not in data:
            return data
        out: list[bytes] = []
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _DATA:
                j = data.find(b"\xff", i)
                if j < 0:
                    out.append(data[i:])
                    break
                out.append(data[i:j])
                i = j + 1
                self._state = _IAC
                continue
            if state == _SB:
                j = data.find(b"\xff", i)
                end = n if j < 0 else j
                self._sb_length += end - i
                i = end
                if self._sb_length > MAX_SUBNEGOTIATION:
                    self._state = _DATA
                elif j >= 0:
                    i += 1
                    self._state = _SB_IAC
                continue
            byte = data[i]
            i += 1
            if state == _IAC:
                if byte == IAC:
                    out.append(b"\xff")  # an escaped 0xFF data byte
                    self._state = _DATA
                elif WILL <= byte <= DONT:
                    self._verb = byte
                    self._state = _OPTION
                elif byte == SB:
                    self._sb_length = 0
                    self._state = _SB
                else:
                    self._state = _DATA  # NOP, GA, IP, AYT...: nothing to do
            elif state == _OPTION:
                self._state = _DATA
                self._negotiate(self._verb, byte)
            else:  # _SB_IAC
                self._state = _DATA if byte == SE else _SB
        return b"".join(out)

    def _negotiate(self, verb: int, option: int) -> None:
        if self.answer is None:
            return
        if verb == WILL:
            self._agree(True, option, DO, DONT)
        elif verb == DO:
            self._agree(False, option, WILL, WONT)
        elif verb == WONT:
            self._disable(True, option, DONT)
        else:
            self._disable(False, option, WONT)

    def _agree(self, remote: bool, option: int, yes: int, no: int) -> None:
        bit = 1 << option
        enabled = self._remote if remote else self._local
        if enabled & bit:
            return  # an acknowledgement of what we asked for, or a repeat
        if _ACCEPTED & bit:
            if remote:
                self._remote |= bit
            else:
                self._local |= bit
            self._reply(yes, option)
            return
        refusal = bit << (0 if no == DONT else 256)
        if not self._refused & refusal:
            self._refused |= refusal
            self._reply(no, option)

    def _disable(self, remote: bool, option: int, ack: int) -> None:
        bit = 1 << option
        if remote and self._remote & bit:
            self._remote &= ~bit
        elif not remote and self._local & bit:
            self._local &= ~bit
        else:
            return
        self._reply(ack, option)

    def _reply(self, verb: int, option: int) -> None:
        assert self.answer is not None
        self.answer(bytes((IAC, verb, option)))
