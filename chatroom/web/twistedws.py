# -*- test-case-name: tests.test_twistedws -*-
"""
The pieces of Twisted's WebSocket implementation the browser door builds on,
checked once, when C{--web} is asked for.

Twisted's public WebSocket API hands a protocol a fragmented message in
pieces with no end marker (up to 26.4) or buffers it whole without a limit
(26.10), so the door drives Twisted's wire protocol itself (L{door._Wire})
and upgrades the HTTP channel the way Twisted's own resource does.  Those are
private names: a Twisted release may change them.  setup.cfg admits only the
releases CI has run; within them, this check turns a change into one clear
start-up error for C{--web} instead of a broken door, and the line door is
not affected either way.
"""

from __future__ import annotations

import inspect

try:
    from twisted.web._websocket_impl import (
        _handleEvent,
        _WebSocketWireProtocol,
        serverBootstrap,
    )
except ImportError as e:  # pragma: no cover - only on an unknown Twisted
    _handleEvent = _WebSocketWireProtocol = serverBootstrap = None
    _IMPORT_ERROR: str | None = str(e)
else:
    _IMPORT_ERROR = None

from twisted.web.http import HTTPChannel

__all__ = ["_WebSocketWireProtocol", "_handleEvent", "problem", "serverBootstrap"]


def problem() -> str | None:
    """What is not as the browser door expects in this Twisted, or L{None}."""
    import twisted

    version = getattr(twisted, "__version__", "?")
    prefix = f"Twisted {version}'s WebSocket internals differ from what --web was built on"
    if _IMPORT_ERROR is not None:
        return f"{prefix}: {_IMPORT_ERROR}"
    if not callable(_handleEvent):
        return f"{prefix}: _handleEvent is not a function"
    try:
        parameters = inspect.signature(_WebSocketWireProtocol.__init__).parameters.values()
    except (TypeError, ValueError):
        parameters = []
    # self, then the wsproto connection, the bootstrap and the protocol; the rest optional.
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
    if len(required) != 4:
        return f"{prefix}: _WebSocketWireProtocol requires {required[1:]!r}"
    if not callable(getattr(HTTPChannel, "_protocolUpgradeForWebsockets", None)):
        return f"{prefix}: HTTPChannel has no _protocolUpgradeForWebsockets"
    wire = _WebSocketWireProtocol(_Sentinel.connection, serverBootstrap, _Sentinel.protocol)
    if getattr(wire, "_wsconn", None) is not _Sentinel.connection:
        return f"{prefix}: the wire protocol keeps its connection elsewhere"
    if getattr(wire, "_wsp", None) is not _Sentinel.protocol:
        return f"{prefix}: the wire protocol keeps its protocol elsewhere"
    return None


class _Sentinel:
    """Stand-ins that the check looks for where the door reads them back."""

    connection = object()
    protocol = object()
