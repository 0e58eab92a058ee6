# -*- test-case-name: tests.test_lines -*-
"""
Rendering events as the line door's text lines, in one language.

This is the whole of the line protocol's wording (docs/protocol.md): the
WebSocket door reuses it for the C{"line"} field of its JSON, so a browser
shows exactly what C{nc} shows.  A L{LineAudience} encodes the lines as UTF-8
with CRLF; the fan-out asks it once per event, whatever the number of
recipients.
"""

from __future__ import annotations

from collections.abc import Callable

from chatroom import events, i18n, messages
from chatroom.catalog import ENGLISH, Catalog, Clock
from chatroom.events import Event, Text


def _nothing(event: Event) -> None:
    return None


class LineRenderer:
    """Events to text lines (no line ending) in C{catalog}'s language."""

    def __init__(self, catalog: Catalog = ENGLISH) -> None:
        self.catalog = catalog
        self.stamp = Clock().stamp
        self._plain_public = catalog.template(messages.PUBLIC) == messages.PUBLIC.id
        self._render: dict[type[Event], Callable[[Event], str | None]] = {
            events.Public: self._public,
            events.PublicSent: _nothing,  # a terminal has its own line on screen
            events.Private: self._private,
            events.PrivateSent: self._private_sent,
            events.Joined: self._joined,
            events.Left: self._left,
            events.Renamed: self._renamed,
            events.Announcement: self._announcement,
            events.Shutdown: self._shutdown,
            events.Welcome: self._welcome,
            events.Prompt: self._prompt,
            events.Registered: self._registered,
            events.Roster: self._roster,
            events.Notice: self._notice,
            events.Error: self._error,
            events.Bye: self._bye,
        }

    def line(self, event: Event) -> str | None:
        """The line for C{event}, or L{None} when this wire doesn't show it."""
        return self._render[type(event)](event)

    def text(self, text: Text) -> str:
        return self.catalog.text(text)

    # Room traffic: the public line is the hot path, hence the f-string for
    # the catalog's own language.

    def _public(self, e: events.Public) -> str:
        if e.history:
            message = messages.PUBLIC_HISTORY
        elif self._plain_public:
            return f"{self.stamp(e.time)} {e.name} ({e.group}): {e.text}"
        else:
            message = messages.PUBLIC
        return self.catalog.format(
            message, stamp=self.stamp(e.time), name=e.name, group=e.group, text=e.text
        )

    def _private(self, e: events.Private) -> str:
        return self.catalog.format(
            messages.PRIVATE, stamp=self.stamp(e.time), name=e.sender, group=e.group, text=e.text
        )

    def _private_sent(self, e: events.PrivateSent) -> str:
        return self.catalog.format(
            messages.PRIVATE_SENT, stamp=self.stamp(e.time), to=e.to, text=e.text
        )

    def _joined(self, e: events.Joined) -> str:
        return self.catalog.format(
            messages.JOINED,
            stamp=self.stamp(e.time),
            name=e.name,
            group=e.group,
            online=e.online,
            max=e.max,
        )

    def _left(self, e: events.Left) -> str:
        if e.by:
            return self._removed(e)
        return self.catalog.format(
            messages.LEFT,
            stamp=self.stamp(e.time),
            name=e.name,
            group=e.group,
            online=e.online,
            max=e.max,
        )

    def _removed(self, e: events.Left) -> str:
        """A member an operator kicked out or banned."""
        fields = {
            "stamp": self.stamp(e.time),
            "name": e.name,
            "group": e.group,
            "by": e.by,
            "reason": e.reason or Text(messages.NO_REASON),
        }
        if e.minutes:
            duration = Text(messages.FOR_MINUTES, minutes=e.minutes)
            return self.catalog.text(Text(messages.BANNED, duration=duration, **fields))
        return self.catalog.text(Text(messages.KICKED, **fields))

    def _announcement(self, e: events.Announcement) -> str:
        return self.catalog.format(
            messages.ANNOUNCEMENT, stamp=self.stamp(e.time), by=e.by, text=e.text
        )

    def _renamed(self, e: events.Renamed) -> str:
        return self.catalog.format(messages.RENAMED, stamp=self.stamp(e.time), old=e.old, new=e.new)

    def _shutdown(self, e: events.Shutdown) -> str:
        return self.catalog.format(messages.SHUTDOWN, stamp=self.stamp(e.time))

    # One person's conversation.

    def _welcome(self, e: events.Welcome) -> str:
        return self.catalog.format(messages.WELCOME, online=e.online, max=e.max)

    def _prompt(self, e: events.Prompt) -> str:
        message = messages.NAME_PROMPT if e.field == "name" else messages.GROUP_PROMPT
        return self.catalog.format(message)

    def _registered(self, e: events.Registered) -> str:
        return self.catalog.format(
            messages.REGISTERED,
            name=e.name,
            group=e.group,
            online=e.online,
            max=e.max,
            help=messages.HELP_COMMAND,
        )

    def _roster(self, e: events.Roster) -> str | None:
        if not e.asked:
            return None  # a live update for member lists; a terminal has none
        catalog = self.catalog
        ops = set(e.ops)
        people = ", ".join(
            catalog.format(
                messages.ONLINE_OPERATOR if name in ops else messages.ONLINE_ENTRY,
                name=name,
                group=group,
            )
            for name, group in e.members
        )
        return catalog.format(messages.ONLINE, online=e.online, max=e.max, people=people)

    def _notice(self, e: events.Notice) -> str:
        return self.catalog.text(e.text)

    def _error(self, e: events.Error) -> str:
        return self.catalog.format(messages.ERROR, text=self.catalog.text(e.text))

    def _bye(self, e: events.Bye) -> str:
        text = self.catalog.text(e.text)
        return self.catalog.format(messages.ERROR, text=text) if e.error else text


class LineAudience:
    """
    Everyone on the line door who reads one language: events become UTF-8
    lines ended with CRLF, and a member's share of a turn is their lines
    back to back.
    """

    wire = "line"
    confirms = False  # no events.PublicSent: a terminal echoes what its user typed

    def __init__(self, catalog: Catalog = ENGLISH) -> None:
        self.lang = catalog.lang
        self.renderer = LineRenderer(catalog)
        self._line = self.renderer.line
        self._stamp = self.renderer.stamp
        # The hot path's f-string serves every language whose public line has
        # the English shape (Polish does): a busy room of two languages then
        # costs two cheap renders a message, not one cheap and one slow.
        self._plain_public = self.renderer._plain_public

    def __repr__(self) -> str:
        return f"<LineAudience {self.lang}>"

    def render(self, event: Event) -> bytes:
        """C{event} as bytes for this audience; C{b""} when it shows nothing."""
        if type(event) is events.Public and self._plain_public and not event.history:
            # The hot path of a busy room, one call deep.
            return (
                f"{self._stamp(event.time)} {event.name} ({event.group}): {event.text}\r\n".encode()
            )
        line = self._line(event)
        return b"" if line is None else (line + "\r\n").encode("utf-8")

    @staticmethod
    def pack(pieces: list[bytes]) -> bytes:
        """Several rendered events as one write."""
        return b"".join(pieces)


ENGLISH_LINES = LineAudience()
"""The line door's audience in English (the default, and what tests use)."""


_AUDIENCES: dict[str, LineAudience] = {ENGLISH_LINES.lang: ENGLISH_LINES}


def line_audience(lang: str) -> LineAudience:
    """
    The line door's audience for C{lang}, the same object every time: the
    fan-out renders once per audience, so one language must be one audience.

    @raise KeyError: no such language (see L{chatroom.i18n.LANGUAGES}).
    """
    audience = _AUDIENCES.get(lang)
    if audience is None:
        audience = _AUDIENCES[lang] = LineAudience(i18n.catalog(lang))
    return audience
