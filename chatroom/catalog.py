# -*- test-case-name: tests.test_catalog -*-
"""
A language: the templates of the message catalog as one audience reads them.

English is the catalog's own text (each L{Message}'s id).  Another language
is a set of translations with gettext's C{gettext}/C{ngettext}, whose plural
rules pick the form for a count ("1 osoba, 2 osoby, 5 osób").  Templates are
looked up once per message and kept, so rendering costs a dict lookup and a
C{str.format}.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chatroom.events import Message, Text
from chatroom.messages import DECIMAL_POINT


class Catalog:
    """
    @param lang: the language's code (C{"en"}, C{"pl"}).
    @param gettext: translates a singular id; L{None} for English.
    @param ngettext: C{(singular, plural, n)} to the translated form.
    """

    def __init__(
        self,
        lang: str,
        gettext: Callable[[str], str] | None = None,
        ngettext: Callable[[str, str, int], str] | None = None,
    ) -> None:
        self.lang = lang
        self._gettext = gettext
        self._ngettext = ngettext
        self._templates: dict[Message, str] = {}
        point = self.template(DECIMAL_POINT)
        # None where a number reads as Python writes it ("2.5"): nothing to do.
        self._point: str | None = None if point == "." else point

    @property
    def english(self) -> bool:
        return self._gettext is None

    def template(self, message: Message, count: int | None = None) -> str:
        """The template for C{message} in this language (its form for C{count})."""
        if message.plural is not None:
            if self._ngettext is None:
                return message.id if count == 1 else message.plural
            return self._ngettext(message.id, message.plural, count if count is not None else 0)
        template = self._templates.get(message)
        if template is None:
            template = message.id if self._gettext is None else self._gettext(message.id)
            self._templates[message] = template
        return template

    def format(self, message: Message, **fields: Any) -> str:
        """C{message} filled in with C{fields}, in this language."""
        count = fields.get(message.count) if message.count is not None else None
        return self.template(message, count).format_map(fields)

    def text(self, text: Text) -> str:
        """
        A L{Text} in this language, nested L{Text}s in its fields included,
        and numbers with a fraction ("2.5") written as the language writes
        them ("2,5"): a sentence's fields are settings and counts, never a
        person's words, so a float field is always a number to read.
        """
        fields = text.fields
        point = self._point
        if any(
            isinstance(value, Text) or (point is not None and type(value) is float)
            for value in fields.values()
        ):
            fields = {key: self._field(value) for key, value in fields.items()}
        return self.format(text.message, **fields)

    def _field(self, value: Any) -> Any:
        if isinstance(value, Text):
            return self.text(value)
        if self._point is not None and type(value) is float:
            return _Decimal(value, self._point)
        return value


ENGLISH = Catalog("en")


class _Decimal:
    """A float that formats (any spec: C{{rate:g}}) with a language's decimal point."""

    __slots__ = ("point", "value")

    def __init__(self, value: float, point: str) -> None:
        self.value = value
        self.point = point

    def __format__(self, spec: str) -> str:
        return format(self.value, spec).replace(".", self.point)

    def __str__(self) -> str:
        return self.__format__("")


class Clock:
    """
    Formats a server timestamp, once per second rather than once per message.

    C{time.strftime} is a C call but still the most expensive part of a public
    message line; a renderer formats one line per message and audience, so
    caching the last second makes it free.
    """

    __slots__ = ("_second", "_stamp")

    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("[%H:%M:%S]", time.localtime(second))
        return self._stamp
