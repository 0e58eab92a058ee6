"""
Each person in their own language: --lang, /jezyk (/lang), a room where
Polish and English members read the same conversation, each rendered once
per language.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from twisted.internet import task
from twisted.python import usage

from chatroom import events, tap
from chatroom.fanout import Fanout
from chatroom.lines import ENGLISH_LINES, LineAudience, line_audience
from chatroom.room import Room
from chatroom.session import Session
from chatroom.settings import Settings
from chatroom.testing import FakePeer, Recorder, make_factory

NOW = time.mktime((2026, 11, 24, 14, 5, 9, 0, 0, -1))
STAMP = r"\[\d\d:\d\d:\d\d\]"

# Words only English lines have: a Polish line holding one is untranslated.
ENGLISH_WORDS = re.compile(
    r"\b(the|you|your|are|is|Error|Sorry|Hello|Welcome|joined|left|known|Commands|Lines"
    r"|this|send|change|leave|name|group|line|lines|Goodbye|usage|Languages|private)\b"
)


def unstamped(lines: list[str]) -> list[str]:
    return [re.sub(rf"^{STAMP} ", "[T] ", line) for line in lines]


def polish_factory(settings: Settings | None = None):
    factory = make_factory(settings or Settings(max_clients=50))
    factory.audience = line_audience("pl")
    return factory


def test_aPolishConversation():
    """Under --lang pl, registration, errors, help, /online, notices and leaving are Polish."""
    factory = polish_factory()
    ala = FakePeer(factory)
    transcript = ala.lines()
    assert transcript == [
        "Witaj w chatroomie, studenckim pokoju do rozmów (online: 0 osób z 50).",
        "Twój nick (1-20 znaków: litery, cyfry, _ lub -):",
    ]
    ala.say("zły nick")
    assert ala.lines() == [
        "Błąd: nick może zawierać tylko litery, cyfry, _ i - (niedozwolony znak: spacja).",
        "Twój nick (1-20 znaków: litery, cyfry, _ lub -):",
    ]
    ala.say("/online")
    assert ala.lines()[0] == "Błąd: /online działa dopiero w pokoju; najpierw dokończ rejestrację."
    ala.say("Łucja", "GL3")
    assert ala.lines() == [
        "Twoja grupa laboratoryjna (1-16 znaków, np. GL3):",
        "Cześć Łucja (GL3), jesteś w pokoju (online: 1 osoba z 50). "
        "Wpisz /pomoc (/help), aby zobaczyć polecenia.",
    ]
    bob = FakePeer(factory)
    bob.register("bob", "GL1")
    bob.say("cześć wszystkim", "/msg Łucja tajne", "/nick Bartek")
    ala.say("/online", "/msg nikt x", "/msg", "/xyz", "/changename Łucja")
    lines = unstamped(ala.lines())
    assert lines == [
        "[T] * bob (GL1) wchodzi (online: 2 osoby z 50)",
        "[T] bob (GL1): cześć wszystkim",
        "[T] [prywatnie] bob (GL1): tajne",
        "[T] * bob zmienia nick na Bartek",
        "W pokoju (2 osoby z 50): Łucja (GL3), Bartek (GL1)",
        "Błąd: nikogo o nicku nikt nie ma w pokoju; /online pokazuje, kto jest.",
        "Błąd: użycie: /msg NICK TEKST (albo /w NICK TEKST).",
        "Błąd: nieznane polecenie /xyz; wpisz /pomoc (/help), aby zobaczyć listę.",
        "Błąd: już masz nick Łucja.",
    ]
    transcript += lines
    bob.say("/wyjdz")
    assert bob.lines()[-1] == "Do widzenia!"
    bob.drop()
    assert unstamped(ala.lines()) == ["[T] * Bartek (GL1) wychodzi"]
    for line in transcript:
        assert not ENGLISH_WORDS.search(line), line


def test_polishHelpIsAlignedAndTranslated():
    factory = polish_factory()
    ala = FakePeer(factory)
    ala.register("ala", "GL3")
    ala.say("/pomoc")
    heading, *entries, plain, limit = ala.lines()
    assert heading == "Polecenia (nazwa polska, potem angielski odpowiednik):"
    assert (
        entries[1]
        == "  /msg NICK TEKST, /w      wyślij TEKST tylko do osoby NICK (nigdy nie trafia do logu)"
    )
    assert limit == "Wiersz może mieć do 4096 bajtów."
    columns = {len(re.match(r"  \S.*?\S  +", entry).group()) for entry in entries}
    assert len(columns) == 1, entries  # every summary starts in the same column
    assert any(entry.startswith("  /jezyk [KOD], /lang ") for entry in entries)
    for line in (heading, *entries, plain, limit):
        assert not ENGLISH_WORDS.search(line), line


def test_englishHelpListsLang():
    factory = make_factory()
    ala = FakePeer(factory)
    ala.register("ala", "GL3")
    ala.say("/help")
    lines = ala.lines()
    assert "  /jezyk [CODE], /lang    show or choose your language" in lines
    assert "  /msg NAME TEXT, /w      send TEXT to NAME only (never logged)" in lines


def test_refusalInTheServersLanguage():
    factory = polish_factory(Settings(max_clients=1))
    FakePeer(factory)
    refused = FakePeer(factory)
    assert refused.lines() == ["Przepraszamy, pokój jest pełny (1/1). Spróbuj ponownie później."]


# /jezyk (/lang)


def test_langSwitchesAtOnceMidSession():
    factory = make_factory()
    ala, bob = FakePeer(factory), FakePeer(factory)
    ala.register("ala", "GL3")
    bob.register("bob", "GL1")
    ala.lines()
    ala.say("/lang pl")
    assert ala.lines() == ["Twój język to teraz: polski (pl)."]
    bob.say("hello", "/nick robert")
    carol = FakePeer(factory)
    carol.register("carol")
    assert unstamped(ala.lines()) == [
        "[T] bob (GL1): hello",
        "[T] * bob zmienia nick na robert",
        "[T] * carol (GL1) wchodzi (online: 3 osoby z 50)",
    ]
    assert unstamped(bob.lines())[-1] == "[T] * carol (GL1) joined (3/50 online)"
    ala.say("/jezyk")
    assert ala.lines() == [
        "Języki: en (English), pl (polski); twój to pl. Zmienisz go poleceniem /jezyk KOD."
    ]
    ala.say("/JEZYK EN")
    assert ala.lines() == ["From now on you read English (en)."]
    ala.say("/lang")
    assert ala.lines() == [
        "Languages: en (English), pl (polski); yours is en. Choose with /lang CODE."
    ]


def test_langErrors():
    factory = make_factory()
    ala = FakePeer(factory)
    ala.register("ala", "GL3")
    ala.lines()
    ala.say("/lang xx", "/lang pl en", "/lang pl", "/jezyk de")
    assert ala.lines() == [
        "Error: there is no language xx here; /lang lists those there are.",
        "Error: usage: /jezyk [CODE] (or /lang [CODE]).",
        "Twój język to teraz: polski (pl).",
        "Błąd: nie ma tu języka de; /jezyk pokazuje dostępne.",
    ]


def test_langAtTheNamePrompt():
    """Before registering: the answer and the prompt again, both in the new language."""
    factory = make_factory()
    ala = FakePeer(factory)
    ala.lines()
    ala.say("/lang pl")
    assert ala.lines() == [
        "Twój język to teraz: polski (pl).",
        "Twój nick (1-20 znaków: litery, cyfry, _ lub -):",
    ]
    ala.say("ala", "/jezyk en", "GL3")
    assert ala.lines() == [
        "Twoja grupa laboratoryjna (1-16 znaków, np. GL3):",
        "From now on you read English (en).",
        "Your lab group (1-16 characters, e.g. GL3):",
        "Hello ala (GL3), you are in: 1/50 online. Type /pomoc (/help) for the commands.",
    ]


def test_aDoorWithOneLanguage():
    """A session whose door gives no audience_for can't switch, and says so."""
    out = Recorder()
    session = Session(Room(50), out.send, out.close, "[::1]:1", ENGLISH_LINES)
    session.start()
    out.lines()
    session.line_received("/lang pl", NOW)
    session.line_received("/lang", NOW)
    assert out.lines() == [
        "Error: there is no language pl here; /lang lists those there are.",
        "Your name (1-20 letters, digits, _ or -):",
        "Languages: en (English); yours is en. Choose with /lang CODE.",
        "Your name (1-20 letters, digits, _ or -):",
    ]


# One room, two languages, each event rendered once per language.


class CountingAudience(LineAudience):
    def __init__(self, catalog) -> None:
        super().__init__(catalog)
        self.renders: Counter[str] = Counter()

    def render(self, event: events.Event) -> bytes:
        self.renders[event.kind] += 1
        return super().render(event)


def test_mixedRoomRendersOncePerLanguage():
    audiences = {
        lang: CountingAudience(line_audience(lang).renderer.catalog) for lang in ("en", "pl")
    }
    clock = task.Clock()
    room = Room(50, Fanout(lambda flush: clock.callLater(0, flush)))

    def person(name: str, lang: str) -> Recorder:
        out = Recorder()
        session = Session(
            room,
            out.send,
            out.close,
            f"[::1]:{len(name)}",
            audiences["en"],
            audience_for=audiences.__getitem__,
        )
        session.start()
        if lang != "en":
            session.line_received(f"/lang {lang}", NOW)
        session.line_received(name, NOW)
        session.line_received("GL1", NOW)
        clock.advance(0)
        out.session = session
        return out

    ala, ola = person("ala", "en"), person("ola", "pl")
    amy, ewa = person("amy", "en"), person("ewa", "pl")
    speaker = person("bob", "en")
    for out in (ala, ola, amy, ewa, speaker):
        out.lines()
    for audience in audiences.values():
        audience.renders.clear()
    speaker.session.line_received("hej, hello", NOW)
    speaker.session.line_received("/nick robert", NOW)
    speaker.session.end(NOW, "quit")
    clock.advance(0)
    assert audiences["en"].renders == {"public": 1, "renamed": 1, "left": 1}
    assert audiences["pl"].renders == {"public": 1, "renamed": 1, "left": 1}
    assert (
        unstamped(ala.lines())
        == unstamped(amy.lines())
        == [
            "[T] bob (GL1): hej, hello",
            "[T] * bob is now known as robert",
            "[T] * robert (GL1) left",
        ]
    )
    assert (
        unstamped(ola.lines())
        == unstamped(ewa.lines())
        == [
            "[T] bob (GL1): hej, hello",
            "[T] * bob zmienia nick na robert",
            "[T] * robert (GL1) wychodzi",
        ]
    )


# --lang


def test_langOption():
    options = tap.Options()
    options.parseOptions(["--lang", "pl"])
    assert options["lang"] == "pl"
    options = tap.Options()
    options.parseOptions([])
    assert options["lang"] == "en"
    with pytest.raises(usage.UsageError, match="is not one of en, pl"):
        tap.Options().parseOptions(["--lang", "xx"])


def test_makeServiceUsesTheLanguage():
    options = tap.Options()
    options.parseOptions(["--lang", "pl", "--port", "tcp6:0:interface=\\:\\:1"])
    service = tap.makeService(options, task.Clock())
    factories = [s.factory for s in service if hasattr(s, "factory")]
    assert factories and all(f.audience is line_audience("pl") for f in factories)
    assert line_audience("en") is ENGLISH_LINES


def test_langTakesTheLanguagesOwnName():
    factory = make_factory()
    ala = FakePeer(factory)
    ala.register("ala", "GL3")
    ala.lines()
    ala.say("/jezyk Polski", "/lang english")
    assert ala.lines() == [
        "Twój język to teraz: polski (pl).",
        "From now on you read English (en).",
    ]
