"""
The Redis bus's logic without Redis: a fake hub stands for the channels and
the scripts, and a task.Clock for time.  What is checked: operations apply
when they come back (on every node, in the hub's one order), a claim that
answers later, the split and the healing, a dead node's members.
"""

from __future__ import annotations

from twisted.internet import defer, task

from chatroom import messages
from chatroom.cluster import claims
from chatroom.cluster.link import Address, LinkDown
from chatroom.cluster.node import RedisBus
from chatroom.fanout import Fanout
from chatroom.lines import ENGLISH_LINES
from chatroom.room import Room
from chatroom.session import Session
from chatroom.testing import Recorder, en


class Hub:
    """Redis as the nodes see it: channels delivered in one order, names, nodes."""

    def __init__(self) -> None:
        self.buses: list[RedisBus] = []
        self.queue: list[tuple[str, str]] = []
        self.names: dict[str, str] = {}
        self.taken_next: set[str] = set()
        self.clocks: list[task.Clock] = []
        self.beats_fail = 0
        self.held_claims: list[defer.Deferred] | None = None  # a list: claims wait in it

    def deliver(self) -> None:
        """Every node's turn ends (its publishing goes out), and Redis delivers; until quiet."""
        while True:
            for clock in self.clocks:
                clock.advance(0)
            if not self.queue:
                return
            while self.queue:
                channel, message = self.queue.pop(0)
                for bus in self.buses:
                    if bus.link.up and channel in bus.link.channels:
                        bus._received(channel, message)


class FakeLink:
    def __init__(self, hub: Hub, channels: list[str]) -> None:
        self.hub = hub
        self.channels = channels
        self.up = False
        self.address = Address()

    def publish(self, channel: str, message: str):
        if not self.up:
            return defer.fail(LinkDown())
        self.hub.queue.append((channel, message))
        return defer.succeed(1)

    def eval(self, script: str, keys: list[str], args: list):
        if not self.up:
            return defer.fail(LinkDown())
        if script == claims.CLAIM and self.hub.held_claims is not None and args[1] == "new":
            waiting: defer.Deferred = defer.Deferred()
            self.hub.held_claims.append(waiting)
            return waiting
        if script == claims.CLAIM:
            won = []
            for key, value in zip(keys, args[3:], strict=True):
                held = self.hub.names.get(key)
                ok = key not in self.hub.taken_next and (
                    held in (None, value) or (args[1] == "keep" and value < held)
                )
                self.hub.taken_next.discard(key)
                if ok:
                    self.hub.names[key] = value
                won.append(int(ok))
            return defer.succeed(won)
        if script == claims.BEAT:
            if self.hub.beats_fail:
                self.hub.beats_fail -= 1
                return defer.fail(RuntimeError("ERR script error"))
            pairs = []
            for bus in self.hub.buses:
                if bus.link.up:
                    pairs += [bus.node, bus.max_clients]
            return defer.succeed(pairs)
        return defer.succeed(0)

    def check(self) -> None:
        pass

    def connect(self, bus: RedisBus) -> None:
        self.up = True
        bus._changed(True)

    def lose(self, bus: RedisBus) -> None:
        self.up = False
        bus._changed(False)


def node(hub: Hub, name: str, clock: task.Clock, connect: bool = True) -> tuple[RedisBus, Room]:
    bus = RedisBus(clock, Address(), max_clients=10, ttl=3.0, node_id=name)
    bus.link = FakeLink(hub, bus.link.channels)
    bus.claims.redis = bus.link
    room = Room(10, Fanout(None), bus=bus)
    hub.buses.append(bus)
    if clock not in hub.clocks:
        hub.clocks.append(clock)
    if connect:
        bus.link.connect(bus)
        hub.deliver()
    return bus, room


def person(
    room: Room, name: str, clock: task.Clock, peer: str = "[::1]:1", address: str = "::1"
) -> tuple[Session, Recorder]:
    out = Recorder()
    session = Session(room, out.send, out.close, peer, ENGLISH_LINES, address=address)
    session.start()
    session.line_received(name, clock.seconds())
    session.line_received("GL1", clock.seconds())
    return session, out


def two_nodes(*people: tuple[int, str]):
    """Nodes n1 and n2, with C{people} (node index, name) in, their welcome read."""
    hub, clock = Hub(), task.Clock()
    nodes = [node(hub, "n1", clock), node(hub, "n2", clock)]
    sessions = [person(nodes[index][1], name, clock) for index, name in people]
    hub.deliver()
    for _, out in sessions:
        out.lines()
    return hub, nodes, sessions


def test_joinAndSayApplyWhenTheyComeBack():
    hub, clock = Hub(), task.Clock()
    bus, room = node(hub, "n1", clock)
    ala, ala_out = person(room, "ala", clock)
    assert not ala.joined  # the join went to Redis; it applies when it comes back
    assert ala_out.lines()[-1] == en(messages.GROUP_PROMPT)
    ala.line_received("/online", 0.0)  # typed meanwhile: held, answered after the join
    assert ala_out.lines() == []
    hub.deliver()
    assert ala.joined
    lines = ala_out.lines()
    assert lines[0].startswith("Hello ala (GL1), you are in: 1/10 online")
    assert lines[1] == "Online (1/10): ala (GL1)"


def test_everyNodeSeesOneOrder():
    hub, _, people = two_nodes((0, "ala"), (1, "bob"), (0, "cyd"))
    (ala, ala_out), (bob, bob_out), (_, cyd_out) = people
    for i in range(3):
        ala.line_received(f"a{i}", 0.0)
        bob.line_received(f"b{i}", 0.0)
    assert ala_out.lines() == cyd_out.lines() == []  # nothing applied before Redis says so
    hub.deliver()
    # cyd (on ala's node) hears everything: the one order, which the others share.
    order = [line.split(": ")[1] for line in cyd_out.lines()]
    assert sorted(order) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert [line.split(": ")[1] for line in ala_out.lines()] == [x for x in order if x[0] == "b"]
    assert [line.split(": ")[1] for line in bob_out.lines()] == [x for x in order if x[0] == "a"]


def test_nameTakenElsewhereAnswersLater():
    hub, clock = Hub(), task.Clock()
    bus, room = node(hub, "n1", clock)
    hub.taken_next.add("chatroom:name:ala")
    out = Recorder()
    session = Session(room, out.send, out.close, "[::1]:1", ENGLISH_LINES)
    session.start()
    out.lines()
    # Pipelined: the claim is refused, so "ola" is the next try, as in one process.
    session.line_received("ala", 0.0)
    session.line_received("ola", 0.0)
    session.line_received("GL2", 0.0)
    hub.deliver()
    assert out.lines() == [
        en(messages.ERROR, text=en(messages.NAME_TAKEN, name="ala")),
        en(messages.NAME_PROMPT),
        en(messages.GROUP_PROMPT),
        "Hello ola (GL2), you are in: 1/10 online. Type /pomoc (/help) for the commands.",
    ]
    assert room.holder("ala") is None and bus.local == {session.member.id: session.member}


def test_splitAppliesHereAndTellsOnceThenHeals():
    hub, [(bus1, room1), _], people = two_nodes((0, "ala"), (0, "ola"), (1, "bob"))
    (ala, ala_out), (_, ola_out), (_, bob_out) = people
    assert room1.roster() == [("ala", "GL1"), ("ola", "GL1"), ("bob", "GL1")]
    bus1.link.lose(bus1)
    bus1.link.lose(bus1)  # a second loss is no second notice
    assert ala_out.lines() == [en(messages.SPLIT)]
    assert room1.roster() == [("ala", "GL1"), ("ola", "GL1")]
    ala.line_received("only here", 0.0)
    assert ola_out.lines()[-1].endswith("ala (GL1): only here")  # at once, no Redis
    bus1.link.connect(bus1)
    hub.deliver()
    assert ala_out.lines() == [en(messages.WHOLE)]
    assert room1.roster() == [("ala", "GL1"), ("ola", "GL1"), ("bob", "GL1")]
    assert bob_out.lines() == []  # nothing changed, so bob's node says nothing
    ala.line_received("across", 0.0)
    hub.deliver()
    assert bob_out.lines()[-1].endswith("ala (GL1): across")


def test_goneNodesMembersLeaveAndCapacityShrinks():
    hub, [(_, room1), (bus2, _)], [(_, ala_out), _] = two_nodes((0, "ala"), (1, "bob"))
    assert room1.capacity == 20
    bus2.link.up = False  # killed: it hears nothing more
    hub.queue.append(("chatroom:room", '{"v":1,"op":"gone","node":"n2"}'))
    hub.deliver()
    assert ala_out.lines()[0].endswith("* bob (GL1) left")
    assert room1.roster() == [("ala", "GL1")] and room1.capacity == 10


def test_nodeRedisForgotIsDroppedAfterTwoHeartbeats():
    """Redis restarted and a node never came back: no 'gone' will come for it."""
    hub, [(bus1, room1), (bus2, _)], [(_, ala_out), _] = two_nodes((0, "ala"), (1, "bob"))
    bus2.link.up = False
    bus1._heartbeat()  # once: its 'gone' may be on the way; wait
    assert ala_out.lines() == []
    bus1._heartbeat()
    assert ala_out.lines()[0].endswith("* bob (GL1) left")
    assert room1.roster() == [("ala", "GL1")]


def test_aBanDecidedOnOneNodeIsEnforcedByAll():
    """Only the target's node knows the address: it bans, and tells the others."""
    hub, [(_, room1), (_, room2)], [(ala, ala_out)] = two_nodes((0, "ala"))
    clock = task.Clock()
    bob, bob_out = person(room2, "bob", clock, "[2001:db8::7]:5000", "2001:db8::7")
    hub.deliver()
    ala_out.lines()
    room1.remove(room1.find("bob"), ala.member, 100.0, "flood", minutes=5)
    hub.deliver()
    assert bob_out.lines()[-1] == "Error: " + en(
        messages.BANNED_YOU,
        by="ala",
        reason="flood",
        duration=en(messages.FOR_MINUTES, minutes=5),
    )
    assert bob_out.closed
    assert ala_out.lines()[0].endswith("* bob (GL1) was banned for 5 minutes by ala (flood)")
    for room in (room1, room2):
        ban = room.moderation.banned("2001:db8::7", 101.0)
        assert (ban.name, ban.by, ban.until) == ("bob", "ala", 400.0)


def test_aTurnsOperationsLeaveAsOneRedisMessage():
    hub, [(bus1, _), _], [(ala, _), (_, bob_out)] = two_nodes((0, "ala"), (1, "bob"))
    for text in ("one", "two", "three"):
        ala.line_received(text, 0.0)
    ala.line_received("/nick ola", 0.0)
    for clock in hub.clocks:
        clock.advance(0)
    assert len(hub.queue) == 1  # one PUBLISH (this fake Redis grants the claim at once)
    hub.deliver()
    lines = bob_out.lines()
    assert [line.split("] ")[1] for line in lines] == [
        "ala (GL1): one",
        "ala (GL1): two",
        "ala (GL1): three",
        "* ala is now known as ola",
    ]


def test_aHealThatFailedIsRetriedByTheHeartbeat():
    hub, clock = Hub(), task.Clock()
    hub.beats_fail = 1
    bus, room = node(hub, "n1", clock)
    assert not bus.whole  # linked, but its first heal failed
    bus._heartbeat()
    hub.deliver()
    assert bus.whole and bus.maxes == {"n1": 10}


def names_seen(out: Recorder) -> list[str]:
    """The room's join and rename lines a member read, without their stamps."""
    return [
        line.split("] ", 1)[1]
        for line in out.lines()
        if " joined (" in line or " is now known as " in line
    ]


def unique(room: Room) -> bool:
    keys = [name.casefold() for name, _ in room.roster()]
    return len(keys) == len(set(keys))


def test_namesGivenTwiceDuringASplitAreNeverShownTwice():
    """
    Redis restarts empty; n2 refreshes its claims first and takes eve and ala
    for a while, n1 (the older claims) takes them back.  n1's members never
    see a second eve or ala: n2's members are shown once renamed.
    """
    hub, clock = Hub(), task.Clock()
    (bus1, room1), (bus2, room2) = node(hub, "n1", clock), node(hub, "n2", clock)
    _, ala_out = person(room1, "ala", clock)
    bob, bob_out = person(room2, "bob", clock)
    hub.deliver()
    for bus in (bus1, bus2):
        bus.link.lose(bus)
    _, eve_out = person(room1, "eve", clock)
    clock.advance(1)  # n1's claims are the older ones
    _, eve2_out = person(room2, "Eve", clock)
    bob.line_received("/nick ala", clock.seconds())
    for out in (ala_out, bob_out, eve_out, eve2_out):
        out.lines()
    hub.names.clear()  # Redis restarted: it remembers nothing
    bus2.link.connect(bus2)
    hub.deliver()
    bus1.link.connect(bus1)
    hub.deliver()
    assert unique(room1) and unique(room2)
    assert sorted(names_seen(ala_out)) == [
        "* Eve2 (GL1) joined (4/20 online)",
        "* bob is now known as ala2",
    ]
    seen = names_seen(bob_out)
    assert sorted(seen) == [
        "* Eve is now known as Eve2",
        "* ala is now known as ala2",
        "* eve (GL1) joined (4/20 online)",
    ]
    assert seen[-1] == "* eve (GL1) joined (4/20 online)"  # once n2's Eve is Eve2
    assert sorted(room1.roster()) == sorted(room2.roster())
    assert len(room1.roster()) == 4


def test_aNodeNotYetWholeShowsNothingOfTheOthers():
    """
    Linked again but not whole (its heal failed halfway): the others'
    rosters and lines wait; the first thing its members read is that the
    room is whole, then the others, with the room's n/max.
    """
    hub, [(bus1, room1), (bus2, _)], [(_, ala_out), (bob, _)] = two_nodes((0, "ala"), (1, "bob"))
    for bus in (bus1, bus2):
        bus.link.lose(bus)
    ala_out.lines()
    hub.beats_fail = 1
    bus1.link.connect(bus1)  # linked, but its heartbeat failed: not whole
    assert not bus1.whole
    bus2.link.connect(bus2)  # heals: its hello and roster reach n1
    hub.deliver()
    bob.line_received("/nick robert", 0.0)
    bob.line_received("anyone there?", 0.0)
    hub.deliver()
    assert ala_out.lines() == []
    assert room1.capacity == 10
    bus1._heartbeat()
    hub.deliver()
    lines = ala_out.lines()
    assert lines[0] == en(messages.WHOLE)
    assert [line.split("] ", 1)[1] for line in lines[1:]] == ["* bob is now known as robert"]
    assert room1.capacity == 20
    ala_out.lines()


def test_aRosterSentWhileARenameIsOnItsWayHasTheNewName():
    hub, [(bus1, _), (bus2, room2)], [(ala, _), (_, bob_out)] = two_nodes((0, "ala"), (1, "bob"))
    ala.line_received("/nick ola", 0.0)
    for clock in hub.clocks:
        clock.advance(0)  # the rename claimed its name and is on its way
    bus1._publish(bus1._state(hello=False))
    hub.deliver()
    assert names_seen(bob_out) == ["* ala is now known as ola"]
    assert room2.roster() == [("ola", "GL1"), ("bob", "GL1")]


def test_aNodeRestartedUnderItsIdIsNotTakenForItsEarlierRun():
    """
    Killed and restarted at once with the same node id, before the TTL: its
    first member (in before Redis answered) is someone new, not the earlier
    run's first member renamed.
    """
    hub, [_, (bus2, _)], [(_, ala_out), _] = two_nodes((0, "ala"), (1, "cyd"))
    bus2.link.up = False  # kill -9
    hub.buses.remove(bus2)
    clock = hub.clocks[0]
    _, room = node(hub, "n2", clock, connect=False)
    person(room, "dan", clock)
    again = hub.buses[-1]
    again.link.connect(again)
    hub.deliver()
    assert [line.split("] ", 1)[1] for line in ala_out.lines()] == [
        "* cyd (GL1) left",
        "* dan (GL1) joined (2/20 online)",
    ]


def test_aNameClaimedHereAndThereIsShownOnceTheClaimHereFails():
    """
    Two people pick one name on two nodes at once: while this node's claim
    is still out, the winner elsewhere is kept out of sight; once Redis says
    taken, the winner is shown at once (not at the next heartbeat).
    """
    hub, [(_, room1), (_, room2)], [(_, bob_out)] = two_nodes((1, "bob"))
    held = hub.held_claims = []
    out = Recorder()
    zed = Session(room2, out.send, out.close, "[::1]:2", ENGLISH_LINES)
    zed.start()
    zed.line_received("zed", 0.0)  # n2's claim is out
    hub.held_claims = None
    person(room1, "Zed", hub.clocks[0])  # n1's is granted
    hub.deliver()
    assert names_seen(bob_out) == []  # "zed" is still being claimed here
    held[0].callback([0])
    hub.deliver()
    assert out.lines()[-2:] == [
        en(messages.ERROR, text=en(messages.NAME_TAKEN, name="zed")),
        en(messages.NAME_PROMPT),
    ]
    assert names_seen(bob_out) == ["* Zed (GL1) joined (2/20 online)"]
