# -*- test-case-name: tests.test_client -*-
"""
The client's side of a session with a chatroom server, whatever the console.

L{ChatClient} sits between the user's console and the server's connection:
it answers the name and group prompts for --name/--group, holds the user's
lines until the server can take them, shows the user's own public messages
(the server doesn't echo them), and decides how the program ends: each way
out has its own exit status.  It knows nothing of terminals or stdio; a
console only needs C{show(text, style)} and C{ask(prompt)}.
"""

from __future__ import annotations

import re
import signal
from functools import partial

from twisted.internet import defer, error
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import commands, messages
from chatroom.catalog import ENGLISH, Clock
from chatroom.telnet import TelnetFilter
from chatroom.text import clean

# Exit statuses (documented in chatroom-client --help and docs/client.md).
EXIT_OK = 0
EXIT_CONNECTION = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


QUIT_TIMEOUT = 5.0
"""Seconds to wait for the server to close after /wyjdz before leaving anyway."""
CLOSE_TIMEOUT = 2.0
"""Seconds a closing connection or stdout gets to flush before it is cut."""

_NAME_PROMPT = ENGLISH.format(messages.NAME_PROMPT)
_GROUP_PROMPT = ENGLISH.format(messages.GROUP_PROMPT)
_REGISTERED = re.compile(r"Hello (\S+) \(.*\), you are in: ")

log = Logger()


def describe_failure(failure: Failure) -> str:
    """A connection failure in words a user can act on."""
    if failure.check(error.ConnectionRefusedError):
        return "connection refused (is the server running, on that port?)"
    if failure.check(error.DNSLookupError):
        return "no such host (check the name)"
    if failure.check(error.TimeoutError, defer.TimeoutError):
        return "timed out"
    return _describe_tls(failure) or failure.getErrorMessage()


def _describe_tls(failure: Failure) -> str | None:
    """A failed TLS handshake, said plainly instead of as OpenSSL's error stack."""
    module = getattr(failure.type, "__module__", "")
    if module.startswith("service_identity"):
        return f"TLS: the server's certificate is not for this host ({failure.value})"
    if not module.startswith("OpenSSL"):
        return None
    text = str(failure.value)
    if "certificate verify failed" in text:
        return (
            "TLS: the server's certificate is not trusted (certificate verify failed); "
            "for a self-signed server give its certificate with --ca FILE"
        )
    return f"TLS handshake failed: {text}"


def is_quit(line: str) -> bool:
    """True for a line the server takes as /wyjdz (or an alias), judged as the server does."""
    if line[:1] != "/":
        return False
    command = commands.lookup(line[1:].partition(" ")[0])
    return command is not None and command.name == "wyjdz"


class ServerConnection(Protocol):
    """The server's side: telnet commands stripped, CRLF lines in, LF lines out."""

    MAX_LENGTH = 1 << 20

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self._telnet = TelnetFilter()  # no answer callable: strip, never negotiate
        self._buffer = b""

    def connectionMade(self) -> None:
        self.client.connection_made(self)

    def dataReceived(self, data: bytes) -> None:
        *lines, self._buffer = (self._buffer + self._telnet.feed(data)).split(b"\n")
        if len(self._buffer) > self.MAX_LENGTH:
            lines.append(self._buffer)  # show a runaway line rather than hoard it
            self._buffer = b""
        for line in lines:
            self._deliver(line)

    def _deliver(self, line: bytes) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        self.client.server_line(line.decode("utf-8", "replace"))

    def connectionLost(self, reason: Failure) -> None:
        if self._buffer:
            self._deliver(self._buffer)
            self._buffer = b""
        self.client.connection_lost(reason)

    def send(self, line: str) -> None:
        self.transport.write(line.encode("utf-8") + b"\n")


class ChatClient:
    """
    Between the console and the server: answers the name and group prompts
    (with --name/--group), holds the user's lines until the server can take
    them, shows the user's public messages (the server doesn't echo them), and
    decides the exit status, which L{done} fires with.

    @ivar console: where lines are shown (a L{chatroom.client.PlainConsole} or
        a L{chatroom.terminal.LineEditor}): C{show(text, style)}, C{ask(prompt)}.
    """

    def __init__(
        self, reactor, name: str | None = None, group: str | None = None, where: str = "server"
    ) -> None:
        self.reactor = reactor
        self.console = None
        self.where = where
        self.done: defer.Deferred[int] = defer.Deferred()
        self._name = name
        self._group = group
        self._connection: ServerConnection | None = None
        self._connecting: defer.Deferred | None = None
        # Lines typed before the server can take them: until connected, and
        # while registering automatically (a line sent then would be taken
        # as the name).  None once lines go straight out.
        self._held: list[str] | None = []
        self.joined = False
        self._refused = False
        self._quitting = False
        self._interrupted = 0
        self._timer = None
        self._clock = Clock()

    # The connection

    def connect(self, endpoint: IStreamClientEndpoint) -> defer.Deferred[int]:
        """Connect, and return L{done}."""
        self.console.show(f"connecting to {self.where}...", "status")
        self._connecting = endpoint.connect(Factory.forProtocol(partial(ServerConnection, self)))
        self._connecting.addErrback(self._connect_failed)
        return self.done

    def _connect_failed(self, reason: Failure) -> None:
        if self._interrupted:
            self._finish(self._interrupted, "interrupted.")
        else:
            self._finish(
                EXIT_CONNECTION, f"cannot connect to {self.where}: {describe_failure(reason)}"
            )

    def connection_made(self, connection: ServerConnection) -> None:
        log.info("connected to {where}", where=self.where)
        self._connection = connection
        if self._interrupted:
            connection.transport.loseConnection()
        elif self._name is None and self._group is None:
            self._release()

    def server_line(self, line: str) -> None:
        if self.done.called:
            return
        line = clean(line)  # whatever the server, nothing it sends acts on the terminal
        if not self.joined:
            if line == _NAME_PROMPT:
                self._answer(line, self._name)
                self._name = None
                return
            if line == _GROUP_PROMPT:
                self._answer(line, self._group)
                self._group = None
                return
            if _REGISTERED.match(line):
                self.joined = True
                self.console.show(line)
                self._release()
                return
            if line.startswith("Sorry, "):
                self._refused = True  # room full or too many from here; the server closes
        self.console.show(line)

    def _answer(self, prompt: str, answer: str | None) -> None:
        if answer is not None:
            self._connection.send(answer)
        else:
            self.console.ask(prompt)  # over to the user, who may type at once
            self._release()

    def connection_lost(self, reason: Failure) -> None:
        log.info("connection closed: {reason}", reason=reason.getErrorMessage())
        self._connection = None
        if self._interrupted:
            self._finish(self._interrupted, "interrupted.")
        elif self._quitting:
            self._finish(EXIT_OK)
        elif self._refused:
            self._finish(EXIT_REFUSED, "the server refused the connection.")
        elif reason.check(error.ConnectionDone):
            self._finish(EXIT_CONNECTION, f"the server at {self.where} closed the connection.")
        else:
            self._finish(EXIT_CONNECTION, f"connection lost: {describe_failure(reason)}")

    def _set_timer(self, delay: float | None, action=None) -> None:
        """Run C{action} after C{delay} seconds, instead of any earlier timer (None: no timer)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None if delay is None else self.reactor.callLater(delay, action)

    def _finish(self, status: int, message: str | None = None) -> None:
        if self.done.called:
            return
        self._set_timer(None)
        if message:
            self.console.show(message, "notice")
        log.info("exit status {status}", status=status)
        self.done.callback(status)

    # The user

    def user_line(self, text: str) -> None:
        """A line the user typed: held, or sent (and shown, if it is a public message)."""
        if self._quitting or self._interrupted or self.done.called:
            return
        if self._held is not None:
            self._held.append(text)
        else:
            self._send(text)

    def _release(self) -> None:
        held, self._held = self._held, None
        for text in held or ():
            self.user_line(text)

    def _send(self, text: str) -> None:
        self._connection.send(text)
        if is_quit(text):
            self._quitting = True
            self._set_timer(QUIT_TIMEOUT, self._quit_timed_out)
        elif self.joined and text.strip():
            if text[:2] == "//":
                text = text[1:]
            elif text[:1] == "/":
                return  # a command: the server's answer is what to show
            stamp = self._clock.stamp(self.reactor.seconds())
            self.console.show(f"{stamp} you: {clean(text)}", "own")

    def _quit_timed_out(self) -> None:
        self.console.show("the server did not close the connection; leaving anyway.", "notice")
        self._connection.transport.abortConnection()

    def user_eof(self) -> None:
        """Ctrl-D or the end of stdin: leave as /wyjdz does (after any lines still held)."""
        self.user_line("/wyjdz")

    def user_interrupt(self, signum: int = signal.SIGINT) -> None:
        """Ctrl-C (or SIGTERM): close the connection and leave now."""
        if self._interrupted or self.done.called:
            return
        self._interrupted = 128 + signum
        if self._connection is not None:
            transport = self._connection.transport
            transport.loseConnection()
            self._set_timer(CLOSE_TIMEOUT, transport.abortConnection)
        elif self._connecting is not None:
            self._connecting.cancel()
        else:
            self._finish(self._interrupted, "interrupted.")
