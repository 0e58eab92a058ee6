"""
Property-based: whatever bytes arrive, in whatever chunks, from whichever
peers, the server never raises, never relays raw control characters, and its
state stays consistent.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from twisted.internet import task

from chatroom.names import name_key
from chatroom.protocol import ChatProtocol
from chatroom.settings import Settings
from chatroom.telnet import TelnetFilter
from chatroom.testing import FakePeer, make_factory

LIMITS = Settings(
    max_clients=4, max_per_ip=0, max_line=64, max_line_hard=256, rate=5, burst=10, flood_kick=30
)
# Anything a terminal would act on, once decoded: C0, DEL, C1, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

pieces = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"\n",
            b"\r\n",
            b"\r\x00",
            b"ala\n",
            b"Ala\n",
            b"bob\n",
            b"GL3\n",
            b"/msg ala hi\n",
            b"/w bob x\n",
            b"/nick ola\n",
            b"/changename ala\n",
            b"/online\n",
            b"/who\n",
            b"/pomoc\n",
            b"/quit\n",
            b"/wyjdz\n",
            b"//x\n",
            b"/\n",
            b"\x1b[2J\x07\n",
            "zażółć ĄŚ\n".encode(),
            b"\xff\xfd\x01",
            b"\xff\xfb\x00",
            b"\xff\xfa\x18",
            b"\xff\xf0",
            b"\xff\xff",
            b"\xff",
            b"x" * 70,
            b"\xe2\x80\xae\n",
            b"\xc5",
            b"\x82\n",
        ]
    ),  # fmt: skip
)


class ServerUnderFire(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.factory = make_factory(LIMITS, self.clock, batch=True)
        self.peers: list[FakePeer] = []
        self.screens: dict[FakePeer, TelnetFilter] = {}
        self.port = 1

    def live(self) -> list[FakePeer]:
        return [peer for peer in self.peers if peer.transport.connected]

    @rule(host=st.sampled_from(["::1", "2001:db8::1", "::ffff:192.0.2.1", "192.0.2.1"]))
    def connect(self, host):
        self.port += 1
        peer = FakePeer(self.factory, host, self.port)
        self.peers.append(peer)
        self.screens[peer] = TelnetFilter()
        self.check_output(peer)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), chunks=st.lists(pieces, min_size=1, max_size=6))
    def send(self, data, chunks):
        peer = data.draw(st.sampled_from(self.live()))
        if isinstance(peer.protocol, ChatProtocol):
            peer.send(b"".join(chunks))

    @precondition(lambda self: self.live())
    @rule(data=st.data(), name=st.sampled_from(["ala", "Ala", "bob", "Żaneta", "x" * 21]))
    def register(self, data, name):
        """A well-formed registration, so that the room fills up and talks."""
        peer = data.draw(st.sampled_from(self.live()))
        if isinstance(peer.protocol, ChatProtocol):
            peer.send(f"{name}\nGL3\n".encode())

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def drop(self, data):
        peer = data.draw(st.sampled_from(self.live()))
        peer.drop()

    @rule(seconds=st.sampled_from([0, 0, 0.1, 1, 5, 61]))
    def wait(self, seconds):
        self.clock.advance(seconds)
        # Connections the server closed finish closing.
        for peer in self.live():
            if peer.closing:
                peer.drop()

    def check_output(self, peer: FakePeer) -> None:
        data = self.screens[peer].feed(peer.raw())
        text = data.decode("utf-8")  # the server only ever writes UTF-8
        for line in text.replace("\r\n", "\n").split("\n"):
            line = line.lstrip("\r")  # the CR answering a telnet bare LF
            assert not RAW_CONTROL.search(line), repr(line)

    @invariant()
    def output_is_clean(self):
        for peer in self.peers:
            self.check_output(peer)

    @invariant()
    def state_is_consistent(self):
        room = self.factory.room
        sessions = [
            p.protocol.session
            for p in self.live()
            if isinstance(p.protocol, ChatProtocol) and p.protocol.session is not None
        ]
        joined = [s.member for s in sessions if s.joined]
        assert room.online == len(joined)
        assert set(room.fanout) == set(joined)
        keys = [name_key(member.name) for member in joined]
        assert len(keys) == len(set(keys))
        for key, member in room._names.items():
            assert member.key == key == name_key(member.name)
        # Names are held by live sessions only: a leaver's name is free at once.
        holders = {s.member for s in sessions if s.member is not None and not s.ended}
        assert set(room._names.values()) == holders
        live_protocols = {p.protocol for p in self.live() if isinstance(p.protocol, ChatProtocol)}
        assert self.factory.connections == live_protocols
        assert len(self.factory.connections) <= LIMITS.max_clients
        for protocol in live_protocols:
            assert len(protocol._buffer) <= LIMITS.max_line


TestServerUnderFire = ServerUnderFire.TestCase
TestServerUnderFire.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
