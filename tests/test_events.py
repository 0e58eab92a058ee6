"""Events as plain data and back (what the WebSocket door and the bus carry)."""

from __future__ import annotations

import json

import pytest

from chatroom import events, messages
from chatroom.events import Text, from_fields, to_fields

SAMPLES = [
    events.Public(1.5, "ala", "GL3", "cześć"),
    events.Private(2.0, "ola", "GL1", "psst"),
    events.PublicSent(2.0, "hi"),
    events.PrivateSent(2.0, "ala", "psst"),
    events.Joined(3.0, "ola", "GL1", 2, 50),
    events.Left(4.0, "ola", "GL1", 1, 50),
    events.Left(4.0, "ola", "GL1", 1, 50, by="ala", reason="spam", minutes=60),
    events.Announcement(4.5, "ala", "exam on Friday"),
    events.Renamed(5.0, "ala", "alicja"),
    events.Shutdown(6.0),
    events.Welcome(1, 50),
    events.Prompt("group"),
    events.Registered("ala", "GL3", 1, 50),
    events.Roster((("ala", "GL3"), ("ola", "GL1")), 2, 50, asked=False),
    events.Roster((("ala", "GL3"), ("ola", "GL1")), 2, 50, ops=("ala",)),
    events.Notice(Text(messages.HELP_LIMIT, max_line=4096)),
    events.Error(Text(messages.NAME_BAD_CHARACTER, shown=Text(messages.NAME_A_SPACE))),
    events.Bye(Text(messages.FLOOD_KICK), error=True),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.kind)
def test_roundTripThroughJSON(event):
    data = json.loads(json.dumps(to_fields(event)))
    assert data["type"] == event.kind
    assert from_fields(data) == event


def test_everyKindHasASample():
    assert {event.kind for event in SAMPLES} == set(events.KINDS)


def test_unknownTypeOrMessageIsRefused():
    with pytest.raises(KeyError):
        from_fields({"type": "nonsense"})
    with pytest.raises(KeyError):
        from_fields({"type": "error", "text": {"message": "no such message", "fields": {}}})


def test_textInEnglishFillsNestedTexts():
    text = Text(messages.NAME_BAD_CHARACTER, shown=Text(messages.NAME_A_SPACE))
    assert text.english() == "a name may hold only letters, digits, _ and - (not a space)."
