# -*- test-case-name: tests.test_i18n -*-
"""
Recognising the server's lines in any of the catalogs' languages.

A client must not depend on the English wording: whatever language the
server speaks (its default, or the one the client asked for), the prompts,
the registration line and the refusals are found by their templates in every
catalog, every plural form included.  Nothing here is written per language:
a new catalog is recognised as soon as it is in L{chatroom.i18n.LANGUAGES}.
"""

from __future__ import annotations

import re
import string

from chatroom.catalog import Catalog
from chatroom.events import Message
from chatroom.i18n import LANGUAGES, catalog

# Enough counts to meet every plural form of any language gettext knows.
_COUNTS = (*range(0, 30), 100, 101, 102, 105, 111, 112, 121, 122, 1000)


def forms(message: Message) -> dict[str, str]:
    """Every template of C{message} (each language, each plural form) and its language."""
    found: dict[str, str] = {}
    for lang in LANGUAGES:
        language = catalog(lang)
        counts = _COUNTS if message.plural is not None else (None,)
        for count in counts:
            found.setdefault(language.template(message, count), lang)
    return found


def pattern(template: str, fields: dict[str, str]) -> str:
    """
    A regular expression for lines made from C{template}: its text literally,
    each field as C{fields} says (a named group) or as any text at all.
    """
    out = []
    named: set[str] = set()
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name is None:
            continue
        if name in fields and name not in named:
            named.add(name)
            out.append(f"(?P<{name}>{fields[name]})")
        else:
            out.append(".*?")
    return "".join(out)


class Recogniser:
    """
    Lines of one message, in any language: C{match(line)} gives the match
    (its named groups are the fields asked for) or L{None}; C{lang} is the
    language of the form that matched last.
    """

    def __init__(self, message: Message, **fields: str) -> None:
        self._patterns = [
            (re.compile(pattern(template, fields), re.S), lang)
            for template, lang in forms(message).items()
        ]
        self.lang: str | None = None

    def match(self, line: str) -> re.Match[str] | None:
        for compiled, lang in self._patterns:
            found = compiled.fullmatch(line)
            if found is not None:
                self.lang = lang
                return found
        return None


def prefixes(*messages: Message) -> tuple[str, ...]:
    """The fixed text each form of C{messages} starts with (before any field)."""
    found: dict[str, None] = {}
    for message in messages:
        for template in forms(message):
            literal = next(string.Formatter().parse(template))[0]
            if literal:
                found[literal] = None
    return tuple(found)


def literals_after(message: Message, field: str) -> tuple[str, ...]:
    """The fixed text that follows C{{field}} in each form of C{message}."""
    found: dict[str, None] = {}
    for template in forms(message):
        parts = list(string.Formatter().parse(template))
        for index, (_, name, _, _) in enumerate(parts[:-1]):
            if name == field:
                found[parts[index + 1][0]] = None
    return tuple(found)


class Reworder:
    """
    Lines of C{messages} (whose fields are all numbers), whatever language
    they came in, said again in one catalog's language: for what a server
    sends before it knows the reader's language (the welcome, a refusal).
    """

    def __init__(self, *messages: Message) -> None:
        self._recognisers = []
        for message in messages:
            names = {name for _, name, _, _ in string.Formatter().parse(message.id) if name}
            recogniser = Recogniser(message, **dict.fromkeys(names, r"\d+"))
            self._recognisers.append((recogniser, message))

    def reword(self, line: str, language: Catalog) -> str | None:
        """C{line} in C{language}, or L{None} if it is none of the messages."""
        for recogniser, message in self._recognisers:
            found = recogniser.match(line)
            if found is not None:
                if recogniser.lang == language.lang:
                    return line
                numbers = {name: int(value) for name, value in found.groupdict().items()}
                return language.format(message, **numbers)
        return None
