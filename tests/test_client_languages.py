"""
chatroom-client in the user's language: it asks the server for it, knows the
server's lines in any language, and says its own lines in it too.
"""

from __future__ import annotations

import re

import pytest
from twisted.internet import error
from twisted.python import usage
from twisted.python.failure import Failure

from chatroom import clientmessages as says
from chatroom import clientsession, i18n, messages
from chatroom.client import Options, locale_language
from chatroom.terminal import colourise
from tests.test_client import Conversation

PL = i18n.catalog("pl")
EN = i18n.catalog("en")


def pl(message, **fields) -> str:
    return PL.format(message, **fields)


def en(message, **fields) -> str:
    return EN.format(message, **fields)


def conversation(lang: str, name: str | None = "ala", group: str | None = "3") -> Conversation:
    talk = Conversation(name, group)
    talk.client.lang, talk.client.catalog = lang, i18n.catalog(lang)
    return talk


def registered(say, online: int) -> str:
    return say(
        messages.REGISTERED,
        name="ala",
        group="3",
        online=online,
        max=50,
        help=messages.HELP_COMMAND,
    )


def test_asksAnEnglishServerForPolish():
    talk = conversation("pl")
    talk.client.user_line("cześć")
    talk.server(en(messages.WELCOME, online=1, max=50), en(messages.NAME_PROMPT))
    assert talk.sent() == ["/lang pl"]
    talk.server(pl(messages.LANGUAGE_SET, name="polski", code="pl"), pl(messages.NAME_PROMPT))
    assert talk.sent() == ["ala"]
    talk.server(pl(messages.GROUP_PROMPT))
    assert talk.sent() == ["3"]
    talk.server(registered(pl, 2))
    assert talk.sent() == ["cześć"]  # held until the join, recognised in Polish
    assert talk.client.joined
    assert talk.console.asked == []
    # The welcome came before the client could ask: said again in Polish.
    assert talk.console.texts() == [pl(messages.WELCOME, online=1, max=50), registered(pl, 2)]
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] ty: cześć", talk.console.texts("own")[0])


@pytest.mark.parametrize("online", [1, 3, 5, 22])
def test_registrationRecognisedInEveryPluralForm(online):
    talk = conversation("pl")
    talk.server(pl(messages.NAME_PROMPT), pl(messages.GROUP_PROMPT), registered(pl, online))
    assert talk.sent() == ["ala", "3"]  # the server already speaks Polish: no /lang
    assert talk.client.joined


def test_englishClientAsksAPolishServerForEnglish():
    talk = conversation("en")
    talk.server(pl(messages.WELCOME, online=0, max=50), pl(messages.NAME_PROMPT))
    assert talk.sent() == ["/lang en"]
    talk.server(en(messages.LANGUAGE_SET, name="English", code="en"), en(messages.NAME_PROMPT))
    assert talk.sent() == ["ala"]


def test_anOldServerWithoutLang():
    """/lang unknown: the client says so in the user's language, and registers in English."""
    talk = conversation("pl")
    talk.server(en(messages.NAME_PROMPT))
    assert talk.sent() == ["/lang pl"]
    unknown = en(messages.UNKNOWN_COMMAND, word="lang", help=messages.HELP_COMMAND)
    talk.server(en(messages.ERROR, text=unknown), en(messages.NAME_PROMPT))
    assert talk.sent() == ["ala"]
    talk.server(en(messages.GROUP_PROMPT), registered(en, 1))
    assert talk.sent() == ["3"]
    assert talk.client.joined
    assert talk.console.texts("notice") == [
        "serwer nie obsługuje języka: polski; rozmowa toczy się w jego języku."
    ]
    assert unknown not in " ".join(talk.console.texts())


def test_interactiveUserAnswersAfterTheLanguageChange():
    """A name typed before the first prompt is not lost; the user answers the Polish prompt."""
    talk = conversation("pl", None, None)
    talk.client.user_line("ala")
    assert talk.sent() == ["ala"]
    talk.server(en(messages.NAME_PROMPT))
    assert talk.sent() == ["/lang pl"]
    talk.server(
        en(messages.GROUP_PROMPT),
        pl(messages.LANGUAGE_SET, name="polski", code="pl"),
        pl(messages.GROUP_PROMPT),
    )
    assert talk.console.asked == [pl(messages.GROUP_PROMPT)]


def test_polishRefusalIsARefusal():
    talk = conversation("pl")
    talk.server(pl(messages.ROOM_FULL, count=5, max=5))
    talk.close()
    assert talk.status == [clientsession.EXIT_REFUSED]
    assert talk.console.texts("notice") == ["serwer odrzucił połączenie."]


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (messages.BANNED_REFUSAL, {"minutes": 3}),
        (messages.TOO_MANY_FROM_ADDRESS, {"count": 4, "limit": 4}),
    ],
)
def test_refusalFromAPolishServerSaidInEnglish(message, fields):
    """Before any /lang: the refusal is recognised and said again in the user's language."""
    talk = conversation("en")
    talk.server(pl(message, **fields))
    talk.close()
    assert talk.status == [clientsession.EXIT_REFUSED]
    assert talk.console.texts() == [en(message, **fields)]
    assert talk.console.texts("notice") == [en(says.SERVER_REFUSED)]


def test_ownLinesInPolish():
    talk = conversation("pl")
    talk.close(error.ConnectionLost())
    assert talk.console.texts("notice")[0].startswith("utracono połączenie: ")
    failure = Failure(error.ConnectionRefusedError())
    assert clientsession.describe_failure(failure, PL) == pl(says.REFUSED_CONNECTION)
    assert clientsession.describe_failure(failure) == en(says.REFUSED_CONNECTION)


@pytest.mark.parametrize(
    "environ, lang",
    [
        ({"LANG": "pl_PL.UTF-8"}, "pl"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "pl_PL.UTF-8"}, "pl"),
        ({"LC_ALL": "C", "LC_MESSAGES": "pl_PL.UTF-8"}, "en"),
        ({"LC_ALL": "pl_PL.utf8", "LANG": "C"}, "pl"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_languageFromTheLocale(environ, lang):
    assert locale_language(environ) == lang


def test_langOption(monkeypatch):
    monkeypatch.setenv("LC_ALL", "pl_PL.UTF-8")
    options = Options()
    options.parseOptions(["::1"])
    assert options["lang"] == "pl"
    options = Options()
    options.parseOptions(["::1", "--lang", "EN"])
    assert options["lang"] == "en"
    with pytest.raises(usage.UsageError, match="--lang: nie ma języka 'xx'; dostępne: en, pl"):
        Options().parseOptions(["::1", "--lang", "xx"])
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    with pytest.raises(usage.UsageError, match="--lang: 'xx' is not one of en, pl"):
        Options().parseOptions(["::1", "--lang", "xx"])


def test_colouriseKnowsPolishLines():
    private = colourise("[12:00:00] [prywatnie] bob (GL1): sekret")
    assert "\x1b[35m[prywatnie]\x1b[0m" in private and "\x1b[1;35mbob\x1b[0m" in private
    assert "\x1b[35m[prywatnie do bob]" in colourise("[12:00:00] [prywatnie do bob] sekret")
    assert colourise(pl(messages.ERROR, text="nie.")) == "\x1b[1;31mBłąd: nie.\x1b[0m"
    assert colourise(pl(messages.ROOM_FULL, count=1, max=1)).startswith("\x1b[1;31m")
    assert "\x1b[1;32mty:\x1b[0m" in colourise("[12:00:00] ty: hej", "own")


def test_wrongOptionsSaidInTheUsersLanguage(monkeypatch, capsys):
    from chatroom.client import main

    monkeypatch.setenv("LC_ALL", "pl_PL.UTF-8")
    with pytest.raises(usage.UsageError, match=r"^port musi być liczbą, a nie 'abc'\.$"):
        Options().parseOptions(["::1", "abc"])
    with pytest.raises(SystemExit) as exit:
        main(["--lang", "pl"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        "chatroom-client: który serwer?  Podaj HOST [PORT] albo --connect ENDPOINT.\n"
        "Spróbuj 'chatroom-client --help'.\n"
    )
    with pytest.raises(SystemExit):
        main(["::1", "99999", "--lang", "en"])
    assert capsys.readouterr().err == (
        "chatroom-client: the port must be 1-65535, not 99999.\nTry 'chatroom-client --help'.\n"
    )
