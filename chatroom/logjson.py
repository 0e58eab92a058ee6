# -*- test-case-name: tests.test_logjson -*-
"""
The server's log as one JSON object a line, for log shippers:
C{twistd -n --logger chatroom.logjson.observer chatroom ...}.

Each line is an object with C{time} (ISO 8601, UTC), C{level},
C{namespace}, C{text} (the line a text log would show) and C{fields} (the
event's own keys, such as C{name}, C{group}, C{peer}), plus C{traceback}
for an error.  The journal's batches (L{chatroom.journal}: several entries in
one event, to keep a busy room's log cheap) come out as one line per entry,
each with its own fields, so that a shipper never has to split a message.

Twisted's C{jsonFileLogObserver} would write its own serialisation instead
(C{log_level} as a class reference, every entry of a batch inside one
record), which is made to be read back by Twisted rather than searched.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from twisted.logger import ILogObserver, formatEvent
from zope.interface import implementer

# Keys of events from twisted.python.log (the legacy API) that say nothing new.
_LEGACY_KEYS = frozenset({"message", "isError", "system", "time", "format", "failure"})


@implementer(ILogObserver)
class JSONLinesObserver:
    """Writes each event as JSON lines to C{stream}, flushed once per event."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        text = "".join(
            json.dumps(record, ensure_ascii=False, default=repr) + "\n" for record in records(event)
        )
        self._stream.write(text)
        self._stream.flush()


def records(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The JSON-ready records for one log event: one per journal entry."""
    common = {
        "time": _iso(event.get("log_time")),
        "level": getattr(event.get("log_level"), "name", "info"),
        "namespace": event.get("log_namespace", "-"),
    }
    entries = event.get("entries")
    if entries:
        for format, fields in entries:
            yield {**common, "text": format.format_map(fields), "fields": dict(fields)}
        return
    record = {**common, "text": formatEvent(event), "fields": _fields(event)}
    failure = event.get("log_failure")
    if failure is not None:
        record["traceback"] = failure.getTraceback()
    yield record


def _fields(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in event.items()
        if not key.startswith("log_") and key not in _LEGACY_KEYS
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def observer() -> JSONLinesObserver:
    """
    For twistd's C{--logger chatroom.logjson.observer}: JSON lines on stdout
    (with C{-n}: under systemd, stdout is the journal).  Called before twistd
    redirects C{sys.stdout} into the log, so it holds the real one.
    """
    return JSONLinesObserver(sys.stdout)
