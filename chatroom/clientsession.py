# -*- test-case-name: tests.test_client -*-
"""
The client's side of a session with a chatroom server, whatever the console.

L{ChatClient} sits between the user's console and the server's connection:
it answers the name and group prompts for --name/--group, holds the user's
lines until the server can take them, shows the user's own public messages
(the server doesn't echo them), and decides how the program ends: each way
out has its own exit status.  It knows nothing of terminals or stdio; a
console only needs C{show(text, style)} and C{ask(prompt)}.

It speaks the user's language (C{lang}): at the server's first name prompt,
if that prompt is in another language, it asks for its own with C{/lang}
and answers the prompt that comes back; the lines that come before it can
ask (the welcome, a refusal) it says again in the user's language.  It
recognises the server's lines by the templates of every catalog
(L{chatroom.i18n.recognise}), never by their English words, so it works
with a server in any of its languages, and with an old server that has no
C{/lang} (it says so, and goes on in English).
"""

from __future__ import annotations

import signal
from functools import partial

from twisted.internet import defer, error
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import clientmessages as says
from chatroom import commands, i18n, messages
from chatroom.catalog import ENGLISH, Catalog, Clock
from chatroom.i18n.recognise import Recogniser, Reworder, forms, prefixes
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

# The server's lines the client acts on, in every language of the catalogs:
# a prompt's text to (field, language).
_PROMPTS = {
    **{text: ("name", lang) for text, lang in forms(messages.NAME_PROMPT).items()},
    **{text: ("group", lang) for text, lang in forms(messages.GROUP_PROMPT).items()},
}
_REGISTERED = Recogniser(messages.REGISTERED, name=r"\S+")
_LANGUAGE_SET = Recogniser(messages.LANGUAGE_SET)
_REFUSALS = prefixes(messages.ROOM_FULL, messages.TOO_MANY_FROM_ADDRESS, messages.BANNED_REFUSAL)
_ERRORS = prefixes(messages.ERROR)
# What the server says before the client can ask for the user's language:
# said again in the user's (the fields are numbers, the rest is the catalog's).
_BEFORE_ASKING = Reworder(
    messages.WELCOME, messages.ROOM_FULL, messages.TOO_MANY_FROM_ADDRESS, messages.BANNED_REFUSAL
)
# Where asking for the user's language stands.
_SENT, _GRANTED, _REFUSED, _SETTLED = "sent", "granted", "refused", "settled"

log = Logger()


def describe_failure(failure: Failure, catalog: Catalog = ENGLISH) -> str:
    """A connection failure in words a user can act on, in C{catalog}'s language."""
    if failure.check(error.ConnectionRefusedError):
        return catalog.format(says.REFUSED_CONNECTION)
    if failure.check(error.DNSLookupError):
        return catalog.format(says.NO_SUCH_HOST)
    if failure.check(error.TimeoutError, defer.TimeoutError):
        return catalog.format(says.TIMED_OUT)
    return _describe_tls(failure, catalog) or failure.getErrorMessage()


def _describe_tls(failure: Failure, catalog: Catalog) -> str | None:
    """A failed TLS handshake, said plainly instead of as OpenSSL's error stack."""
    module = getattr(failure.type, "__module__", "")
    if module.startswith("service_identity"):
        return catalog.format(says.TLS_WRONG_HOST, detail=failure.value)
    if not module.startswith("OpenSSL"):
        return None
    text = str(failure.value)
    if "certificate verify failed" in text:
        return catalog.format(says.TLS_UNTRUSTED)
    return catalog.format(says.TLS_FAILED, detail=text)


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
    @ivar lang: the language the user reads (a code of L{chatroom.i18n.LANGUAGES}).
    """

    def __init__(
        self,
        reactor,
        name: str | None = None,
        group: str | None = None,
        where: str = "server",
        lang: str = i18n.DEFAULT,
    ) -> None:
        self.reactor = reactor
        self.lang = lang
        self.catalog = i18n.catalog(lang)
        # Asking the server for our language: None until its first prompt.
        self._asking: str | None = None
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
        self._say(says.CONNECTING, "status", where=self.where)
        self._connecting = endpoint.connect(Factory.forProtocol(partial(ServerConnection, self)))
        self._connecting.addErrback(self._connect_failed)
        return self.done

    def _connect_failed(self, reason: Failure) -> None:
        if self._interrupted:
            self._finish(self._interrupted, says.INTERRUPTED)
        else:
            why = describe_failure(reason, self.catalog)
            self._finish(EXIT_CONNECTION, says.CANNOT_CONNECT, where=self.where, reason=why)

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
            if self._asking == _SENT:
                # Until the answer to our /lang, nothing is for the user.
                if _LANGUAGE_SET.match(line):
                    self._asking = _GRANTED
                elif line.startswith(_ERRORS):
                    self._asking = _REFUSED  # an old server, or one without our language
                return
            prompt = _PROMPTS.get(line)
            if prompt is not None:
                field, lang = prompt
                if self._asking is None and lang != self.lang:
                    self._asking = _SENT
                    self._connection.send(f"/lang {self.lang}")  # the prompt will come again
                    return
                if self._asking == _REFUSED:
                    self._say(says.NO_LANGUAGE, name=i18n.LANGUAGES[self.lang])
                self._asking = _SETTLED
                if field == "name":
                    self._answer(line, self._name)
                    self._name = None
                else:
                    self._answer(line, self._group)
                    self._group = None
                return
            if _REGISTERED.match(line):
                self.joined = True
                self.console.show(line)
                self._release()
                return
            if line.startswith(_REFUSALS):
                self._refused = True  # full, too many from here, banned; the server closes
            line = _BEFORE_ASKING.reword(line, self.catalog) or line
        self.console.show(line)

    def _say(self, message: messages.Message, style: str = "notice", **fields) -> None:
        """One of the client's own lines, in the user's language."""
        self.console.show(self.catalog.format(message, **fields), style)

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
            self._finish(self._interrupted, says.INTERRUPTED)
        elif self._quitting:
            self._finish(EXIT_OK)
        elif self._refused:
            self._finish(EXIT_REFUSED, says.SERVER_REFUSED)
        elif reason.check(error.ConnectionDone):
            self._finish(EXIT_CONNECTION, says.SERVER_CLOSED, where=self.where)
        else:
            why = describe_failure(reason, self.catalog)
            self._finish(EXIT_CONNECTION, says.CONNECTION_LOST, reason=why)

    def _set_timer(self, delay: float | None, action=None) -> None:
        """Run C{action} after C{delay} seconds, instead of any earlier timer (None: no timer)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None if delay is None else self.reactor.callLater(delay, action)

    def _finish(self, status: int, message: messages.Message | None = None, **fields) -> None:
        if self.done.called:
            return
        self._set_timer(None)
        if message is not None:
            self._say(message, **fields)
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
            self._say(says.OWN_LINE, "own", stamp=stamp, text=clean(text))

    def _quit_timed_out(self) -> None:
        self._say(says.QUIT_IGNORED)
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
            self._finish(self._interrupted, says.INTERRUPTED)
