# -*- test-case-name: tests.test_journal -*-
"""
The server's log of what happens in the room, at most one log event per turn.

twistd's text observer spends about 20 microseconds on each event: it formats
the time and the text through C{string.Formatter} and makes a system call to
write it.  A busy room logs every public message, every connection and every
leave, and at one event each that was three quarters of the server's CPU
(docs/performance.md).  So the journal collects entries for a moment
(L{DELAY}) and emits them as one
event: the first entry on the event's line, the others on continuation lines,
in order.  Observers that keep structure (JSON) get every entry, as a
C{(format, fields)} pair, under C{entries}.  A lone entry (a quiet room) is an
ordinary event.  The server flushes the journal when it stops.

Formats are ours, never user text; user text only ever travels in fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from twisted.logger import Logger

# How long entries wait to be written together: cheap however busy the room,
# late by nothing a reader of the log would notice.
DELAY = 0.1


# Module level: as a class attribute, Logger's descriptor would rename it
# after the class, and the log would say "chatroom.journal.Journal".
_log = Logger(namespace="chatroom")


class Journal:
    """
    @param schedule: runs a function a little later (C{lambda f:
        reactor.callLater(0.1, f)}) and returns something with C{active()} and
        C{cancel()}; L{None} emits each entry at once, as its own event.
    """

    def __init__(self, schedule: Callable[[Callable[[], None]], object] | None = None) -> None:
        self._schedule = schedule
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._call: Any = None

    def info(self, format: str, **fields: Any) -> None:
        """Log C{format} with C{fields}, as C{Logger.info} would, but batched."""
        if self._schedule is None:
            _log.info(format, **fields)
            return
        if not self._pending:
            self._call = self._schedule(self.flush)
        self._pending.append((format, fields))

    def flush(self) -> None:
        """Emit what is pending now (the scheduled call, or the server stopping)."""
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()
        pending, self._pending = self._pending, []
        if len(pending) == 1:
            ((format, fields),) = pending
            _log.info(format, **fields)
        elif pending:
            _log.info(
                "{lines}",
                lines="\n".join([format.format_map(fields) for format, fields in pending]),
                entries=pending,
            )


def entries(events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """
    Every journal entry in C{events}, batched or not, as an event-like dict
    (C{log_format} and the fields): for tests and log tools.
    """
    for event in events:
        if "entries" in event:
            for format, fields in event["entries"]:
                yield {"log_format": format, **fields}
        else:
            yield event
