# -*- test-case-name: tests.test_events -*-
"""
What the room says, before any wire or language has touched it.

The room decides who hears what and emits these events; each front door
renders them for its audience (a wire format and a language: see
L{chatroom.audience}), once per audience, never once per recipient.  Between
server nodes travel these events too, never rendered lines: L{to_fields} and
L{from_fields} turn one into plain data and back.

Sentences addressed to one person (errors, notices, last words) carry a
L{Text}: a catalog entry (L{Message}) and its fields, so that each audience
renders it in its own language.  User text (names, groups, chat lines) is
only ever a field, never part of a template.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Message:
    """
    One entry of the message catalog: its English text is also its key.

    @ivar id: the English template, C{str.format} fields in braces.
    @ivar plural: the English plural template, for messages that count;
        the same as C{id} when only other languages have plural forms.
    @ivar count: the field whose number picks the plural form.
    """

    id: str
    plural: str | None = None
    count: str | None = None

    def __post_init__(self) -> None:
        if self.count is not None and self.plural is None:
            object.__setattr__(self, "plural", self.id)
        CATALOG[self.id] = self


CATALOG: dict[str, Message] = {}
"""Every L{Message} defined, by id: what C{from_fields} and the translations check."""


class Text:
    """A sentence for one person: a catalog entry and the fields to fill it with."""

    __slots__ = ("message", "fields")

    def __init__(self, message: Message, **fields: Any) -> None:
        self.message = message
        self.fields = fields

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Text)
            and other.message == self.message
            and other.fields == self.fields
        )

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"Text({self.message.id!r}, **{self.fields!r})"

    def english(self) -> str:
        """The sentence in English (what the server's own log and exceptions say)."""
        message = self.message
        template = message.id
        if message.plural is not None and self.fields.get(message.count) != 1:
            template = message.plural
        shown = {
            key: value.english() if isinstance(value, Text) else value
            for key, value in self.fields.items()
        }
        return template.format_map(shown)


class Event:
    """Base of the room's events; C{kind} is what the WebSocket door calls C{type}."""

    __slots__ = ()
    kind: ClassVar[str] = ""


# Room traffic: times are the server's clock (seconds since the epoch).


@dataclass(slots=True)
class Public(Event):
    """
    A public message.  C{history} marks one replayed to a newcomer (see
    L{chatroom.history}): said at C{time}, before they joined.
    """

    kind: ClassVar[str] = "public"
    time: float
    name: str
    group: str
    text: str
    history: bool = False


@dataclass(slots=True)
class Private(Event):
    """A private message, as its receiver sees it."""

    kind: ClassVar[str] = "private"
    time: float
    sender: str
    group: str
    text: str


@dataclass(slots=True)
class PrivateSent(Event):
    """The sender's confirmation of a private message."""

    kind: ClassVar[str] = "private_sent"
    time: float
    to: str
    text: str


@dataclass(slots=True)
class PublicSent(Event):
    """
    The sender's confirmation of their own public line (C{text} as the room
    took it).  A terminal shows nothing for it; a page that shows its own
    lines at once learns which went out, and when.
    """

    kind: ClassVar[str] = "public_sent"
    time: float
    text: str


@dataclass(slots=True)
class Joined(Event):
    kind: ClassVar[str] = "joined"
    time: float
    name: str
    group: str
    online: int
    max: int


@dataclass(slots=True)
class Left(Event):
    """
    A member left.  C{by} is set when an operator removed them: a kick, or a
    ban when C{minutes} is above 0; C{reason} is the operator's text.
    """

    kind: ClassVar[str] = "left"
    time: float
    name: str
    group: str
    online: int
    max: int
    by: str = ""
    reason: str = ""
    minutes: int = 0


@dataclass(slots=True)
class Renamed(Event):
    kind: ClassVar[str] = "renamed"
    time: float
    old: str
    new: str


@dataclass(slots=True)
class Announcement(Event):
    """An operator's notice to everyone (C{/announce}), set apart from the chat."""

    kind: ClassVar[str] = "announcement"
    time: float
    by: str
    text: str


@dataclass(slots=True)
class Shutdown(Event):
    """The server is stopping; connections close after this."""

    kind: ClassVar[str] = "shutdown"
    time: float


# One person's conversation with the server.


@dataclass(slots=True)
class Welcome(Event):
    kind: ClassVar[str] = "welcome"
    online: int
    max: int


@dataclass(slots=True)
class Prompt(Event):
    """The server asks for C{field}: C{"name"} or C{"group"}."""

    kind: ClassVar[str] = "prompt"
    field: str


@dataclass(slots=True)
class Registered(Event):
    kind: ClassVar[str] = "registered"
    name: str
    group: str
    online: int
    max: int


@dataclass(slots=True)
class Roster(Event):
    """
    Who is here.  C{asked} is true when it answers C{/online}; otherwise it
    only keeps a live member list up to date, and the line door says nothing.
    C{ops} names the members who are operators.
    """

    kind: ClassVar[str] = "roster"
    members: tuple[tuple[str, str], ...]
    online: int
    max: int
    asked: bool = True
    ops: tuple[str, ...] = ()


@dataclass(slots=True)
class Notice(Event):
    """A sentence for one person: a confirmation, a line of help."""

    kind: ClassVar[str] = "notice"
    text: Text


@dataclass(slots=True)
class Error(Event):
    """
    Something this person did was refused; nobody else is told.  C{said}:
    what was refused is a chat line (a public message), not a command.
    """

    kind: ClassVar[str] = "error"
    text: Text
    said: bool = False


@dataclass(slots=True)
class Bye(Event):
    """The last words before the server closes this connection."""

    kind: ClassVar[str] = "bye"
    text: Text
    error: bool = False


KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Public,
        PublicSent,
        Private,
        PrivateSent,
        Joined,
        Left,
        Renamed,
        Announcement,
        Shutdown,
        Welcome,
        Prompt,
        Registered,
        Roster,
        Notice,
        Error,
        Bye,
    )
}


def to_fields(event: Event) -> dict[str, Any]:
    """
    An event as plain data (str, numbers, lists, dicts): for JSON and the bus.

    A L{Text} becomes C{{"message": id, "fields": {...}}}; C{from_fields}
    finds the catalog entry again by its id.
    """
    out: dict[str, Any] = {"type": event.kind}
    for f in fields(event):
        out[f.name] = _plain(getattr(event, f.name))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return {
            "message": value.message.id,
            "fields": {key: _plain(item) for key, item in value.fields.items()},
        }
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def from_fields(data: dict[str, Any]) -> Event:
    """
    The event that L{to_fields} gave C{data} for.

    @raise KeyError: an unknown type or message (a node of another version).
    @raise TypeError: fields that don't fit the type.
    """
    cls = KINDS[data["type"]]
    values = {}
    for f in fields(cls):
        if f.name in data:
            values[f.name] = _unplain(f.name, data[f.name])
    return cls(**values)


def _unplain(name: str, value: Any) -> Any:
    if name == "text" and isinstance(value, dict):
        return _text(value)
    if name == "members":
        return tuple((str(member), str(group)) for member, group in value)
    if name == "ops":
        return tuple(str(op) for op in value)
    return value


def _text(value: dict[str, Any]) -> Text:
    fields_ = {
        key: _text(item) if isinstance(item, dict) and "message" in item else item
        for key, item in value["fields"].items()
    }
    return Text(CATALOG[value["message"]], **fields_)
