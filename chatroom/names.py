# -*- test-case-name: tests.test_names -*-
"""
Name and group rules: what a person may call themselves, and when two names clash.

Names are compared by their NFKC casefold, so "Ala", "ALA" and "ａｌａ" (fullwidth)
are the same person.  Letters from Latin, Greek and Cyrillic may not be mixed in
one name: a Cyrillic "а" inside a Latin name is the classic impersonation trick
(ergo#178), while whole-script names (Polish, Ukrainian, Greek) stay welcome.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from chatroom import messages
from chatroom.events import Message, Text

NAME_MAX = 20
GROUP_MAX = 16

_CONFUSABLE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


class RuleError(ValueError):
    """
    Something a person asked for breaks a rule; the L{Text} says which, in
    any language (C{str()} gives the English, for the log and for tests).
    """

    def __init__(self, message: Message, **fields: Any) -> None:
        self.text = Text(message, **fields)
        super().__init__(self.text.english())


class InvalidName(RuleError):
    pass


class InvalidGroup(RuleError):
    pass


def _script(ch: str) -> str | None:
    """The confusable script a letter belongs to, if any."""
    try:
        first = unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return None
    return first if first in _CONFUSABLE_SCRIPTS else None


def normalize_name(raw: str) -> str:
    """
    Return the name as it will be shown (NFC, surrounding blanks removed).

    @raise InvalidName: with a message saying which rule was broken.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise InvalidName(messages.NAME_EMPTY)
    if len(name) > NAME_MAX:
        raise InvalidName(messages.NAME_TOO_LONG, max=NAME_MAX, length=len(name))
    scripts = set()
    for ch in name:
        if ch in "_-":
            continue
        category = unicodedata.category(ch)
        if category == "Nd":
            continue
        if category[0] != "L":
            if ch == " ":
                shown: str | Text = Text(messages.NAME_A_SPACE)
            elif ch.isprintable():
                shown = repr(ch)
            else:
                shown = f"U+{ord(ch):04X}"
            raise InvalidName(messages.NAME_BAD_CHARACTER, shown=shown)
        script = _script(ch)
        if script is not None:
            scripts.add(script)
    if len(scripts) > 1:
        raise InvalidName(messages.NAME_MIXED_SCRIPTS)
    return name


def name_key(name: str) -> str:
    """The form two names are compared in: equal keys mean the same name."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def normalize_group(raw: str) -> str:
    """
    Return the lab group as it will be shown.

    @raise InvalidGroup: with a message saying which rule was broken.
    """
    group = unicodedata.normalize("NFC", raw.strip())
    if not group:
        raise InvalidGroup(messages.GROUP_EMPTY)
    if len(group) > GROUP_MAX:
        raise InvalidGroup(messages.GROUP_TOO_LONG, max=GROUP_MAX, length=len(group))
    if not group.isprintable():
        raise InvalidGroup(messages.GROUP_UNPRINTABLE)
    return group
