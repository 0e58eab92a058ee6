import time

import pytest
from twisted.internet import task

from chatroom import events
from chatroom.fanout import Fanout
from chatroom.lines import ENGLISH_LINES
from chatroom.names import InvalidGroup, InvalidName
from chatroom.room import NameTaken, NoSuchUser, Room
from chatroom.testing import Recorder

NOW = time.mktime((2026, 11, 24, 14, 5, 9, 0, 0, -1))


def enter(room, name, group="GL1"):
    recorder = Recorder()
    member = room.reserve(name, recorder.send, recorder.close, "[::1]:1", ENGLISH_LINES)
    room.join(member, group, NOW)
    return member, recorder


@pytest.fixture
def room():
    return Room(capacity=50)


def test_joinConfirmsAndTellsTheOthers(room):
    ala, ala_out = enter(room, "ala", "GL3")
    assert ala_out.lines() == [
        "Hello ala (GL3), you are in: 1/50 online. Type /pomoc (/help) for the commands."
    ]
    ola, ola_out = enter(room, "ola", "GL1")
    assert ala_out.lines() == ["[14:05:09] * ola (GL1) joined (2/50 online)"]
    assert ola_out.lines()[0].startswith("Hello ola (GL1), you are in: 2/50")


def test_publicMessageGoesToEveryoneElseOnce(room):
    ala, ala_out = enter(room, "ala", "GL3")
    _, b = enter(room, "bob")
    _, c = enter(room, "cyryl")
    for out in (ala_out, b, c):
        out.lines()
    room.say(ala, "hello", NOW)
    assert ala_out.lines() == []
    assert b.lines() == c.lines() == ["[14:05:09] ala (GL3): hello"]


def test_publicTextKeptButControlsRemoved(room):
    ala, _ = enter(room, "ala", "GL3")
    _, b = enter(room, "bob")
    b.lines()
    room.say(ala, "  spaced \x1b[31mred\x07 zażółć  ", NOW)
    assert b.lines() == ["[14:05:09] ala (GL3):   spaced [31mred zażółć  "]


def test_namesUniqueIgnoringCase(room):
    enter(room, "Ala")
    with pytest.raises(NameTaken, match="taken"):
        room.reserve("aLA", print, print, "peer", ENGLISH_LINES)


def test_reservedNameHeldWhileRegistering(room):
    room.reserve("ala", print, print, "peer", ENGLISH_LINES)
    with pytest.raises(NameTaken):
        room.reserve("ALA", print, print, "peer", ENGLISH_LINES)
    assert room.online == 0
    assert room.find("ala") is None  # not a member yet


def test_invalidNameAndGroup(room):
    with pytest.raises(InvalidName):
        room.reserve("no spaces", print, print, "peer", ENGLISH_LINES)
    member = room.reserve("ala", print, print, "peer", ENGLISH_LINES)
    with pytest.raises(InvalidGroup):
        room.join(member, "x" * 17, NOW)
    assert room.online == 0


def test_leaveFreesTheNameAndTellsTheOthers(room):
    ala, _ = enter(room, "ala", "GL3")
    _, b = enter(room, "bob")
    b.lines()
    room.leave(ala, NOW, "quit")
    assert b.lines() == ["[14:05:09] * ala (GL3) left"]
    assert room.online == 1
    enter(room, "ALA")


def test_leaveOfHalfRegisteredIsSilent(room):
    _, b = enter(room, "bob")
    b.lines()
    pending = room.reserve("ala", print, print, "peer", ENGLISH_LINES)
    room.leave(pending, NOW, "connection lost")
    assert b.lines() == []
    room.reserve("ala", print, print, "peer", ENGLISH_LINES)


def test_leaveTwiceIsHarmless(room):
    ala, _ = enter(room, "ala")
    _, b = enter(room, "bob")
    b.lines()
    room.leave(ala, NOW, "quit")
    room.leave(ala, NOW, "connection lost")
    assert b.lines() == ["[14:05:09] * ala (GL1) left"]


def test_whisperOnlyToTheTarget(room):
    ala, a = enter(room, "ala", "GL3")
    _, b = enter(room, "bob")
    _, c = enter(room, "cyryl")
    for out in (a, b, c):
        out.lines()
    room.whisper(ala, "BOB", "psst", NOW)
    assert b.lines() == ["[14:05:09] [private] ala (GL3): psst"]
    assert a.lines() == ["[14:05:09] [private to bob] psst"]
    assert c.lines() == []


def test_whisperToNobodyOrSelf(room):
    ala, _ = enter(room, "ala")
    with pytest.raises(NoSuchUser, match="nobody called zenek"):
        room.whisper(ala, "zenek", "hi", NOW)
    with pytest.raises(NoSuchUser, match="that is you"):
        room.whisper(ala, "Ala", "hi", NOW)
    pending = room.reserve("ola", print, print, "peer", ENGLISH_LINES)
    with pytest.raises(NoSuchUser):
        room.whisper(ala, pending.name, "hi", NOW)


def test_whisperNeverLogged(room, log_events):
    ala, _ = enter(room, "ala")
    enter(room, "bob")
    room.whisper(ala, "bob", "the secret is 42", NOW)
    assert not any("secret" in repr(event) for event in log_events)


def test_publicMessagesLoggedAsFields(room, log_events):
    ala, _ = enter(room, "ala")
    room.say(ala, "{evil.__class__} hello", NOW)
    (event,) = [e for e in log_events if e.get("text")]
    assert event["log_format"] == "public {name}: {text}"
    assert (event["name"], event["text"]) == ("ala", "{evil.__class__} hello")


def test_renameTellsEveryoneIncludingTheRenamer(room):
    ala, a = enter(room, "ala")
    _, b = enter(room, "bob")
    a.lines(), b.lines()
    room.rename(ala, "Alicja", NOW)
    assert a.lines() == b.lines() == ["[14:05:09] * ala is now known as Alicja"]
    assert room.find("alicja") is ala
    assert room.find("ala") is None
    enter(room, "ala")


def test_renameRules(room):
    ala, _ = enter(room, "ala")
    enter(room, "bob")
    with pytest.raises(NameTaken, match="taken"):
        room.rename(ala, "BOB", NOW)
    with pytest.raises(NameTaken, match="already called"):
        room.rename(ala, "ala", NOW)
    with pytest.raises(InvalidName):
        room.rename(ala, "a b", NOW)
    room.rename(ala, "ALA", NOW)  # a change of case is a rename
    assert ala.name == "ALA"


def test_roster(room):
    enter(room, "ala", "GL3")
    enter(room, "bob", "GL1")
    room.reserve("pending", print, print, "peer", ENGLISH_LINES)
    assert room.roster() == [("ala", "GL3"), ("bob", "GL1")]


def test_closeTellsEveryoneAndSilencesLeaves(room):
    ala, a = enter(room, "ala")
    bob, b = enter(room, "bob")
    a.lines(), b.lines()
    room.close(NOW)
    room.leave(ala, NOW, "server shutdown")
    assert b.lines() == ["[14:05:09] * The server is shutting down. Goodbye!"]


def test_liveRosterOncePerTurnWhateverTheChanges():
    """With a browser door, one Roster (not shown on the line door) per turn of changes."""
    clock = task.Clock()
    room = Room(10, Fanout(lambda flush: clock.callLater(0, flush)))
    room.live_roster = True
    seen: list[events.Event] = []

    class Watching:
        def render(self, event):
            seen.append(event)
            return b"x"

        def pack(self, pieces):
            return b"".join(pieces)

    watcher = Recorder()
    room.join(room.reserve("watcher", watcher.send, watcher.close, "t", Watching()), "GL1", 0)
    for name in ("a", "b", "c"):
        room.join(room.reserve(name, Recorder().send, lambda: None, "t", ENGLISH_LINES), "GL1", 0)
    clock.advance(0)
    clock.advance(0)
    rosters = [event for event in seen if isinstance(event, events.Roster)]
    assert len(rosters) == 1 and not rosters[0].asked
    assert [name for name, _ in rosters[0].members] == ["watcher", "a", "b", "c"]
    seen.clear()
    clock.advance(0)
    assert not seen  # nothing changed, nothing sent


def test_noLiveRosterWithoutABrowserDoor():
    """A line-only server pays nothing: no Roster is even built."""
    clock = task.Clock()
    room = Room(10, Fanout(lambda flush: clock.callLater(0, flush)))
    seen: list[events.Event] = []

    class Watching:
        def render(self, event):
            seen.append(event)
            return b""

        def pack(self, pieces):
            return b"".join(pieces)

    room.join(room.reserve("a", Recorder().send, lambda: None, "t", Watching()), "GL1", 0)
    room.join(room.reserve("b", Recorder().send, lambda: None, "t", ENGLISH_LINES), "GL1", 0)
    clock.advance(0)
    clock.advance(0)
    assert seen and not any(isinstance(event, events.Roster) for event in seen)
