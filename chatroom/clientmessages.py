# -*- test-case-name: tests.test_client -*-
"""
What chatroom-client itself says (its status and notice lines), in English.

The same catalog mechanism as the server's messages (L{chatroom.i18n}): the
Polish is in C{chatroom/i18n/pl.po}, and the client shows these in the
language it was started in (C{--lang}, C{LC_ALL}, C{LC_MESSAGES}, C{LANG}).
"""

from __future__ import annotations

from chatroom.events import Message

CONNECTING = Message("connecting to {where}...")
CANNOT_CONNECT = Message("cannot connect to {where}: {reason}")
REFUSED_CONNECTION = Message("connection refused (is the server running, on that port?)")
NO_SUCH_HOST = Message("no such host (check the name)")
TIMED_OUT = Message("timed out")
INTERRUPTED = Message("interrupted.")
SERVER_REFUSED = Message("the server refused the connection.")
SERVER_CLOSED = Message("the server at {where} closed the connection.")
CONNECTION_LOST = Message("connection lost: {reason}")
QUIT_IGNORED = Message("the server did not close the connection; leaving anyway.")
OWN_LINE = Message("{stamp} you: {text}")
LINE_NOT_SENT = Message("a line over {limit} bytes was not sent.", count="limit")
TLS_WRONG_HOST = Message("TLS: the server's certificate is not for this host ({detail})")
TLS_UNTRUSTED = Message(
    "TLS: the server's certificate is not trusted (certificate verify failed); "
    "for a self-signed server give its certificate with --ca FILE"
)
TLS_FAILED = Message("TLS handshake failed: {detail}")
NO_LANGUAGE = Message("the server does not speak {name}; it goes on in its own language.")
