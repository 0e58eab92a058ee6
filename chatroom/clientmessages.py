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
UNKNOWN_OPTION = Message("unknown option {option}")
OPTION_NEEDS_VALUE = Message("option {option} needs a value")
OPTION_TAKES_NO_VALUE = Message("option {option} takes no value")
OPTION_AMBIGUOUS = Message("option {option} is ambiguous: it starts several options")
TOO_MANY_ARGUMENTS = Message("too many arguments: give HOST [PORT] or --connect ENDPOINT.")
UNKNOWN_LANG_OPTION = Message("--lang: {value!r} is not one of {languages}.")
# chatroom-client --help.
SYNOPSIS = Message(
    "Usage: {program} [options] HOST [PORT]\n   or: {program} [options] --connect ENDPOINT"
)
OPTIONS_HEADING = Message("Options:")
HELP_CONNECT = Message(
    "Any Twisted client endpoint instead of HOST [PORT], "
    r"e.g. tcp:host=\:\:1:port=5000 or tls:host=example.org:port=5000."
)
HELP_CA = Message(
    "Use TLS, and trust the server's certificate only if this PEM file holds it "
    "or the CA that signed it (a self-signed server's own cert.pem). With "
    "--connect, the endpoint must be tls:."
)
HELP_LANG = Message(
    "The language to read ({languages}); by default the "
    "locale's (LC_ALL, LC_MESSAGES, LANG), else English."
)
HELP_NAME = Message("Register with this name, without being asked.")
HELP_GROUP = Message("Register with this lab group, without being asked.")
HELP_LOG = Message("Write diagnostics (Twisted's log) to this file.")
HELP_NO_COLOR = Message("No colours (also when NO_COLOR is set).")
HELP_HELP = Message("Display this help and exit.")
HELP_VERSION = Message("Print the version and exit.")
DESCRIPTION = Message("""\
Talk to a chatroom server.  HOST is an IPv6 address (::1, fe80::1%eth0), an IPv4
address or a host name; PORT defaults to {port}.  Without --name and --group
the server asks for them and you answer.  Your own public messages are shown as
"[HH:MM:SS] you: text", with the local time.

In a terminal, messages scroll above an input line that keeps what you are
typing.  Colours are off with --no-color or when NO_COLOR is set.  Keys:
  Enter                    send the line
  Left/Right, Home/End     move (also Ctrl-B/F, Ctrl-A/E)
  Up/Down                  lines sent before (also Ctrl-P/N)
  Backspace, Delete        delete a character; Insert toggles typeover
  Ctrl-U, Ctrl-K, Ctrl-W   cut to the start, to the end, a word back
  Ctrl-L                   redraw the input line
  Ctrl-D                   on an empty line: leave (sends /wyjdz)
  Ctrl-C                   leave at once

With pipes (or TERM=dumb) it reads and writes plain lines: no colours, no escape
sequences; the conversation goes to stdout, the client's own messages to stderr,
and the end of input sends /wyjdz.

Exit status:
  0    you left: /wyjdz, /quit, Ctrl-D, end of input
  1    the connection failed, or the server closed it
  2    wrong options
  3    the server refused you (room full, too many connections from your address)
  130  Ctrl-C (SIGINT);  143  SIGTERM
""")
NO_LANGUAGE = Message("the server does not speak {name}; it goes on in its own language.")
