"""The history a newcomer is shown: what is kept, what never is, and where it goes."""

import json
import time

from chatroom import events
from chatroom.events import from_fields, to_fields
from chatroom.fanout import Fanout
from chatroom.history import LocalHistory, make_history
from chatroom.lines import ENGLISH_LINES
from chatroom.room import Room
from chatroom.testing import Recorder

NOW = time.mktime((2026, 11, 24, 14, 5, 9, 0, 0, -1))


def enter(room, name, group="GL1", now=NOW):
    recorder = Recorder()
    member = room.reserve(name, recorder.send, recorder.close, "[::1]:1", ENGLISH_LINES)
    room.join(member, group, now)
    return member, recorder


def test_keepsTheLastNMarked():
    history = LocalHistory(2)
    for i in range(3):
        history.record(events.Public(float(i), "ala", "GL3", f"m{i}"))
    assert history.replay() == [
        events.Public(1.0, "ala", "GL3", "m1", history=True),
        events.Public(2.0, "ala", "GL3", "m2", history=True),
    ]
    assert make_history(0) is None and make_history(5).size == 5


def test_newcomerGetsPublicHistoryAfterTheConfirmationOnly():
    room = Room(50, history=LocalHistory(50))
    ala, _ = enter(room, "ala", "GL3")
    bob, _ = enter(room, "bob")
    room.say(ala, "first", NOW)
    room.whisper(ala, "bob", "top secret", NOW + 1)
    room.rename(bob, "bobby", NOW + 2)
    room.say(bob, "second", NOW + 3)
    room.leave(bob, NOW + 4, "quit")
    _, cyryl = enter(room, "cyryl", now=NOW + 60)
    assert cyryl.lines() == [
        "Hello cyryl (GL1), you are in: 2/50 online. Type /pomoc (/help) for the commands.",
        "[14:05:09] [history] ala (GL3): first",
        "[14:05:12] [history] bobby (GL1): second",
    ]


def test_noHistoryWhenOff():
    room = Room(50)
    ala, _ = enter(room, "ala")
    room.say(ala, "first", NOW)
    _, bob = enter(room, "bob")
    assert len(bob.lines()) == 1


def test_historyComesBeforeLiveTrafficInABatchedTurn():
    """Joining in a turn that already has traffic queued: history first, then what follows."""
    pending = []

    def end_of_turn():
        while pending:
            pending.pop(0)()

    room = Room(50, Fanout(pending.append), history=LocalHistory(5))
    ala, ala_out = enter(room, "ala")
    room.say(ala, "before", NOW)
    end_of_turn()
    room.say(ala, "queued", NOW + 1)  # a batch is open
    _, bob = enter(room, "bob")
    room.say(ala, "after", NOW + 2)
    end_of_turn()
    assert [line.split(" ", 1)[1] for line in bob.lines()[1:]] == [
        "[history] ala (GL1): before",
        "[history] ala (GL1): queued",
        "ala (GL1): after",
    ]


def test_replayIsOneWrite():
    room = Room(50, history=LocalHistory(50))
    ala, _ = enter(room, "ala")
    for i in range(10):
        room.say(ala, f"m{i}", NOW)
    writes = []
    member = room.reserve("bob", writes.append, lambda: None, "[::1]:2", ENGLISH_LINES)
    room.join(member, "GL1", NOW)
    assert len(writes) == 2  # the confirmation (written at once), then the history
    assert writes[1].count(b"[history]") == 10


def test_historyFlagTravelsInTheFields():
    event = events.Public(1.5, "ala", "GL3", "old", history=True)
    data = json.loads(json.dumps(to_fields(event)))
    assert data["history"] is True
    assert from_fields(data) == event
    assert to_fields(events.Public(1.5, "ala", "GL3", "new"))["history"] is False
    assert ENGLISH_LINES.render(event).endswith(b" [history] ala (GL3): old\r\n")


def test_markedCopiesFollowTheWindow():
    history = LocalHistory(3)
    history.record(events.Public(0.0, "ala", "GL3", "m0"))
    assert [e.text for e in history.replay()] == ["m0"]
    for i in range(1, 6):
        history.record(events.Public(float(i), "ala", "GL3", f"m{i}"))
    assert [e.text for e in history.replay()] == ["m3", "m4", "m5"]
    history.record(events.Public(6.0, "ala", "GL3", "m6"))
    replayed = history.replay()
    assert [e.text for e in replayed] == ["m4", "m5", "m6"]
    assert all(e.history for e in replayed) and len(history) == 3


def test_forgetDropsOneNamesLines():
    history = LocalHistory(5)
    for i, name in enumerate(("spam", "ala", "spam", "bob")):
        history.record(events.Public(float(i), name, "GL3", f"m{i}"))
    history.replay()  # marked copies made: they must go too
    history.forget("spam")
    history.forget("nobody")
    assert [event.text for event in history.replay()] == ["m1", "m3"]
    assert all(event.history for event in history.replay())
