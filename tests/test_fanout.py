from dataclasses import dataclass

from twisted.internet import task

from chatroom.events import Event
from chatroom.fanout import Fanout
from chatroom.testing import Recorder


@dataclass
class Say(Event):
    """An event that is its own rendering: these tests are about delivery."""

    data: bytes


class Plain:
    """One audience that shows every L{Say} as its bytes."""

    @staticmethod
    def render(event: Say) -> bytes:
        return event.data

    pack = staticmethod(b"".join)


def plain_recorder() -> Recorder:
    member = Recorder()
    member.audience = Plain
    return member


def batched():
    clock = task.Clock()
    return clock, Fanout(lambda flush: clock.callLater(0, flush))


def members(fanout, n):
    recorders = [plain_recorder() for _ in range(n)]
    for recorder in recorders:
        fanout.add(recorder)
    return recorders


def test_immediateWithoutSchedule():
    fanout = Fanout()
    a, b = members(fanout, 2)
    fanout.broadcast(Say(b"x\r\n"), exclude=a)
    assert (a.data, b.data) == (b"", b"x\r\n")


def test_turnCoalescedIntoOneWritePerRecipient():
    clock, fanout = batched()
    a, b, c = members(fanout, 3)
    writes = []
    c.send = writes.append
    fanout.broadcast(Say(b"1\r\n"), exclude=a)
    fanout.broadcast(Say(b"2\r\n"), exclude=b)
    fanout.broadcast(Say(b"3\r\n"))
    assert writes == []
    clock.advance(0)
    assert writes == [b"1\r\n2\r\n3\r\n"]
    assert a.lines() == ["2", "3"]
    assert b.lines() == ["1", "3"]


def test_directKeepsItsPlaceInTheOrder():
    # A public message, then a private one to b, then another public one:
    # b sees them in that order, nobody else sees the private line.
    clock, fanout = batched()
    a, b, c = members(fanout, 3)
    fanout.broadcast(Say(b"pub1\r\n"), exclude=a)
    fanout.direct(b, Say(b"priv\r\n"))
    fanout.direct(a, Say(b"ack\r\n"))
    fanout.broadcast(Say(b"pub2\r\n"), exclude=a)
    clock.advance(0)
    assert a.lines() == ["ack"]
    assert b.lines() == ["pub1", "priv", "pub2"]
    assert c.lines() == ["pub1", "pub2"]


def test_directWithNothingQueuedGoesAtOnce():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    fanout.direct(a, Say(b"now\r\n"))
    assert a.lines() == ["now"]
    assert clock.getDelayedCalls() == []


def test_oneScheduledFlushPerTurn():
    clock, fanout = batched()
    members(fanout, 2)
    for i in range(50):
        fanout.broadcast(Say(b"%d\r\n" % i))
    assert len(clock.getDelayedCalls()) == 1


def test_joinerDoesNotGetWhatWasSaidBefore():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    fanout.broadcast(Say(b"before\r\n"))
    late = plain_recorder()
    fanout.add(late)
    fanout.broadcast(Say(b"after\r\n"))
    clock.advance(0)
    assert a.lines() == ["before", "after"]
    assert late.lines() == ["after"]


def test_leaverGetsEverythingUpToLeaving():
    clock, fanout = batched()
    a, b = members(fanout, 2)
    fanout.broadcast(Say(b"one\r\n"), exclude=a)
    fanout.direct(b, Say(b"bye\r\n"))
    fanout.remove(b)
    fanout.broadcast(Say(b"two\r\n"), exclude=a)
    clock.advance(0)
    assert b.lines() == ["one", "bye"]


def test_brokenRecipientDoesNotStopTheBroadcast(log_events):
    clock, fanout = batched()
    a, broken, c = members(fanout, 3)

    def explode(data):
        raise RuntimeError("boom")

    broken.send = explode
    fanout.broadcast(Say(b"x\r\n"))
    fanout.broadcast(Say(b"y\r\n"))
    clock.advance(0)
    fanout.broadcast(Say(b"z\r\n"))
    clock.advance(0)
    assert a.lines() == c.lines() == ["x", "y", "z"]
    failures = [e["log_failure"] for e in log_events if "log_failure" in e]
    assert len(failures) == 2
    assert all(f.check(RuntimeError) for f in failures)


def test_recipientLeavingDuringFlushIsSafe():
    clock, fanout = batched()
    a, b, c = members(fanout, 3)

    def leave_on_send(data):
        fanout.remove(b)
        fanout.broadcast(Say(b"b left\r\n"))

    b.send = leave_on_send
    fanout.broadcast(Say(b"x\r\n"))
    clock.advance(0)
    clock.advance(0)
    assert a.lines() == c.lines() == ["x", "b left"]
    assert b not in fanout


def test_joinAndLeaveInTheSameTurn():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    visitor = plain_recorder()
    fanout.broadcast(Say(b"before\r\n"))
    fanout.add(visitor)
    fanout.broadcast(Say(b"during\r\n"))
    fanout.direct(visitor, Say(b"just you\r\n"))
    fanout.remove(visitor)
    fanout.broadcast(Say(b"after\r\n"))
    clock.advance(0)
    assert visitor.lines() == ["during", "just you"]
    assert a.lines() == ["before", "during", "after"]


def test_crowdJoiningInOneTurnCostsOneWritePerMember():
    clock, fanout = batched()
    old = members(fanout, 3)
    writes = []
    old[0].send = writes.append
    newcomers = []
    for i in range(100):
        newcomer = plain_recorder()
        fanout.add(newcomer)
        fanout.broadcast(Say(b"%d joined\r\n" % i), exclude=newcomer)
        newcomers.append(newcomer)
    clock.advance(0)
    assert len(writes) == 1
    assert writes[0].count(b"joined") == 100
    # each newcomer hears of those who came after it, not before
    assert newcomers[0].lines() == [f"{i} joined" for i in range(1, 100)]
    assert newcomers[-1].lines() == []


def test_releaseDeliversALeaversShareNowAndOnlyOnce():
    clock, fanout = batched()
    a, b = members(fanout, 2)
    writes = []
    b.send = writes.append
    fanout.broadcast(Say(b"before\r\n"), exclude=a)
    fanout.direct(b, Say(b"goodbye\r\n"))
    fanout.remove(b)
    fanout.broadcast(Say(b"b left\r\n"))
    fanout.release(b)
    assert writes == [b"before\r\ngoodbye\r\n"]
    assert a.lines() == []  # the others wait for the end of the turn
    clock.advance(0)
    assert writes == [b"before\r\ngoodbye\r\n"]
    assert a.lines() == ["b left"]


def test_releaseOfAMemberWithNothingQueued():
    clock, fanout = batched()
    a, b = members(fanout, 2)
    fanout.remove(b)
    fanout.release(b)
    fanout.broadcast(Say(b"x\r\n"))
    clock.advance(0)
    assert b.lines() == []
    assert a.lines() == ["x"]


class Counting:
    """An audience that counts its renderings: the fan-out's promise is one per event."""

    def __init__(self, tag: bytes) -> None:
        self.tag = tag
        self.renders = 0

    def render(self, event: Say) -> bytes:
        self.renders += 1
        return self.tag + event.data

    pack = staticmethod(b"".join)


def test_renderedOncePerAudienceNotPerRecipient():
    """
    Two audiences (say, English and Polish lines) of 50 members each: every
    event is rendered once per audience, whatever the number of recipients,
    and each member gets its own audience's bytes.
    """
    clock, fanout = batched()
    english, polish = Counting(b"en:"), Counting(b"pl:")
    members = []
    for i in range(100):
        member = Recorder()
        member.audience = english if i % 2 else polish
        fanout.add(member)
        members.append(member)
    fanout.broadcast(Say(b"one\r\n"), exclude=members[0])
    fanout.direct(members[1], Say(b"just you\r\n"))
    fanout.broadcast(Say(b"two\r\n"))
    clock.advance(0)
    # Two broadcasts for each audience; the direct event once, for its reader.
    assert (english.renders, polish.renders) == (3, 2)
    assert members[0].lines() == ["pl:two"]
    assert members[1].lines() == ["en:one", "en:just you", "en:two"]
    assert members[2].lines() == ["pl:one", "pl:two"]
    assert members[3].lines() == ["en:one", "en:two"]


def test_singleBroadcastRenderedOncePerAudience():
    fanout = Fanout()
    english, polish = Counting(b"en:"), Counting(b"pl:")
    members = []
    for audience in (english, polish, english, polish):
        member = Recorder()
        member.audience = audience
        fanout.add(member)
        members.append(member)
    fanout.broadcast(Say(b"x\r\n"))
    assert (english.renders, polish.renders) == (1, 1)
    assert [m.lines() for m in members] == [["en:x"], ["pl:x"], ["en:x"], ["pl:x"]]


def test_regroupDeliversWhatWasQueuedInTheOldAudienceFirst():
    clock, fanout = batched()
    english, polish = Counting(b"en:"), Counting(b"pl:")
    member = Recorder()
    member.audience = english
    fanout.add(member)
    fanout.broadcast(Say(b"before\r\n"))
    fanout.regroup(member, polish)
    fanout.broadcast(Say(b"after\r\n"))
    clock.advance(0)
    assert member.lines() == ["en:before", "pl:after"]
    assert fanout.audiences() == [polish]


def test_regroupLeavesEveryoneElsesBatchAlone():
    """A change of language mid-turn: the others still get one write this turn."""

    class Counted(Recorder):
        writes = 0

        def send(self, data: bytes) -> None:
            self.writes += 1
            super().send(data)

    clock, fanout = batched()
    english, polish = Counting(b"en:"), Counting(b"pl:")
    switcher, other, third = Counted(), Counted(), Counted()
    for member in (switcher, other, third):
        member.audience = english
        fanout.add(member)
    fanout.broadcast(Say(b"one\r\n"))
    fanout.direct(switcher, Say(b"yours\r\n"))
    fanout.broadcast(Say(b"two\r\n"), exclude=switcher)
    fanout.regroup(switcher, polish)
    assert switcher.lines() == ["en:one", "en:yours"]  # its share so far, at once
    assert other.lines() == []  # nobody else's batch was flushed
    fanout.direct(switcher, Say(b"set\r\n"))
    fanout.broadcast(Say(b"three\r\n"))
    fanout.regroup(switcher, english)
    fanout.regroup(switcher, polish)
    clock.advance(0)
    assert switcher.lines() == ["pl:set", "pl:three"]
    assert other.lines() == third.lines() == ["en:one", "en:two", "en:three"]
    assert other.writes == third.writes == 1
    assert fanout.audiences() == [english, polish]
