"""
chatroom-client's logic without processes: options, endpoints, the
conversation rules (L{ChatClient} on a StringTransport and a task.Clock), the
plain console, colours, and the line editor fed keystrokes through insults'
ServerProtocol, read back through a small terminal emulator.
"""

from __future__ import annotations

import io
import re
import signal

import pytest
from twisted.conch.insults import insults
from twisted.internet import defer, endpoints, error, task
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.python import usage
from twisted.python.failure import Failure

from chatroom import __version__, clientsession, messages
from chatroom import client as chatclient
from chatroom.catalog import Clock
from chatroom.client import (
    Options,
    PlainConsole,
    make_endpoint,
    split_endpoint,
    wants_colour,
    wants_terminal,
)
from chatroom.clientsession import ChatClient, ServerConnection, describe_failure, is_quit
from chatroom.telnet import OFFER
from chatroom.terminal import PROMPT, LineEditor, char_width, colourise, name_colour
from chatroom.testing import en, make_certificate
from tests.integration.process import Screen

NAME_PROMPT = en(messages.NAME_PROMPT)
GROUP_PROMPT = en(messages.GROUP_PROMPT)
GOODBYE = en(messages.GOODBYE)

SGR = re.compile(r"\x1b\[[0-9;]*m")
STAMP = r"\[\d\d:\d\d:\d\d\]"


def parse(*argv: str) -> Options:
    options = Options()
    options.parseOptions(list(argv))
    return options


# Options and endpoints


@pytest.mark.parametrize(
    "argv, host, port",
    [
        (["::1"], "::1", 5000),
        (["::1", "5123"], "::1", 5123),
        (["[::1]", "5123"], "::1", 5123),
        (["fe80::1%eth0"], "fe80::1%eth0", 5000),
        (["192.0.2.7", "6000"], "192.0.2.7", 6000),
        (["chat.example.org"], "chat.example.org", 5000),
    ],
)
def test_hostAndPort(argv, host, port):
    options = parse(*argv)
    assert (options["host"], options["port"]) == (host, port)


def test_optionsAfterHost():
    """GNU order, as in the issue: C{chatroom-client ::1 --name ala --group 3}."""
    options = parse("::1", "--name", "ala", "--group", "3", "--no-color")
    assert (options["host"], options["name"], options["group"]) == ("::1", "ala", "3")
    assert options["no-color"]
    options = parse("-n", "ola", "::1", "5123", "-g=GL2")
    assert (options["name"], options["group"], options["port"]) == ("ola", "=GL2", 5123)
    assert parse("::1", "--name=ala")["name"] == "ala"


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "which server"),
        (["::1", "http"], "port must be a number"),
        (["::1", "70000"], "1-65535"),
        (["::1", "0"], "1-65535"),
        (["::1", "--connect", "tcp:host=x:port=1"], "not both"),
        (["::1", "1", "2"], "too many arguments"),
        (["::1", "--bogus"], "bogus"),
    ],
)
def test_usageErrors(argv, message):
    with pytest.raises(usage.UsageError, match=message):
        parse(*argv)


def test_usageErrorExitsTwo(capsys):
    with pytest.raises(SystemExit) as exit:
        chatclient.main(["::1", "x"])
    assert exit.value.code == clientsession.EXIT_USAGE
    assert "--help" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        parse("--version")
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"chatroom-client {__version__}\n"


def test_helpDocumentsEverything(capsys):
    with pytest.raises(SystemExit) as exit:
        parse("--help")
    assert exit.value.code == 0
    text = capsys.readouterr().out
    for word in ("--connect", "--name", "--group", "--no-color", "--version", "--log"):
        assert word in text
    for word in ("NO_COLOR", "Ctrl-D", "Ctrl-C", "/wyjdz", "Exit status", "130", "TERM=dumb"):
        assert word in text
    for status in ("0", "1", "2", "3"):
        assert re.search(rf"^  {status} ", text, re.M), status


def test_endpointForHostAndPort():
    """HOST [PORT] goes to a HostnameEndpoint: literals (scoped too), IPv4, names."""
    from twisted.internet import reactor

    for host, shown in (("::1", "[::1]:5000"), ("fe80::1%eth0", "[fe80::1%eth0]:5000")):
        endpoint, where = make_endpoint(reactor, parse(host))
        assert isinstance(endpoint, endpoints.HostnameEndpoint)
        assert (where, repr(endpoint)) == (shown, f"<HostnameEndpoint {shown}>")
    endpoint, where = make_endpoint(reactor, parse("chat.example.org", "5123"))
    assert (where, repr(endpoint)) == ("chat.example.org:5123", f"<HostnameEndpoint {where}>")


def test_endpointFromString():
    from twisted.internet import reactor

    description = r"tcp:host=\:\:1:port=5123"
    endpoint, where = make_endpoint(reactor, parse("--connect", description))
    assert where == description
    assert (endpoint._host, endpoint._port) == ("::1", 5123)
    with pytest.raises(ValueError):
        make_endpoint(reactor, parse("--connect", "nonsense:1"))


def test_describeFailure():
    assert "refused" in describe_failure(Failure(error.ConnectionRefusedError()))
    assert "no such host" in describe_failure(Failure(error.DNSLookupError("x")))
    assert describe_failure(Failure(error.TimeoutError())) == "timed out"
    assert describe_failure(Failure(error.NoRouteError())) == error.NoRouteError().__str__()


def test_colourChoice():
    assert wants_colour(parse("::1"), {})
    assert not wants_colour(parse("::1", "--no-color"), {})
    assert not wants_colour(parse("::1"), {"NO_COLOR": "1"})
    assert wants_colour(parse("::1"), {"NO_COLOR": ""})  # set but empty: no-color.org


def test_editorOnlyOnACapableTerminal(monkeypatch):
    """Both stdin and stdout must be terminals, and not TERM=dumb (Emacs shell-mode, say)."""
    ttys = {0: True, 1: True}
    monkeypatch.setattr(chatclient.os, "isatty", lambda fd: ttys[fd])
    assert wants_terminal({"TERM": "xterm-256color"})
    assert not wants_terminal({"TERM": "dumb"})
    ttys[1] = False  # chatroom-client ::1 | tee log
    assert not wants_terminal({"TERM": "xterm"})


@pytest.mark.parametrize(
    "line, quits",
    [
        ("/wyjdz", True),
        ("/quit", True),
        ("/QUIT see you", True),
        ("/wyjdzie", False),
        (" /quit", False),
        ("//quit", False),
        ("quit", False),
        ("/msg ala /quit", False),
    ],
)
def test_isQuit(line, quits):
    assert is_quit(line) is quits


# The conversation


class FakeConsole:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.asked: list[str] = []

    def show(self, text: str, style: str = "server") -> None:
        self.shown.append((style, text))

    def ask(self, prompt: str) -> None:
        self.asked.append(prompt)

    def texts(self, style: str = "server") -> list[str]:
        return [text for kind, text in self.shown if kind == style]


class Conversation:
    """A ChatClient connected through a StringTransport, on a task.Clock."""

    def __init__(self, name: str | None = None, group: str | None = None) -> None:
        self.clock = task.Clock()
        self.client = ChatClient(self.clock, name, group, "[::1]:5000")
        self.console = self.client.console = FakeConsole()
        self.connection = ServerConnection(self.client)
        self.transport = StringTransport()
        self.connection.makeConnection(self.transport)
        self.status: list[int] = []
        self.client.done.addCallback(self.status.append)

    def server(self, *lines: str) -> None:
        self.connection.dataReceived(b"".join(line.encode() + b"\r\n" for line in lines))

    def sent(self) -> list[str]:
        data = self.transport.value().decode()
        self.transport.clear()
        return data.split("\n")[:-1]

    def close(self, reason: Exception | None = None) -> None:
        self.connection.connectionLost(Failure(reason or error.ConnectionDone()))

    def join(self, name: str = "ala", group: str = "3") -> None:
        self.server(
            en(
                messages.REGISTERED,
                name=name,
                group=group,
                online=2,
                max=50,
                help=messages.HELP_COMMAND,
            )
        )


def test_autoRegistration():
    """--name/--group answer the prompts; lines typed meanwhile wait for the join."""
    talk = Conversation("ala", "3")
    talk.client.user_line("early bird")
    talk.connection.dataReceived(OFFER)  # telnet negotiation: stripped, not answered
    talk.server(en(messages.WELCOME, online=1, max=50), NAME_PROMPT)
    assert talk.sent() == ["ala"]
    talk.server(GROUP_PROMPT)
    assert talk.sent() == ["3"]
    assert talk.console.asked == []
    assert talk.console.texts() == [en(messages.WELCOME, online=1, max=50)]
    talk.join()
    assert talk.sent() == ["early bird"]
    assert talk.console.texts()[-1].startswith("Hello ala (3)")
    assert re.fullmatch(rf"{STAMP} you: early bird", talk.console.texts("own")[0])


def test_nameTakenHandsOverToTheUser():
    talk = Conversation("ala", "3")
    talk.client.user_line("ola")
    talk.server(NAME_PROMPT)
    assert talk.sent() == ["ala"]
    talk.server(en(messages.ERROR, text=en(messages.NAME_TAKEN, name="ala")), NAME_PROMPT)
    assert talk.console.asked == [NAME_PROMPT]
    assert talk.console.texts() == [en(messages.ERROR, text=en(messages.NAME_TAKEN, name="ala"))]
    assert talk.sent() == ["ola"]  # the held line answers the question
    talk.server(GROUP_PROMPT)
    assert talk.sent() == ["3"]  # --group still answers its own


def test_withoutNameTheUserAnswers():
    talk = Conversation()
    talk.client.user_line("ala")
    assert talk.sent() == ["ala"]  # not held: the server queues it as the answer
    talk.server(NAME_PROMPT, GROUP_PROMPT)
    assert talk.console.asked == [NAME_PROMPT, GROUP_PROMPT]
    assert talk.console.texts("own") == []  # answers are not messages


def test_ownMessagesShownCommandsNot():
    talk = Conversation()
    talk.join()
    talk.clock.advance(3600 * 5 + 61)
    for line in ("cześć", "//etc/passwd", "/online", "/msg bob hi", "   ", "", "a\x1b[2Jb"):
        talk.client.user_line(line)
    assert talk.sent() == [
        "cześć",
        "//etc/passwd",
        "/online",
        "/msg bob hi",
        "   ",
        "",
        "a\x1b[2Jb",
    ]
    stamp = Clock().stamp(talk.clock.seconds())
    assert talk.console.texts("own") == [
        f"{stamp} you: cześć",
        f"{stamp} you: /etc/passwd",
        f"{stamp} you: a[2Jb",  # shown as the server will relay it
    ]


def test_serverLinesCannotActOnTheTerminal():
    talk = Conversation()
    talk.server("\x1b[2J\x1b]0;pwned\x07hi\u202e")
    assert talk.console.texts() == ["[2J]0;pwnedhi"]


def test_quitExitsZero():
    talk = Conversation()
    talk.join()
    talk.client.user_line("/wyjdz")
    assert talk.sent() == ["/wyjdz"]
    talk.client.user_line("too late")
    assert talk.sent() == []
    talk.server(GOODBYE)
    talk.close()
    assert talk.status == [clientsession.EXIT_OK]
    assert talk.console.texts("notice") == []
    assert not talk.clock.getDelayedCalls()


def test_endOfInputSendsQuitAfterHeldLines():
    talk = Conversation("ala", "3")
    talk.client.user_line("last words")
    talk.client.user_eof()
    assert talk.sent() == []
    talk.server(NAME_PROMPT, GROUP_PROMPT)
    talk.sent()
    talk.join()
    assert talk.sent() == ["last words", "/wyjdz"]


def test_quitWaitsForTheServerBoundedly():
    talk = Conversation()
    talk.join()
    talk.client.user_eof()
    assert talk.sent() == ["/wyjdz"]
    talk.clock.advance(clientsession.QUIT_TIMEOUT - 0.1)
    assert not talk.transport.disconnecting
    talk.clock.advance(0.1)
    assert talk.transport.disconnected  # StringTransport's mark of abortConnection
    assert "did not close" in talk.console.texts("notice")[0]
    talk.close(error.ConnectionAborted())
    assert talk.status == [clientsession.EXIT_OK]


def test_interruptWhileQuitting():
    """Ctrl-C while /wyjdz waits for the server: one timer, the interrupt's, and status 130."""
    talk = Conversation()
    talk.join()
    talk.client.user_eof()
    talk.client.user_interrupt()
    assert len(talk.clock.getDelayedCalls()) == 1
    talk.close()
    assert talk.status == [clientsession.EXIT_INTERRUPTED]
    assert not talk.clock.getDelayedCalls()


def test_refusedExitsThree():
    talk = Conversation("ala", "3")
    talk.server(en(messages.ROOM_FULL, count=50, max=50))
    talk.close()
    assert talk.status == [clientsession.EXIT_REFUSED]
    assert talk.console.texts() == [en(messages.ROOM_FULL, count=50, max=50)]
    assert "refused" in talk.console.texts("notice")[0]
    assert talk.sent() == []


def test_tooManyFromAddressExitsThree():
    talk = Conversation()
    talk.server(en(messages.TOO_MANY_FROM_ADDRESS, count=10, limit=10))
    talk.close()
    assert talk.status == [clientsession.EXIT_REFUSED]


def test_serverClosesExitsOne():
    talk = Conversation()
    talk.join()
    talk.server(en(messages.SHUTDOWN, stamp="[12:00:00]"))
    talk.close()
    assert talk.status == [clientsession.EXIT_CONNECTION]
    assert talk.console.texts("notice") == ["the server at [::1]:5000 closed the connection."]


def test_connectionLostExitsOne():
    talk = Conversation()
    talk.join()
    talk.close(error.ConnectionLost("reset by peer"))
    assert talk.status == [clientsession.EXIT_CONNECTION]
    assert talk.console.texts("notice")[0].startswith("connection lost: ")


@pytest.mark.parametrize(
    "signum, status",
    [
        (signal.SIGINT, clientsession.EXIT_INTERRUPTED),
        (signal.SIGTERM, clientsession.EXIT_TERMINATED),
    ],
)
def test_interruptClosesAtOnce(signum, status):
    talk = Conversation()
    talk.join()
    talk.client.user_interrupt(signum)
    assert talk.transport.disconnecting
    talk.client.user_line("ignored")
    talk.close()
    assert talk.status == [status]
    assert talk.console.texts("notice") == ["interrupted."]
    assert not talk.clock.getDelayedCalls()


def test_interruptCutsAStuckConnection():
    talk = Conversation()
    talk.client.user_interrupt()
    talk.clock.advance(clientsession.CLOSE_TIMEOUT)
    assert talk.transport.disconnected  # StringTransport's mark of abortConnection


class FakeEndpoint:
    def __init__(self, result: defer.Deferred) -> None:
        self.result = result

    def connect(self, factory):
        return self.result


def test_connectFailsExitsOne():
    client = ChatClient(task.Clock(), where="[::1]:1")
    client.console = FakeConsole()
    statuses = []
    client.connect(FakeEndpoint(defer.fail(error.ConnectionRefusedError()))).addCallback(
        statuses.append
    )
    assert statuses == [clientsession.EXIT_CONNECTION]
    assert client.console.texts("status") == ["connecting to [::1]:1..."]
    assert client.console.texts("notice")[0].startswith("cannot connect to [::1]:1: connection")


def test_interruptWhileConnecting():
    client = ChatClient(task.Clock(), where="[::1]:1")
    client.console = FakeConsole()
    statuses = []
    client.connect(FakeEndpoint(defer.Deferred())).addCallback(statuses.append)
    client.user_interrupt()
    assert statuses == [clientsession.EXIT_INTERRUPTED]


def test_serverConnectionFraming():
    """Lines split across packets, CRLF or LF, telnet commands mid-line, a last unfinished line."""
    talk = Conversation()
    for chunk in (b"\xff\xfb\x00Wel", b"come\r", b"\n\xff", b"\xfd\x00two\nza\xc5", b"\xbc\r\nend"):
        talk.connection.dataReceived(chunk)
    assert talk.console.texts() == ["Welcome", "two", "zaż"]
    talk.close()
    assert talk.console.texts() == ["Welcome", "two", "zaż", "end"]
    assert talk.transport.value() == b""  # telnet options never answered


# The plain console


class FakeUser:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.eof = 0
        self.interrupts = 0

    def user_line(self, text: str) -> None:
        self.lines.append(text)

    def user_eof(self) -> None:
        self.eof += 1

    def user_interrupt(self, signum: int = signal.SIGINT) -> None:
        self.interrupts += 1


def plain_console() -> tuple[PlainConsole, StringTransport, io.StringIO, FakeUser]:
    user, stderr = FakeUser(), io.StringIO()
    console = PlainConsole(user, stderr)
    transport = StringTransport()
    console.makeConnection(transport)
    return console, transport, stderr, user


def test_plainConsoleLines():
    console, transport, stderr, user = plain_console()
    console.dataReceived("cześć\r\nsecond\nlast".encode())
    assert user.lines == ["cześć", "second"]
    console.readConnectionLost()
    assert user.lines == ["cześć", "second", "last"]
    assert user.eof == 1
    console.show("[12:00:00] bob (GL1): hej")
    console.show("connecting...", "status")
    console.show("something went wrong.", "notice")
    console.ask(NAME_PROMPT)
    assert transport.value().decode() == f"[12:00:00] bob (GL1): hej\n{NAME_PROMPT}\n"
    assert stderr.getvalue() == "chatroom-client: something went wrong.\n"


def test_plainConsoleStdoutGone():
    console, transport, stderr, user = plain_console()
    console.writeConnectionLost()
    assert user.eof == 1
    assert console.close().called


# Colours


def test_colourise():
    public = colourise("[12:00:00] bob (GL1): hej")
    assert SGR.sub("", public) == "[12:00:00] bob (GL1): hej"
    assert f"\x1b[1;{name_colour('bob')}mbob\x1b[0m" in public
    assert "\x1b[33m* bob (GL1) left\x1b[0m" in colourise("[12:00:00] * bob (GL1) left")
    old = colourise("[12:00:00] [history] bob (GL1): hej")
    assert SGR.sub("", old) == "[12:00:00] [history] bob (GL1): hej"
    assert f"\x1b[{name_colour('bob')}mbob\x1b[0m" in old and "\x1b[2m(GL1): hej\x1b[0m" in old
    announced = colourise("[12:00:00] [announcement] ala: exam on Friday")
    assert announced.endswith("\x1b[1;7;33m[announcement] ala: exam on Friday\x1b[0m")
    polish = colourise("[12:00:00] [historia] bob (GL1): hej")
    assert polish.startswith("\x1b[2m[12:00:00] [historia]")
    private = colourise("[12:00:00] [private] bob (GL1): sekret")
    assert "\x1b[35m[private]\x1b[0m" in private and "\x1b[35msekret\x1b[0m" in private
    assert "\x1b[35m[private to bob]" in colourise("[12:00:00] [private to bob] sekret")
    assert colourise("Error: no.") == "\x1b[1;31mError: no.\x1b[0m"
    assert colourise("Sorry, the room is full (1/1).").startswith("\x1b[1;31m")
    assert "\x1b[1;32myou:\x1b[0m" in colourise("[12:00:00] you: hej", "own")
    assert colourise("-- connecting", "status") == "\x1b[36m-- connecting\x1b[0m"
    assert colourise(en(messages.WELCOME, online=1, max=50)) == en(
        messages.WELCOME, online=1, max=50
    )


def test_nameColourIsStable():
    assert name_colour("Ala") == name_colour("ala")  # the same person, by the server's rules
    assert len({name_colour(name) for name in ("ala", "bob", "ola", "ewa", "jan", "iga")}) > 1


def test_charWidth():
    assert [char_width(ch) for ch in "aą漢\u0301😀"] == [1, 1, 2, 0, 2]


# The line editor

LEFT, RIGHT, UP, DOWN = b"\x1b[D", b"\x1b[C", b"\x1b[A", b"\x1b[B"
HOME, END, DELETE, BACKSPACE = b"\x1b[H", b"\x1b[F", b"\x1b[3~", b"\x7f"


class Terminal:
    """A LineEditor on insults' ServerProtocol over a StringTransport: keys in, a Screen out."""

    def __init__(self, width: int = 40, colour: bool = False) -> None:
        self.user = FakeUser()
        self.editor = LineEditor(self.user, colour)
        self.editor.width = width
        self.protocol = insults.ServerProtocol(lambda: self.editor)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self.width = width

    def keys(self, *data: bytes | str) -> Terminal:
        for chunk in data:
            self.protocol.dataReceived(chunk.encode() if isinstance(chunk, str) else chunk)
        return self

    def screen(self) -> Screen:
        return Screen(self.width, 8).feed(self.transport.value())

    @property
    def line(self) -> str:
        return "".join(self.editor.lineBuffer)


def test_polishLettersTypedByteByByte():
    """UTF-8 arrives one byte per keystroke (insults); recvline alone would drop them."""
    term = Terminal()
    for byte in "Zażółć gęślą jaźń ŚŃ".encode():
        term.keys(bytes([byte]))
    assert term.line == "Zażółć gęślą jaźń ŚŃ"
    assert term.screen().cursor_row == "> Zażółć gęślą jaźń ŚŃ"
    term.keys(b"\r")
    assert term.user.lines == ["Zażółć gęślą jaźń ŚŃ"]
    assert term.line == ""


def test_backspaceRemovesOneCharacter():
    term = Terminal().keys("źdźbło", BACKSPACE, BACKSPACE, BACKSPACE)
    assert term.line == "źdź"
    screen = term.screen()
    assert (screen.cursor_row, screen.before_cursor()) == ("> źdź", "> źdź")


def test_editingInTheMiddle():
    term = Terminal().keys("ała", LEFT, LEFT, "ż", HOME, "X", END, "!", LEFT, DELETE)
    assert term.line == "Xażła"
    assert term.screen().before_cursor() == "> Xażła"
    term.keys(HOME, RIGHT, b"\x0b")  # Ctrl-K
    assert term.line == "X"
    term.keys(" jeden dwa", b"\x17")  # Ctrl-W
    assert term.line == "X jeden "
    term.keys(b"\x01", b"\x06", b"\x15")  # Ctrl-A, Ctrl-F, Ctrl-U
    assert term.line == " jeden "
    term.keys(b"\x1b\x7f")  # Alt-Backspace: a word back from the start: nothing
    assert term.line == " jeden "


def test_typeover():
    term = Terminal().keys("abc", HOME, b"\x1b[2~", "XY")
    assert term.line == "XYc"


def test_history():
    term = Terminal().keys("pierwsza\r", "druga\r", "trze")
    term.keys(UP)
    assert term.line == "druga"
    term.keys(UP, UP)
    assert term.line == "pierwsza"
    term.keys(DOWN, DOWN)
    assert term.line == "trze"  # the unsent line comes back
    term.keys(b"\x10")  # Ctrl-P
    assert term.line == "druga"
    assert term.screen().cursor_row == "> druga"


def test_messageArrivingWhileTyping():
    """The half-typed line is erased, the message printed, the line redrawn with the cursor."""
    term = Terminal().keys("pół linii", LEFT, LEFT)
    term.editor.show("[12:00:00] bob (GL1): hej")
    screen = term.screen()
    assert screen.text == ["[12:00:00] bob (GL1): hej", "> pół linii"]
    assert screen.before_cursor() == "> pół lin"
    term.keys("X\r")
    assert term.user.lines == ["pół linXii"]
    assert not screen.cleared and not screen.coloured


def test_longLineScrollsSideways():
    """A line longer than the terminal stays on one row, scrolled to keep the cursor in view."""
    term = Terminal(width=20)
    text = "abcdefghijklmnopqrstuvwxyz0123456789"
    term.keys(text)
    screen = term.screen()
    assert screen.text == [screen.cursor_row]  # one row, never wrapped
    assert screen.cursor_row.endswith("456789")
    assert screen.x < 20
    term.keys(HOME)
    assert term.screen().cursor_row == "> abcdefghijklmnopq"
    term.editor.show("msg")
    assert term.screen().text == ["msg", "> abcdefghijklmnopq"]
    term.keys(b"\r")
    assert term.user.lines == [text]


def test_wideCharactersMoveTheCursorByTheirWidth():
    term = Terminal().keys("漢字ok", LEFT, LEFT)
    assert term.screen().x == len("> ") + 4


def test_questionBecomesThePrompt():
    term = Terminal(width=80)
    term.editor.ask(NAME_PROMPT)
    assert term.screen().cursor_row == NAME_PROMPT
    term.keys("ala\r")
    assert term.user.lines == ["ala"]
    assert term.screen().text == [f"{NAME_PROMPT} ala", PROMPT.strip()]


def test_ctrlD():
    term = Terminal().keys("ab", HOME, b"\x04")
    assert (term.line, term.user.eof) == ("b", 0)  # deletes under the cursor
    term.keys(END, b"\x15", b"\x04")  # Ctrl-U cuts to the start
    assert term.user.eof == 1  # on an empty line: the end


def test_ctrlC():
    term = Terminal().keys("half", b"\x03")
    assert term.user.interrupts == 1


def test_functionKeysIgnored():
    term = Terminal().keys("a", b"\x1bOP", b"\x1b[15~", b"\x1b[6~", b"\x07", "b")
    assert term.line == "ab"


def test_coloursOnlyWhenAsked():
    plain = Terminal(colour=False)
    plain.editor.show("[12:00:00] bob (GL1): hej")
    plain.editor.show("Error: no.")
    assert not SGR.search(plain.transport.value().decode())
    coloured = Terminal(colour=True)
    coloured.editor.show("[12:00:00] bob (GL1): hej")
    assert SGR.search(coloured.transport.value().decode())


def test_closeKeepsTheScrollback():
    """No reset, no clearing: the conversation stays on screen; the cursor ends on a clean row."""
    term = Terminal()
    term.editor.show("[12:00:00] bob (GL1): hej")
    closed = term.editor.close()
    assert term.transport.disconnecting
    output = term.transport.value()
    assert b"\x1bc" not in output and b"\x1b[2J" not in output
    screen = term.screen()
    assert screen.text == ["[12:00:00] bob (GL1): hej"]
    assert screen.x == 0
    term.protocol.connectionLost(Failure(error.ConnectionDone()))
    assert closed.called
    assert term.user.eof == 0  # we closed it: not a hangup


def test_closeLeavesUnsentTextVisible():
    term = Terminal().keys("niewysłane")
    term.editor.close()
    assert term.screen().text == ["> niewysłane"]


def test_hangupLeaves():
    term = Terminal()
    term.protocol.connectionLost(Failure(error.ConnectionLost()))
    assert term.user.eof == 1


def test_resizeRedrawsWithoutClearing():
    term = Terminal(width=40).keys("x" * 30)
    term.editor.terminalSize(20, 10)
    screen = Screen(40, 8).feed(term.transport.value())
    assert not screen.cleared
    assert screen.x < 20


@pytest.mark.parametrize(
    "description, fields",
    [
        (r"tls:host=\:\:1:port=5001", [(None, "tls"), ("host", "::1"), ("port", "5001")]),
        ("tls:example.org:5001", [(None, "tls"), (None, "example.org"), (None, "5001")]),
        (r"tls:host=a:endpoint=tcp\:a\:1", [(None, "tls"), ("host", "a"), ("endpoint", "tcp:a:1")]),
        ("tcp:host=a=b", [(None, "tcp"), ("host", "a=b")]),
    ],
)
def test_splitEndpoint(description, fields):
    assert split_endpoint(description) == fields


def test_caMakesATLSEndpoint(tmp_path):
    _, cert = make_certificate(tmp_path, "::1")
    for argv in (
        ["::1", "5001"],
        ["--connect", r"tls:host=\:\:1:port=5001"],
        ["--connect", "tls:example.org:5001"],
    ):
        endpoint, _ = make_endpoint(MemoryReactor(), parse(*argv, "--ca", str(cert)))
        assert isinstance(endpoint, endpoints._WrapperEndpoint), argv


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--connect", "tcp:host=a:port=1"], "--ca goes with a tls: endpoint"),
        (["--connect", "tls:host=a:port=1:trustRoots=/etc"], "takes host, port, timeout"),
        (["--connect", "tls:port=1"], "tls: needs host="),
    ],
)
def test_caWithAnEndpointItCannotUse(tmp_path, argv, message):
    _, cert = make_certificate(tmp_path, "::1")
    with pytest.raises(ValueError, match=message):
        make_endpoint(MemoryReactor(), parse(*argv, "--ca", str(cert)))


def test_caThatIsNoCertificate(tmp_path):
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(usage.UsageError, match="holds no PEM certificate"):
        Options().parseOptions(["::1", "--ca", str(tmp_path / "junk.pem")])
    with pytest.raises(usage.UsageError, match="--ca: cannot read"):
        Options().parseOptions(["::1", "--ca", str(tmp_path / "missing.pem")])
