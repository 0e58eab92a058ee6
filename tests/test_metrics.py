"""
The counters behind --metrics: the fan-out adds up deliveries and bytes per
batch (never per recipient), so check that sum against what members got.
"""

import random

import pytest
from twisted.internet import task

from chatroom.fanout import Fanout
from chatroom.lines import ENGLISH_LINES
from chatroom.metrics import registry
from chatroom.room import Room
from chatroom.stats import Counts
from chatroom.testing import Recorder


def room_of(members: int, batch: bool):
    clock = task.Clock()
    room = Room(100, Fanout((lambda f: clock.callLater(0, f)) if batch else None))
    people = []
    for i in range(members):
        out = Recorder()
        member = room.reserve(f"m{i}", out.send, out.close, "[::1]:1", ENGLISH_LINES)
        room.join(member, "GL1", 0.0)
        people.append((member, out))
    clock.advance(0)
    return room, clock, people


def received(outs) -> tuple[int, int]:
    data = b"".join(out.data for out in outs)
    return data.count(b"\r\n"), len(data)


@pytest.mark.parametrize("batch", [False, True])
def test_deliveriesAndBytesAddUpToWhatMembersGot(batch):
    rng = random.Random(7)
    room, clock, people = room_of(6, batch)
    outs = [out for _, out in people]
    for out in outs:
        out.data = b""
    fanout = room.fanout
    fanout.delivered = fanout.sent_bytes = 0
    for turn in range(30):
        for _ in range(rng.randint(1, 6)):
            member, _ = rng.choice(people)
            action = rng.random()
            if action < 0.6:
                room.say(member, f"turn {turn} zażółć", float(turn))
            elif action < 0.8:
                other, _ = rng.choice(people)
                if other is not member:
                    room.whisper(member, other.name, "psst", float(turn))
            else:
                room.notify(member, room.roster_event())
        if turn % 7 == 3:  # someone leaves and a newcomer joins mid-turn
            gone, _ = people.pop(0)
            room.leave(gone, float(turn), "quit")
            out = Recorder()
            newcomer = room.reserve(f"n{turn}", out.send, out.close, "[::1]:2", ENGLISH_LINES)
            room.join(newcomer, "GL2", float(turn))
            people.append((newcomer, out))
            outs.append(out)
        clock.advance(0)
    assert (fanout.delivered, fanout.sent_bytes) == received(outs)


def test_disconnectReasonsHaveLabels():
    counts = Counts()
    for reason in ("quit", "timed out", "not reading (output over the cap)", "who knows"):
        counts.disconnected(reason)
    assert counts.disconnects["quit"] == counts.disconnects["timeout"] == 1
    assert counts.disconnects["slow_reader"] == counts.disconnects["other"] == 1


def test_everyMetricIsNamedChatroom():
    room = Room(5)
    room.counts.redis_up = lambda: True
    names = [family.name for family in registry(room).collect()]
    assert "chatroom_redis_up" in names and "chatroom_deliveries" in names
    assert all(name.startswith("chatroom_") for name in names)
