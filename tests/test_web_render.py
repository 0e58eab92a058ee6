"""The browser door's JSON: every event kind rendered, framed once, and documented."""

import json
from pathlib import Path

from chatroom import events, messages
from chatroom.events import KINDS, Text
from chatroom.web.render import ENGLISH_WEB, frame, web_audience

DOC = (Path(__file__).parents[1] / "docs" / "websocket.md").read_text(encoding="utf-8")
T = 1764445389.25
SAMPLES = [
    events.Public(T, "ala", "GL1", "<b>hi</b>"),
    events.Private(T, "ala", "GL1", "psst"),
    events.PublicSent(T, "<b>hi</b>"),
    events.PrivateSent(T, "ola", "psst"),
    events.Joined(T, "ewa", "GL3", 3, 50),
    events.Left(T, "ewa", "GL3", 2, 50),
    events.Renamed(T, "ala", "alicja"),
    events.Shutdown(T),
    events.Welcome(1, 50),
    events.Prompt("name"),
    events.Registered("ola", "GL2", 2, 50),
    events.Roster((("ala", "GL1"),), 1, 50, False),
    events.Notice(Text(messages.GOODBYE)),
    events.Error(Text(messages.NAME_TAKEN, name="ala")),
    events.Bye(Text(messages.IDLE_TIMEOUT), error=True),
]


def test_everyKindRendersWithTypeAndLineFirst():
    for event in SAMPLES:
        data = ENGLISH_WEB.render(event)
        obj = json.loads(data)
        assert list(obj)[:2] == ["type", "line"], obj
        assert obj["type"] == event.kind
        assert data.startswith(b'{"type":"%s","line":' % event.kind.encode())


def test_documentedExamplesAreWhatTheServerSends():
    """docs/websocket.md's examples without a time (those depend on the zone), byte for byte."""
    for event in (
        events.Welcome(3, 50),
        events.Prompt("name"),
        events.Error(Text(messages.NAME_TAKEN, name="ala")),
        events.Error(Text(messages.MUTED, minutes=5), said=True),
        events.PublicSent(T, "hello everyone"),
        events.Prompt("group"),
        events.Registered("ola", "GL2", 4, 50),
        events.Roster((("ala", "GL1"), ("ola", "GL2")), 2, 50, False),
        events.Roster((("ala", "GL1"), ("ola", "GL2")), 2, 50, True),
        events.Notice(Text(messages.GOODBYE)),
        events.Bye(Text(messages.IDLE_TIMEOUT), error=True),
    ):
        rendered = ENGLISH_WEB.render(event).decode()
        assert rendered in DOC, rendered


def test_everyKindIsDocumented():
    for kind in KINDS:
        assert f"| `{kind}` |" in DOC, f"docs/websocket.md has no row for {kind!r}"


def test_theLineIsTheLineDoorsAndTextIsRendered():
    obj = json.loads(ENGLISH_WEB.render(events.Error(Text(messages.NAME_TAKEN, name="ala"))))
    assert obj["line"] == "Error: " + obj["text"]
    assert obj["message"] == messages.NAME_TAKEN.id
    assert json.loads(ENGLISH_WEB.render(SAMPLES[11]))["line"] is None  # live roster


def test_polishAudienceIsOneObjectAndSpeaksPolish():
    assert web_audience("pl") is web_audience("pl")
    assert web_audience("en") is ENGLISH_WEB
    obj = json.loads(web_audience("pl").render(events.Prompt("name")))
    assert obj["line"] != json.loads(ENGLISH_WEB.render(events.Prompt("name")))["line"]


def test_severalEventsShareOneFrameAsAnArray():
    one = ENGLISH_WEB.render(SAMPLES[0])
    assert ENGLISH_WEB.pack([one]) == frame(one)
    assert ENGLISH_WEB.pack([one, one]) == frame(b"[" + one + b"," + one + b"]")
    assert frame(b"x" * 125)[:2] == b"\x81\x7d"
    assert frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert frame(b"x" * 70000)[:10] == b"\x81\x7f" + (70000).to_bytes(8, "big")


def test_theLineDoorShowsNothingForAConfirmationOrTheSaidFlag():
    """public_sent and error's said are for pages: a terminal's bytes stay as they were."""
    from chatroom.lines import ENGLISH_LINES

    assert ENGLISH_LINES.render(events.PublicSent(T, "hi")) == b""
    refused = Text(messages.MUTED, minutes=5)
    assert ENGLISH_LINES.render(events.Error(refused, said=True)) == ENGLISH_LINES.render(
        events.Error(refused)
    )
    assert ENGLISH_LINES.confirms is False and ENGLISH_WEB.confirms is True


def test_thePageKnowsTheCatalogKeysItActsOn():
    """app.js recognises a taken name and help lines by their catalog keys."""
    page = (Path(__file__).parents[1] / "chatroom" / "web" / "static" / "app.js").read_text()
    for message in (messages.NAME_TAKEN, messages.HELP_ENTRY):
        assert json.dumps(message.id) in page, message.id
