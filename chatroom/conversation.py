# -*- test-case-name: tests.test_commands -*-
"""
What a command handler may ask of the person who typed the command.

The command tables (L{chatroom.commands}, L{chatroom.opcommands}) are written
against this interface rather than against L{chatroom.session.Session}, so
they do not import the session that looks commands up in them: imports run
one way, from the session down to its table.
"""

from __future__ import annotations

from typing import Protocol

from chatroom.catalog import Catalog
from chatroom.events import Event, Message
from chatroom.room import Member, Room


class Conversation(Protocol):
    """One person's session, as the command handlers see it."""

    room: Room
    member: Member | None
    max_line: int

    @property
    def lang(self) -> str:
        """The code of the language this person reads."""

    @property
    def catalog(self) -> Catalog:
        """This person's language's catalog."""

    @property
    def operator(self) -> bool:
        """Whether this person has given the operator password."""

    @property
    def peer(self) -> str:
        """Where this person connects from, as the log shows it."""

    @property
    def address(self) -> str:
        """The address the door admitted this person by (what a ban refuses)."""

    def languages(self) -> list[str]:
        """The languages this person's door can render."""

    def set_language(self, lang: str) -> None:
        """Switch this person to C{lang} at once."""

    def reply(self, event: Event) -> None:
        """An event for this person only."""

    def notice(self, message: Message, **fields: object) -> None:
        """A notice for this person only."""

    def quit(self, now: float) -> None:
        """Say goodbye and close."""
