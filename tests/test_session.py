import time

import pytest

from chatroom.limits import FloodGuard
from chatroom.lines import ENGLISH_LINES
from chatroom.room import Room
from chatroom.session import Session
from chatroom.testing import Recorder

NOW = time.mktime((2026, 11, 24, 14, 5, 9, 0, 0, -1))


class Person:
    def __init__(self, room, flood=None):
        self.out = Recorder()
        self.joins = 0
        self.session = Session(
            room,
            self.out.send,
            self.out.close,
            "[::1]:1",
            ENGLISH_LINES,
            flood=flood,
            on_join=self._joined,
        )
        self.session.start()

    def _joined(self):
        self.joins += 1

    def say(self, *lines, now=NOW):
        for line in lines:
            self.session.line_received(line, now)
        return self.out.lines()


@pytest.fixture
def room():
    return Room(capacity=50)


def registered(room, name, group="GL1"):
    person = Person(room)
    person.say(name, group)
    return person


def test_promptsInOrder(room):
    person = Person(room)
    assert person.out.lines() == [
        "Welcome to chatroom, the student chat room (0/50 online).",
        "Your name (1-20 letters, digits, _ or -):",
    ]
    assert person.say("ala") == ["Your lab group (1-16 characters, e.g. GL3):"]
    assert person.say("GL3") == [
        "Hello ala (GL3), you are in: 1/50 online. Type /pomoc (/help) for the commands."
    ]
    assert person.session.joined
    assert person.joins == 1


def test_badNameThenGoodName(room):
    person = Person(room)
    person.out.lines()
    assert person.say("two words") == [
        "Error: a name may hold only letters, digits, _ and - (not a space).",
        "Your name (1-20 letters, digits, _ or -):",
    ]
    registered(room, "bob")
    assert person.say("BOB") == [
        "Error: the name BOB is taken; pick another.",
        "Your name (1-20 letters, digits, _ or -):",
    ]
    assert person.say("ala")[-1].startswith("Your lab group")


def test_badGroupAsksAgain(room):
    person = Person(room)
    person.say("ala")
    assert person.say("") == [
        "Error: a group can't be empty.",
        "Your lab group (1-16 characters, e.g. GL3):",
    ]
    assert person.say("GL3")[0].startswith("Hello ala (GL3)")


def test_helpAndQuitWorkWhileRegistering(room):
    person = Person(room)
    person.out.lines()
    lines = person.say("/help")
    assert lines[0].startswith("Commands")
    assert lines[-1] == "Your name (1-20 letters, digits, _ or -):"
    assert person.say("/online") == [
        "Error: /online works once you are in; finish registering first.",
        "Your name (1-20 letters, digits, _ or -):",
    ]
    assert person.say("/WYJDZ") == ["Goodbye!"]
    assert person.out.closed


def test_publicBlankAndSlashSlash(room):
    ala = registered(room, "ala", "GL3")
    bob = registered(room, "bob")
    ala.out.lines()
    assert bob.say("", "   ", "hello", "//etc/passwd is a path") == []
    assert ala.out.lines() == [
        "[14:05:09] bob (GL1): hello",
        "[14:05:09] bob (GL1): /etc/passwd is a path",
    ]


def test_unknownCommand(room):
    ala = registered(room, "ala")
    ala.out.lines()
    assert ala.say("/dance now") == [
        "Error: unknown command /dance; type /pomoc (/help) for the list."
    ]
    assert ala.say("/\x1b[2Jx") == [
        "Error: unknown command /[2Jx; type /pomoc (/help) for the list."
    ]


def test_commandWordsAnyCase(room):
    ala = registered(room, "ala")
    ala.out.lines()
    assert ala.say("/ONLINE") == ["Online (1/50): ala (GL1)"]
    assert ala.say("/Who") == ["Online (1/50): ala (GL1)"]


def test_msgAndAlias(room):
    ala = registered(room, "ala", "GL3")
    bob = registered(room, "bob")
    cyryl = registered(room, "cyryl")
    for person in (ala, bob, cyryl):
        person.out.lines()
    assert ala.say("/msg BOB hi there  ") == ["[14:05:09] [private to bob] hi there  "]
    assert ala.say("/w bob again") == ["[14:05:09] [private to bob] again"]
    assert bob.out.lines() == [
        "[14:05:09] [private] ala (GL3): hi there  ",
        "[14:05:09] [private] ala (GL3): again",
    ]
    assert cyryl.out.lines() == []


@pytest.mark.parametrize("line", ["/msg", "/msg bob", "/msg bob    ", "/w"])
def test_msgUsage(room, line):
    ala = registered(room, "ala")
    registered(room, "bob")
    ala.out.lines()
    assert ala.say(line) == ["Error: usage: /msg NAME TEXT (or /w NAME TEXT)."]


def test_msgUnknownName(room):
    ala = registered(room, "ala")
    ala.out.lines()
    assert ala.say("/msg zenek hi") == [
        "Error: nobody called zenek is online; /online lists who is."
    ]


def test_changenameAndAlias(room):
    ala = registered(room, "ala")
    bob = registered(room, "bob")
    ala.out.lines()
    bob.out.lines()
    assert ala.say("/changename Alicja") == ["[14:05:09] * ala is now known as Alicja"]
    assert bob.out.lines() == ["[14:05:09] * ala is now known as Alicja"]
    assert ala.say("/nick bob") == ["Error: the name bob is taken; pick another."]
    assert bob.out.lines() == []
    assert ala.say("/nick") == ["Error: usage: /changename NEW (or /nick NEW)."]
    assert ala.say("/nick a!") == [
        "Error: a name may hold only letters, digits, _ and - (not '!')."
    ]


def test_quitTellsOthersAndCloses(room):
    ala = registered(room, "ala", "GL3")
    bob = registered(room, "bob")
    ala.out.lines(), bob.out.lines()
    assert ala.say("/quit") == ["Goodbye!"]
    assert ala.out.closed
    assert bob.out.lines() == ["[14:05:09] * ala (GL3) left"]
    assert ala.say("still here?") == []
    assert room.online == 1


def test_endAfterDropIsTheSameLeave(room):
    ala = registered(room, "ala", "GL3")
    bob = registered(room, "bob")
    bob.out.lines()
    ala.session.end(NOW, "connection lost")
    ala.session.end(NOW, "connection lost")
    assert bob.out.lines() == ["[14:05:09] * ala (GL3) left"]


def test_floodNoticeOnceThenDropThenKick(room):
    bob = registered(room, "bob")
    person = Person(room, flood=FloodGuard(rate=5, burst=10, kick=5, now=NOW))
    person.say("ala", "GL1")
    bob.out.lines()
    replies = person.say(*[f"m{i}" for i in range(12)])
    assert replies == [
        "Error: slow down: at most 5 lines a second (bursts of 10); lines over that are dropped."
    ]
    # Registration took 2 tokens, so 8 messages passed and 4 were dropped.
    assert [line.split(": ")[1] for line in bob.out.lines()] == [f"m{i}" for i in range(8)]
    assert person.say("x") == []
    assert person.say("x") == ["Error: too many lines too fast; closing the connection."]
    assert person.out.closed
    assert bob.out.lines() == ["[14:05:09] * ala (GL1) left"]


def test_floodAllowsSteadyTalk(room):
    bob = registered(room, "bob")
    person = Person(room, flood=FloodGuard(rate=5, burst=10, kick=5, now=NOW))
    person.say("ala", "GL1")
    bob.out.lines()
    for i in range(100):
        assert person.say(f"m{i}", now=NOW + i * 0.25) == []
    assert len(bob.out.lines()) == 100
