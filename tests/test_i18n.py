"""
The catalogs: every message in every language, with the same fields; the
Polish plural forms; compiled files that match their sources.
"""

from __future__ import annotations

import gettext
import io
import re

import pytest

from chatroom import clientmessages, events, i18n, messages
from chatroom.catalog import ENGLISH
from chatroom.events import Text
from chatroom.i18n import compile as tool
from chatroom.lines import ENGLISH_LINES, line_audience

OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != "en"]


def _po(lang: str) -> str:
    return (i18n.HERE / f"{lang}.po").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_everyMessageTranslatedWithTheSameFields(lang: str) -> None:
    """Each .po has each message once, translated, with the English fields and no others."""
    assert tool.check(*tool.parse(_po(lang))) == []


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_compiledCatalogHasTheSameFields(lang: str) -> None:
    """What the server reads (the .mo, through gettext) has every message, right fields."""
    with (i18n.HERE / f"{lang}.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    header, _ = tool.parse(_po(lang))
    for _, message in tool.messages():
        fields = tool.placeholders(message.id)
        if message.plural is None:
            forms = [compiled[message.id]]
        else:
            forms = [compiled[(message.id, index)] for index in range(tool.nplurals(header))]
        assert [tool.placeholders(form) for form in forms] == [fields] * len(forms)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_noEnglishLeftInATranslation(lang: str) -> None:
    """A translation may equal the English only where the template has no words."""
    _, entries = tool.parse(_po(lang))
    copied = [
        entry.msgid
        for entry in entries
        if entry.msgid in entry.msgstr
        and re.search(r"[A-Za-z]", re.sub(r"{[^}]*}", "", entry.msgid))
    ]
    assert copied == []


def test_englishPluralHasTheSingularsFields() -> None:
    for _, message in tool.messages():
        if message.plural is not None:
            assert tool.placeholders(message.plural) == tool.placeholders(message.id)
            assert message.count in dict(tool.placeholders(message.id)), message.id


def test_everyMessageOfThePackageIsInTheCatalogs() -> None:
    """A Message defined outside L{i18n.MODULES} would go untranslated: none is."""
    import importlib
    import pkgutil

    import chatroom
    from chatroom.events import CATALOG

    for module in pkgutil.walk_packages(chatroom.__path__, "chatroom."):
        importlib.import_module(module.name)
    known = {message.id for _, message in tool.messages()}
    assert sorted(set(CATALOG) - known) == []


def test_theCatalogsCoverTheClientToo() -> None:
    ids = {message.id for _, message in tool.messages()}
    assert clientmessages.CONNECTING.id in ids and messages.WELCOME.id in ids


_PL = tool.parse(_po("pl")) if "pl" in i18n.LANGUAGES else None


def _without(entries, msgid):
    return [entry for entry in entries if entry.msgid != msgid]


def _changed(entries, msgid, *msgstr):
    out = []
    for entry in entries:
        if entry.msgid == msgid:
            entry = tool.Entry(entry.msgid, entry.msgid_plural, list(msgstr), entry.comments)
        out.append(entry)
    return out


def test_checkFindsAMissingMessage() -> None:
    header, entries = _PL
    problems = tool.check(header, _without(entries, messages.GOODBYE.id))
    assert problems == [f"missing: {messages.GOODBYE.id!r}"]


def test_checkFindsAnExtraEntry() -> None:
    header, entries = _PL
    extra = [*entries, tool.Entry("Nobody says this.", msgstr=["Nikt tego nie mówi."])]
    assert tool.check(header, extra) == ["no such message: 'Nobody says this.'"]


def test_checkFindsAMissingOrExtraPlaceholder() -> None:
    header, entries = _PL
    lost = tool.check(header, _changed(entries, messages.NAME_TAKEN.id, "nick jest zajęty."))
    added = tool.check(header, _changed(entries, messages.GOODBYE.id, "Do widzenia, {name}!"))
    spec = tool.check(
        header,
        _changed(entries, messages.HELP_ENTRY.id, "  {label}{summary}"),
    )
    assert len(lost) == len(added) == len(spec) == 1
    assert "fields [] instead of [('name', '!')]" in lost[0]


def test_checkFindsAWrongPluralEntry() -> None:
    header, entries = _PL
    two = tool.check(header, _changed(entries, messages.ONLINE.id, "{online}/{max}: {people}", "x"))
    field = tool.check(
        header,
        _changed(
            entries,
            messages.FOR_MINUTES.id,
            "na {minutes} minutę",
            "na {minutes} minuty",
            "na kilka minut",
        ),
    )
    untranslated = tool.check(header, _changed(entries, messages.FOR_MINUTES.id, "", "", ""))
    assert any("2 plural forms, not 3" in problem for problem in two)
    assert len(field) == 1 and "na kilka minut" in field[0]
    assert untranslated == [f"untranslated: {messages.FOR_MINUTES.id!r}"]


# Polish plural forms: 1 osoba; 2-4, 22-24 osoby; 0, 5-21, 25... osób.

COUNTS = (0, 1, 2, 5, 12, 22, 25)


def test_polishPeopleOnline() -> None:
    pl = i18n.catalog("pl")
    shown = [pl.format(messages.ONLINE, online=n, max=50, people="…") for n in COUNTS]
    assert shown == [
        "W pokoju (0 osób z 50): …",
        "W pokoju (1 osoba z 50): …",
        "W pokoju (2 osoby z 50): …",
        "W pokoju (5 osób z 50): …",
        "W pokoju (12 osób z 50): …",
        "W pokoju (22 osoby z 50): …",
        "W pokoju (25 osób z 50): …",
    ]


def test_polishMinutes() -> None:
    pl = i18n.catalog("pl")
    shown = [pl.text(Text(messages.FOR_MINUTES, minutes=n)) for n in COUNTS]
    assert shown == [
        "na 0 minut",
        "na 1 minutę",
        "na 2 minuty",
        "na 5 minut",
        "na 12 minut",
        "na 22 minuty",
        "na 25 minut",
    ]


def test_englishMinutes() -> None:
    shown = [ENGLISH.text(Text(messages.FOR_MINUTES, minutes=n)) for n in (0, 1, 2)]
    assert shown == ["for 0 minutes", "for 1 minute", "for 2 minutes"]
    assert Text(messages.FOR_MINUTES, minutes=1).english() == "for 1 minute"


def test_englishUnchangedWherePolishCounts() -> None:
    """Plural entries whose English has one form read the same for 1 and for 5."""
    one = ENGLISH.format(messages.JOINED, stamp="[s]", name="a", group="g", online=1, max=5)
    five = ENGLISH.format(messages.JOINED, stamp="[s]", name="a", group="g", online=5, max=5)
    assert one == "[s] * a (g) joined (1/5 online)"
    assert five == "[s] * a (g) joined (5/5 online)"


def test_polishFloodWarningWritesADecimalComma() -> None:
    """A rate of 2.5 reads "2,5" in Polish (the noun before it); English is untouched."""
    flooding = Text(messages.FLOODING, rate=2.5, burst=3)
    error = events.Error(flooding)
    assert line_audience("pl").render(error).decode() == (
        "Błąd: zwolnij: limit wierszy na sekundę to 2,5 (naraz najwyżej 3);"
        " nadmiarowe wiersze są odrzucane.\r\n"
    )
    assert ENGLISH_LINES.render(error).decode() == (
        "Error: slow down: at most 2.5 lines a second (bursts of 3);"
        " lines over that are dropped.\r\n"
    )
    assert i18n.catalog("pl").text(Text(messages.FLOODING, rate=2.0, burst=1)).count("2") == 1


def test_polishModerationLines() -> None:
    """One bracket group after a name, the reason named, plural minutes, "nick" for a nick."""
    pl = i18n.catalog("pl")
    kicked = Text(messages.KICKED, stamp="[s]", name="bob", group="GL1", by="ala", reason="spamuje")
    assert pl.text(kicked) == "[s] * ala wyrzuca z pokoju: bob (GL1), powód: spamuje"
    entry = dict(address="::2", name="bob", by="ala", reason="spam")
    assert [pl.text(Text(messages.BAN_ENTRY, minutes=n, **entry)) for n in (1, 2, 5)] == [
        f"  ::2 (bob): jeszcze {n} {noun}, operator: ala, powód: spam"
        for n, noun in ((1, "minuta"), (2, "minuty"), (5, "minut"))
    ]
    assert pl.text(Text(messages.RENAMED_CONFLICT, old="ala", new="ala-2")).endswith(
        "zajął nick ala; teraz twój nick to ala-2."
    )


def test_polishSaysNickForANick() -> None:
    """Polish calls a person's name "nick" everywhere: "nazwa" only of commands and hosts."""
    _, entries = tool.parse(_po("pl"))
    others = {
        messages.HELP_HEADING.id,
        clientmessages.NO_SUCH_HOST.id,
        clientmessages.DESCRIPTION.id,
    }
    found = [
        text
        for entry in entries
        for text in entry.msgstr
        if re.search(r"nazw|nazyw", text, re.I) and entry.msgid not in others
    ]
    page = (i18n.HERE.parent / "web" / "static" / "app.js").read_text(encoding="utf-8")
    polish_labels = page[page.index("  pl: {") :]
    assert found == []
    assert not re.search(r"nazw", polish_labels, re.I)
    assert all(") (" not in text for entry in entries for text in entry.msgstr if "{by}" in text)


# The compiled files are up to date with their sources.


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_moIsNotStale(lang: str) -> None:
    """The shipped .mo is what the .po compiles to: run python -m chatroom.i18n.compile."""
    compiled = tool.compile_mo(*tool.parse(_po(lang)))
    assert (i18n.HERE / f"{lang}.mo").read_bytes() == compiled


def test_templateIsNotStale() -> None:
    """chatroom.pot holds every message as messages.py has it now."""
    assert tool.TEMPLATE.read_text(encoding="utf-8") == tool.render(*tool.template())


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_poIsMerged(lang: str) -> None:
    """Each .po is in the order and form the tool writes (so merges stay quiet)."""
    _, pot = tool.template()
    assert tool.render(*tool.merge(_po(lang), pot)) == _po(lang)


def test_compiledFileReadByGettext() -> None:
    """Plural entries, the header's charset and plural rule: as gettext reads them."""
    header = tool.Entry(
        "",
        msgstr=[
            "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"
        ],
    )
    entries = [
        tool.Entry("cat", msgstr=["kot"]),
        tool.Entry("{n} cat", "{n} cats", ["{n} kot", "{n} kotów"]),
        tool.Entry("dog", msgstr=[""]),
    ]
    translations = gettext.GNUTranslations(io.BytesIO(tool.compile_mo(header, entries)))
    assert translations.gettext("cat") == "kot"
    assert translations.ngettext("{n} cat", "{n} cats", 3) == "{n} kotów"
    assert translations.gettext("dog") == "dog"  # untranslated: the English shows


def test_parseReadsContinuationsAndEscapes() -> None:
    header, entries = tool.parse(
        'msgid ""\nmsgstr ""\n"Language: pl\\n"\n\n#, fuzzy\nmsgid "a"\nmsgstr "b"\n\n'
        'msgid "say \\"hi\\""\nmsgstr ""\n"powiedz "\n"\\"cześć\\""\n'
    )
    assert header.msgstr == ["Language: pl\n"]
    assert entries[0].fuzzy and not entries[0].translated
    assert entries[1].msgid == 'say "hi"' and entries[1].msgstr == ['powiedz "cześć"']


# Languages and audiences.


def test_catalogIsInterned() -> None:
    assert i18n.catalog("pl") is i18n.catalog("pl")
    assert i18n.catalog("en") is ENGLISH
    with pytest.raises(KeyError):
        i18n.catalog("xx")


def test_lineAudienceIsInternedPerLanguage() -> None:
    assert line_audience("en") is ENGLISH_LINES
    assert line_audience("pl") is line_audience("pl")
    assert line_audience("pl").lang == "pl"


@pytest.mark.parametrize(
    "code, lang",
    [
        ("pl", "pl"),
        ("PL", "pl"),
        ("pl_PL.UTF-8", "pl"),
        ("pl-PL", "pl"),
        ("en_GB", "en"),
        ("polski", "pl"),
        ("English", "en"),
        ("C", None),
        ("de_DE.UTF-8", None),
        ("", None),
    ],
)
def test_languageFromLocaleNames(code: str, lang: str | None) -> None:
    assert i18n.language(code) == lang


def test_publicLineInALanguageOfAnotherShape() -> None:
    """The fast path is for the English shape only; another shape uses its template."""
    from chatroom.catalog import Catalog
    from chatroom.events import Public
    from chatroom.lines import LineAudience

    shapes = {messages.PUBLIC.id: "{stamp} <{name}/{group}> {text}"}
    other = LineAudience(Catalog("xx", lambda id: shapes.get(id, id), None))
    event = Public(0.0, "ala", "GL3", "hej")
    stamp = ENGLISH_LINES.render(event).split(b" ")[0]
    assert other.render(event) == stamp + b" <ala/GL3> hej\r\n"
    assert line_audience("pl").render(event) == ENGLISH_LINES.render(event)
