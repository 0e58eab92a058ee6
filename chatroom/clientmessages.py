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
# Wrong options (on stderr, before connecting).
BOTH_TARGETS = Message("give either HOST [PORT] or --connect, not both.")
NO_TARGET = Message("which server?  Give HOST [PORT] or --connect ENDPOINT.")
PORT_NOT_A_NUMBER = Message("the port must be a number, not {port!r}.")
PORT_OUT_OF_RANGE = Message("the port must be 1-65535, not {port}.")
CA_UNREADABLE = Message("--ca: cannot read {path}: {reason}")
CA_NOT_PEM = Message("--ca: {path} holds no PEM certificate.")
BAD_ENDPOINT = Message("bad endpoint {endpoint!r}: {reason}")
LOG_UNWRITABLE = Message("cannot write the log: {reason}")
TRY_HELP = Message("Try '{program} --help'.")
NO_LANGUAGE = Message("the server does not speak {name}; it goes on in its own language.")
