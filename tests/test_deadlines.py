import pytest
from twisted.internet import task

from chatroom.deadlines import Deadlines


@pytest.fixture
def clock():
    return task.Clock()


def make(clock, timeout=60.0):
    expired = []
    return Deadlines(clock, timeout, expired.append), expired


def test_expiresAfterTheTimeoutNotBefore(clock):
    deadlines, expired = make(clock)
    deadlines.add("ala")
    clock.advance(59.9)
    assert expired == []
    clock.advance(0.1)
    assert expired == ["ala"]
    assert clock.getDelayedCalls() == []


def test_atMostOneSlotLate(clock):
    deadlines, expired = make(clock)  # slots of 1 s
    clock.advance(0.25)
    deadlines.add("ala")
    clock.advance(60)
    assert expired == []
    clock.advance(0.75)
    assert expired == ["ala"]


def test_oneTimerPerSlot(clock):
    deadlines, expired = make(clock)
    clock.advance(0.5)
    for i in range(100):
        deadlines.add(i)
        clock.advance(0.001)
    assert len(clock.getDelayedCalls()) == 1
    assert len(deadlines) == 100
    clock.advance(60.3)
    assert expired == []
    clock.advance(0.1)  # the slot ends at 61
    assert expired == list(range(100))


def test_discardedNeverExpiresAndTheLastOneStopsTheTimer(clock):
    deadlines, expired = make(clock)
    ala, bob = deadlines.add("ala"), deadlines.add("bob")
    deadlines.discard("ala", ala)
    assert len(clock.getDelayedCalls()) == 1
    deadlines.discard("bob", bob)
    assert clock.getDelayedCalls() == []
    deadlines.discard("bob", bob)  # twice: nothing happens
    clock.advance(120)
    assert expired == []
    assert len(deadlines) == 0


def test_slotsFireInOrder(clock):
    deadlines, expired = make(clock)
    deadlines.add("first")
    clock.advance(5)
    deadlines.add("second")
    clock.advance(55)
    assert expired == ["first"]
    clock.advance(5)
    assert expired == ["first", "second"]


def test_expiringMayDiscardWhatIsExpiring(clock):
    """The callback closes the connection, which discards its own deadline."""
    tickets = {}
    expired = []

    def expire(item):
        expired.append(item)
        deadlines.discard(item, tickets[item])
        deadlines.discard("bob", tickets["bob"])  # and someone else's, mid-slot

    deadlines = Deadlines(clock, 60, expire)
    tickets["ala"] = deadlines.add("ala")
    tickets["bob"] = deadlines.add("bob")
    clock.advance(60)
    assert expired == ["ala", "bob"]  # bob's slot was already due: it expires too
    assert clock.getDelayedCalls() == []


def test_shortTimeoutsGetFineSlots(clock):
    deadlines, expired = make(clock, timeout=0.3)
    clock.advance(0.001)
    deadlines.add("ala")
    clock.advance(0.299)
    assert expired == []
    clock.advance(0.015)  # a slot is a twentieth of the timeout
    assert expired == ["ala"]
