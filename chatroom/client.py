# -*- test-case-name: tests.test_client -*-
"""
chatroom-client: talk to a chatroom server from a terminal, or from a script.

In a terminal the conversation scrolls above an input line that incoming
messages never break (L{chatroom.terminal}); with pipes it reads lines and
writes lines, nothing else, so scripts and tests can drive it.  Either way
L{chatroom.clientsession.ChatClient} decides what is sent, what is shown, and
how the program ends: each way out has its own exit status (see
L{chatroom.clientmessages.DESCRIPTION}).
"""

from __future__ import annotations

import getopt
import os
import signal
import sys
from typing import NoReturn

from twisted.internet import defer, endpoints, ssl, stdio, task
from twisted.internet.interfaces import IHalfCloseableProtocol, IStreamClientEndpoint
from twisted.logger import globalLogBeginner, textFileLogObserver
from twisted.protocols.basic import LineReceiver
from twisted.python import usage
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import __version__, i18n
from chatroom import clientmessages as says
from chatroom.catalog import ENGLISH, Catalog
from chatroom.clientsession import CLOSE_TIMEOUT, EXIT_USAGE, ChatClient
from chatroom.terminal import start_terminal, terminal_size, terminal_state

PROGRAM = "chatroom-client"
DEFAULT_PORT = 5000
CONNECT_TIMEOUT = 10.0


# The options' help, in the catalog: the table below holds the names only.
_HELP = {
    "connect": says.HELP_CONNECT,
    "ca": says.HELP_CA,
    "lang": says.HELP_LANG,
    "name": says.HELP_NAME,
    "group": says.HELP_GROUP,
    "log": says.HELP_LOG,
    "no-color": says.HELP_NO_COLOR,
    "help": says.HELP_HELP,
    "version": says.HELP_VERSION,
}
# getopt's errors (English, from the standard library), by how they end.
_GETOPT_ERRORS = (
    ("not recognized", says.UNKNOWN_OPTION),
    ("requires argument", says.OPTION_NEEDS_VALUE),
    ("must not have an argument", says.OPTION_TAKES_NO_VALUE),
    ("not a unique prefix", says.OPTION_AMBIGUOUS),
)


class Options(usage.Options):
    """
    The command line, said in the user's language: C{--lang} if given
    (wherever it stands), else the locale's, chosen before anything is
    parsed, so that C{--help} and a wrong option already speak it.
    """

    # usage.Options runs a longdesc's paragraphs together; getUsage adds DESCRIPTION.
    longdesc = ""

    optParameters = [
        ["connect", "c", None, None],
        ["ca", None, None, None],
        ["lang", None, None, None],
        ["name", "n", None, None],
        ["group", "g", None, None],
        ["log", None, None, None],
    ]
    optFlags = [["no-color", None, None]]

    def __init__(self) -> None:
        super().__init__()
        self._speak(locale_language())

    def _speak(self, lang: str) -> None:
        """Say the help and the errors in C{lang}."""
        self.catalog = catalog = i18n.catalog(lang)
        languages = ", ".join(i18n.LANGUAGES)
        for option, message in _HELP.items():
            self.docs[option] = catalog.format(message, languages=languages)
        self.synopsis = catalog.format(says.SYNOPSIS, program=PROGRAM)

    def getUsage(self, width: int | None = None) -> str:
        table = super().getUsage(width).removeprefix("Options:")
        heading = self.catalog.format(says.OPTIONS_HEADING)
        return heading + table + "\n" + self.catalog.format(says.DESCRIPTION, port=DEFAULT_PORT)

    def opt_version(self) -> NoReturn:
        print(f"{PROGRAM} {__version__}")
        sys.exit(0)

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Options may come after HOST and PORT (C{chatroom-client ::1 --name ala}):
        usage.Options stops at the first argument, as POSIX getopt does, so
        put the options first (GNU order) and let it parse that.
        """
        options = sys.argv[1:] if options is None else list(options)
        asked = _lang_option(options)
        if asked is not None and i18n.language(asked) is not None:
            self._speak(i18n.language(asked))
        try:
            found, arguments = getopt.gnu_getopt(options, self.shortOpt, self.longOpt)
        except getopt.GetoptError as e:
            option = f"--{e.opt}" if len(e.opt) > 1 else f"-{e.opt}"
            for ending, message in _GETOPT_ERRORS:
                if e.msg.endswith(ending):
                    raise usage.UsageError(self.catalog.format(message, option=option)) from None
            raise usage.UsageError(e.msg) from None
        ordered = []
        for option, value in found:
            if option.startswith("--"):
                ordered.append(f"{option}={value}" if option[2:] + "=" in self.longOpt else option)
            else:
                ordered.extend([option, value] if option[1] + ":" in self.shortOpt else [option])
        super().parseOptions([*ordered, "--", *arguments])

    def parseArgs(self, host: str | None = None, port: str | None = None, *extra: str) -> None:
        if extra:
            raise usage.UsageError(self.catalog.format(says.TOO_MANY_ARGUMENTS))
        self["host"] = host
        self["port"] = port

    def postOptions(self) -> None:
        if self["lang"] is None:
            self["lang"] = locale_language()
        elif i18n.language(self["lang"]) is None:
            languages = ", ".join(i18n.LANGUAGES)
            raise usage.UsageError(
                self.catalog.format(
                    says.UNKNOWN_LANG_OPTION, value=self["lang"], languages=languages
                )
            )
        else:
            self["lang"] = i18n.language(self["lang"])
        catalog = i18n.catalog(self["lang"])
        self["trust"] = _load_ca(self["ca"], catalog) if self["ca"] else None
        host, port = self["host"], self["port"]
        if self["connect"]:
            if host is not None:
                raise usage.UsageError(catalog.format(says.BOTH_TARGETS))
            return
        if host is None:
            raise usage.UsageError(catalog.format(says.NO_TARGET))
        if host.startswith("[") and host.endswith("]"):
            self["host"] = host[1:-1]  # [::1], as in URLs
        if port is None:
            self["port"] = DEFAULT_PORT
            return
        try:
            self["port"] = int(port)
        except ValueError:
            raise usage.UsageError(catalog.format(says.PORT_NOT_A_NUMBER, port=port)) from None
        if not 0 < self["port"] < 65536:
            raise usage.UsageError(catalog.format(says.PORT_OUT_OF_RANGE, port=port))


def _load_ca(path: str, catalog: Catalog = ENGLISH) -> ssl.Certificate:
    try:
        with open(path, "rb") as file:
            return ssl.Certificate.loadPEM(file.read())
    except OSError as e:
        message = catalog.format(says.CA_UNREADABLE, path=path, reason=e.strerror)
        raise usage.UsageError(message) from None
    except Exception:  # OpenSSL's error for whatever is not a PEM certificate
        raise usage.UsageError(catalog.format(says.CA_NOT_PEM, path=path)) from None


def _lang_option(options: list[str]) -> str | None:
    """The value of the last C{--lang} in C{options} (before any C{--}), if any."""
    found = None
    for index, option in enumerate(options):
        if option == "--":
            break
        if option.startswith("--lang="):
            found = option.partition("=")[2]
        elif option == "--lang" and index + 1 < len(options):
            found = options[index + 1]
    return found


def locale_language(environ=os.environ) -> str:
    """
    The language the locale asks for, as POSIX ranks the variables: the first
    of LC_ALL, LC_MESSAGES, LANG that is set decides; English when it names
    a language we have no catalog for (or C, POSIX).
    """
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:
            return i18n.language(value) or i18n.DEFAULT
    return i18n.DEFAULT


def make_endpoint(reactor, options: Options) -> tuple[IStreamClientEndpoint, str]:
    """
    The endpoint to connect to, and how to name it in messages.

    HOST [PORT] uses C{HostnameEndpoint}: it takes IPv6 literals (with a
    C{%scope}), IPv4 and names, and tries every address a name has.  With
    --ca, TLS goes over it, trusting that certificate alone.

    @raise ValueError: the --connect string is not a valid endpoint.
    """
    trust = options["trust"]
    if options["connect"]:
        description = options["connect"]
        if trust is not None:
            return _tls_endpoint(reactor, description, trust), description
        return endpoints.clientFromString(reactor, description), description
    host, port = options["host"], options["port"]
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    endpoint = endpoints.HostnameEndpoint(reactor, host, port, timeout=CONNECT_TIMEOUT)
    if trust is not None:
        endpoint = endpoints.wrapClientTLS(ssl.optionsForClientTLS(host, trust), endpoint)
    return endpoint, where


def _tls_endpoint(reactor, description: str, trust: ssl.Certificate) -> IStreamClientEndpoint:
    """
    C{tls:host=H:port=P} (or C{tls:H:P}), as Twisted builds it but trusting
    C{trust} instead of the system's roots: Twisted's own C{trustRoots=} only
    takes a directory.  C{endpoint=} (TLS over another endpoint) and
    C{timeout=} are kept.
    """
    kind, *fields = split_endpoint(description)
    if kind != (None, "tls"):
        raise ValueError("--ca goes with a tls: endpoint (or HOST [PORT])")
    named = {key: value for key, value in fields if key is not None}
    positional = [value for key, value in fields if key is None]
    for key, value in zip(("host", "port"), positional, strict=False):
        named.setdefault(key, value)
    unknown = set(named) - {"host", "port", "timeout", "endpoint"}
    if unknown or len(positional) > 2:
        raise ValueError("with --ca, a tls: endpoint takes host, port, timeout, endpoint only")
    if "host" not in named:
        raise ValueError("tls: needs host=")
    host = named["host"]
    if "endpoint" in named:
        inner = endpoints.clientFromString(reactor, named["endpoint"])
    elif "port" not in named:
        raise ValueError("tls: needs port=")
    else:
        timeout = float(named.get("timeout", CONNECT_TIMEOUT))
        inner = endpoints.HostnameEndpoint(reactor, host, int(named["port"]), timeout=timeout)
    return endpoints.wrapClientTLS(ssl.optionsForClientTLS(host, trust), inner)


def split_endpoint(description: str) -> list[tuple[str | None, str]]:
    """
    An endpoint string's fields as (name or None, value), escapes resolved:
    C{tls:host=\\:\\:1:port=5001} gives C{[(None, "tls"), ("host", "::1"), ("port", "5001")]}.
    """
    fields: list[tuple[str | None, str]] = []
    key: str | None = None
    current: list[str] = []
    characters = iter(description)
    for ch in characters:
        if ch == "\\":
            current.append(next(characters, ""))
        elif ch == ":":
            fields.append((key, "".join(current)))
            key, current = None, []
        elif ch == "=" and key is None:
            key, current = "".join(current), []
        else:
            current.append(ch)
    fields.append((key, "".join(current)))
    return fields


@implementer(IHalfCloseableProtocol)
class PlainConsole(LineReceiver):
    """
    Lines in, lines out, for pipes and scripts: never an escape sequence.
    The conversation goes to stdout, the client's own notices to stderr.
    """

    delimiter = b"\n"
    MAX_LENGTH = 1 << 20

    def __init__(self, user, stderr=None) -> None:
        self.user = user
        self.stderr = stderr or sys.stderr
        self.closed: defer.Deferred[None] = defer.Deferred()
        self._write_lost = False

    def lineReceived(self, line: bytes) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        self.user.user_line(line.decode("utf-8", "replace"))

    def lineLengthExceeded(self, line: bytes) -> None:
        catalog = i18n.catalog(getattr(self.user, "lang", i18n.DEFAULT))
        self.show(catalog.format(says.LINE_NOT_SENT, limit=self.MAX_LENGTH), "notice")

    def readConnectionLost(self) -> None:
        if self._buffer:  # a last line without a newline
            self.lineReceived(self._buffer)
            self._buffer = b""
        self.user.user_eof()

    def writeConnectionLost(self) -> None:
        self._write_lost = True  # nobody reads what we print: leave
        self.user.user_eof()

    def connectionLost(self, reason: Failure) -> None:
        if not self.closed.called:
            self.closed.callback(None)

    def show(self, text: str, style: str = "server") -> None:
        if style == "notice":
            self.stderr.write(f"{PROGRAM}: {text}\n")
            self.stderr.flush()
        elif style != "status":
            self.transport.write(text.encode("utf-8") + b"\n")

    def ask(self, prompt: str) -> None:
        self.show(prompt)

    def close(self) -> defer.Deferred[None]:
        """Flush stdout and stop reading stdin; fires when done."""
        if self._write_lost or self.closed.called:
            return defer.succeed(None)
        self.transport.loseConnection()
        return self.closed


def wants_terminal(environ=os.environ) -> bool:
    """The line editor needs a terminal both ways, and one that understands escape codes."""
    return os.isatty(0) and os.isatty(1) and environ.get("TERM", "") != "dumb"


def wants_colour(options: Options, environ=os.environ) -> bool:
    """Colours unless --no-color, or NO_COLOR set to anything (https://no-color.org)."""
    return not options["no-color"] and not environ.get("NO_COLOR")


async def run(
    reactor, options: Options, endpoint: IStreamClientEndpoint, where: str, interactive: bool
) -> NoReturn:
    """The program, once the options are known: connect, converse, exit with a status."""
    client = ChatClient(reactor, options["name"], options["group"], where, options["lang"])
    if interactive:
        editor = start_terminal(client, wants_colour(options), reactor)
        client.console = editor
        on_resize = lambda: editor.terminalSize(*terminal_size())  # noqa: E731
    else:
        client.console = PlainConsole(client)
        stdio.StandardIO(client.console, reactor=reactor)
        on_resize = None
    reactor.callWhenRunning(_handle_signals, reactor, client, on_resize)
    status = await client.connect(endpoint)
    closing = client.console.close()
    closing.addTimeout(CLOSE_TIMEOUT, reactor)
    try:
        await closing
    except defer.TimeoutError:
        pass  # stdout is stuck (a full pipe nobody reads): leave anyway
    raise SystemExit(status)


def _handle_signals(reactor, client: ChatClient, on_resize=None) -> None:
    """
    Replace the reactor's SIGINT/SIGTERM handlers (which just stop it) with a
    clean exit of our own; in a terminal, follow its size.  Called once the
    reactor runs, after it has installed its own.
    """

    def interrupt(signum, frame):
        reactor.callFromThread(client.user_interrupt, signum)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    if on_resize is not None:
        signal.signal(signal.SIGWINCH, lambda signum, frame: reactor.callFromThread(on_resize))


def main(argv: list[str] | None = None) -> NoReturn:
    """The chatroom-client command."""
    options = Options()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
    except usage.UsageError as e:
        hint = options.catalog.format(says.TRY_HELP, program=PROGRAM)
        sys.stderr.write(f"{PROGRAM}: {e}\n{hint}\n")
        sys.exit(EXIT_USAGE)
    catalog = i18n.catalog(options["lang"])
    from twisted.internet import reactor

    try:
        endpoint, where = make_endpoint(reactor, options)
    except Exception as e:  # clientFromString raises whatever its parser does
        text = catalog.format(says.BAD_ENDPOINT, endpoint=options["connect"], reason=e)
        sys.stderr.write(f"{PROGRAM}: {text}\n")
        sys.exit(EXIT_USAGE)
    if options["log"]:
        try:
            logfile = open(options["log"], "a", encoding="utf-8")
        except OSError as e:
            text = catalog.format(says.LOG_UNWRITABLE, reason=e)
            sys.stderr.write(f"{PROGRAM}: {text}\n")
            sys.exit(EXIT_USAGE)
        # Not redirectStandardIO: stderr is where the user's messages go.
        globalLogBeginner.beginLoggingTo([textFileLogObserver(logfile)], redirectStandardIO=False)
    interactive = wants_terminal()
    with terminal_state(raw=interactive):
        task.react(run, (options, endpoint, where, interactive))


if __name__ == "__main__":
    main()
