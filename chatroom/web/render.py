# -*- test-case-name: tests.test_web_render -*-
"""
The room's events as JSON for a browser, one WebSocket text message each.

Every message is a JSON object with the event's C{"type"}, the C{"line"} the
line door would send for it (so a simple client can print lines and be done),
and the event's fields (docs/websocket.md).  A L{WebAudience} renders each
event once for all the browsers that read one language, and frames it once:
server-to-client frames are not masked, so the same frame bytes go to every
recipient's socket.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

from chatroom import events, i18n
from chatroom.catalog import ENGLISH, Catalog
from chatroom.events import Event, Text
from chatroom.lines import LineRenderer

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def frame(payload: bytes) -> bytes:
    """
    One unfragmented, unmasked WebSocket text frame (RFC 6455 section 5.2).

    Servers never mask, and the door negotiates no extension (no
    permessage-deflate), so a frame is just a header and the payload: built
    once, written to every browser of the audience.
    """
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class WebAudience:
    """Every browser that reads one language: events as framed JSON."""

    wire = "web"
    # Tell a sender their public line went out (events.PublicSent): the page
    # shows its own lines at once and must learn which the server refused.
    confirms = True

    def __init__(self, catalog: Catalog = ENGLISH) -> None:
        self.lang = catalog.lang
        self.catalog = catalog
        self.renderer = LineRenderer(catalog)
        self._line = self.renderer.line
        self._fields: dict[type[Event], Callable[[Any], dict[str, Any]]] = {
            events.Public: lambda e: {
                "time": e.time,
                "name": e.name,
                "group": e.group,
                "text": e.text,
                "history": e.history,  # said before this person joined (replayed)
            },
            events.Private: lambda e: {
                "time": e.time,
                "from": e.sender,
                "group": e.group,
                "text": e.text,
            },
            events.PublicSent: lambda e: {"time": e.time, "text": e.text},
            events.PrivateSent: lambda e: {"time": e.time, "to": e.to, "text": e.text},
            events.Joined: self._presence,
            events.Left: self._left,
            events.Announcement: lambda e: {"time": e.time, "by": e.by, "text": e.text},
            events.Renamed: lambda e: {"time": e.time, "old": e.old, "new": e.new},
            events.Shutdown: lambda e: {"time": e.time},
            events.Welcome: lambda e: {"online": e.online, "max": e.max},
            events.Prompt: lambda e: {"field": e.field},
            events.Registered: lambda e: {
                "name": e.name,
                "group": e.group,
                "online": e.online,
                "max": e.max,
            },
            events.Roster: lambda e: {
                "members": [{"name": name, "group": group} for name, group in e.members],
                "online": e.online,
                "max": e.max,
                "asked": e.asked,
                "ops": list(e.ops),
            },
            events.Notice: self._sentence,
            events.Error: lambda e: {**self._sentence(e), "said": e.said},
            events.Bye: lambda e: {**self._sentence(e), "error": e.error},
        }

    def __repr__(self) -> str:
        return f"<WebAudience {self.lang}>"

    @staticmethod
    def _presence(e: events.Joined | events.Left) -> dict[str, Any]:
        return {"time": e.time, "name": e.name, "group": e.group, "online": e.online, "max": e.max}

    @classmethod
    def _left(cls, e: events.Left) -> dict[str, Any]:
        out = cls._presence(e)
        if e.by:  # an operator removed them (banned for C{minutes} if above 0)
            out.update(by=e.by, reason=e.reason, minutes=e.minutes)
        return out

    def _generic(self, event: Event) -> dict[str, Any]:
        """An event this module doesn't know yet: its fields as they are."""
        out = {}
        for name in event.__dataclass_fields__:
            value = getattr(event, name)
            out[name] = self.text(value) if isinstance(value, Text) else value
        return out

    def _sentence(self, e: events.Notice | events.Error | events.Bye) -> dict[str, Any]:
        return {"text": self.text(e.text), "message": e.text.message.id}

    def text(self, text: Text) -> str:
        return self.catalog.text(text)

    def fields(self, event: Event) -> dict[str, Any]:
        """C{event} as the JSON object a browser gets (before encoding)."""
        out = {"type": event.kind, "line": self._line(event)}
        fields = self._fields.get(type(event))
        out.update(fields(event) if fields is not None else self._generic(event))
        return out

    def render(self, event: Event) -> bytes:
        """C{event} as UTF-8 JSON (not yet framed: see L{pack})."""
        return _dumps(self.fields(event)).encode("utf-8")

    @staticmethod
    def pack(pieces: list[bytes]) -> bytes:
        """
        A member's share of a turn as one WebSocket message: the object itself
        when there is one, a JSON array of them when there are several.
        """
        if len(pieces) == 1:
            return frame(pieces[0])
        return frame(b"[" + b",".join(pieces) + b"]")


ENGLISH_WEB = WebAudience()
"""The browsers' audience in English."""

_AUDIENCES: dict[str, WebAudience] = {ENGLISH_WEB.lang: ENGLISH_WEB}


def web_audience(lang: str) -> WebAudience:
    """
    The browsers' audience for C{lang}, the same object every time (one
    language, one audience, one rendering per event).

    @raise KeyError: no such language (see L{chatroom.i18n.LANGUAGES}).
    """
    audience = _AUDIENCES.get(lang)
    if audience is None:
        audience = _AUDIENCES[lang] = WebAudience(i18n.catalog(lang))
    return audience
