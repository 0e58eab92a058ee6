from twisted.internet import task

from chatroom.fanout import Fanout
from chatroom.testing import Recorder


def batched():
    clock = task.Clock()
    return clock, Fanout(lambda flush: clock.callLater(0, flush))


def members(fanout, n):
    recorders = [Recorder() for _ in range(n)]
    for recorder in recorders:
        fanout.add(recorder)
    return recorders


def test_immediateWithoutSchedule():
    fanout = Fanout()
    a, b = members(fanout, 2)
    fanout.broadcast(b"x\r\n", exclude=a)
    assert (a.data, b.data) == (b"", b"x\r\n")


def test_turnCoalescedIntoOneWritePerRecipient():
    clock, fanout = batched()
    a, b, c = members(fanout, 3)
    writes = []
    c.send = writes.append
    fanout.broadcast(b"1\r\n", exclude=a)
    fanout.broadcast(b"2\r\n", exclude=b)
    fanout.broadcast(b"3\r\n")
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
    fanout.broadcast(b"pub1\r\n", exclude=a)
    fanout.direct(b, b"priv\r\n")
    fanout.direct(a, b"ack\r\n")
    fanout.broadcast(b"pub2\r\n", exclude=a)
    clock.advance(0)
    assert a.lines() == ["ack"]
    assert b.lines() == ["pub1", "priv", "pub2"]
    assert c.lines() == ["pub1", "pub2"]


def test_directWithNothingQueuedGoesAtOnce():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    fanout.direct(a, b"now\r\n")
    assert a.lines() == ["now"]
    assert clock.getDelayedCalls() == []


def test_oneScheduledFlushPerTurn():
    clock, fanout = batched()
    members(fanout, 2)
    for i in range(50):
        fanout.broadcast(b"%d\r\n" % i)
    assert len(clock.getDelayedCalls()) == 1


def test_joinerDoesNotGetWhatWasSaidBefore():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    fanout.broadcast(b"before\r\n")
    late = Recorder()
    fanout.add(late)
    fanout.broadcast(b"after\r\n")
    clock.advance(0)
    assert a.lines() == ["before", "after"]
    assert late.lines() == ["after"]


def test_leaverGetsEverythingUpToLeaving():
    clock, fanout = batched()
    a, b = members(fanout, 2)
    fanout.broadcast(b"one\r\n", exclude=a)
    fanout.direct(b, b"bye\r\n")
    fanout.remove(b)
    fanout.broadcast(b"two\r\n", exclude=a)
    clock.advance(0)
    assert b.lines() == ["one", "bye"]


def test_brokenRecipientDoesNotStopTheBroadcast(log_events):
    clock, fanout = batched()
    a, broken, c = members(fanout, 3)

    def explode(data):
        raise RuntimeError("boom")

    broken.send = explode
    fanout.broadcast(b"x\r\n")
    fanout.broadcast(b"y\r\n")
    clock.advance(0)
    fanout.broadcast(b"z\r\n")
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
        fanout.broadcast(b"b left\r\n")

    b.send = leave_on_send
    fanout.broadcast(b"x\r\n")
    clock.advance(0)
    clock.advance(0)
    assert a.lines() == c.lines() == ["x", "b left"]
    assert b not in fanout


def test_joinAndLeaveInTheSameTurn():
    clock, fanout = batched()
    (a,) = members(fanout, 1)
    visitor = Recorder()
    fanout.broadcast(b"before\r\n")
    fanout.add(visitor)
    fanout.broadcast(b"during\r\n")
    fanout.direct(visitor, b"just you\r\n")
    fanout.remove(visitor)
    fanout.broadcast(b"after\r\n")
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
        newcomer = Recorder()
        fanout.add(newcomer)
        fanout.broadcast(b"%d joined\r\n" % i, exclude=newcomer)
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
    fanout.broadcast(b"before\r\n", exclude=a)
    fanout.direct(b, b"goodbye\r\n")
    fanout.remove(b)
    fanout.broadcast(b"b left\r\n")
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
    fanout.broadcast(b"x\r\n")
    clock.advance(0)
    assert b.lines() == []
    assert a.lines() == ["x"]
