"""
chatroom-client as a real program: a subprocess (pipes, or a pseudo-terminal)
talking over real TCP to a real server started in this process.

(Named apart from tests/test_client.py: without __init__.py files pytest's
default import mode needs test file names unique across directories.)
"""

from __future__ import annotations

import os
import re
import socket

import pytest
import pytest_twisted
from twisted.internet import defer

from chatroom import clientmessages as says
from chatroom import clientsession, i18n, messages
from chatroom.lines import line_audience
from chatroom.settings import Settings
from chatroom.testing import en, join, listen
from tests.integration.process import Screen, python, spawn, stop_all

NAME_PROMPT = en(messages.NAME_PROMPT)
GROUP_PROMPT = en(messages.GROUP_PROMPT)

ESCAPE = "\x1b"
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def server(reactor):
    handle = pytest_twisted.blockon(defer.ensureDeferred(listen(reactor)))
    yield handle
    pytest_twisted.blockon(defer.ensureDeferred(handle.stop()))


@pytest.fixture
def children(reactor):
    """Start client processes; any still running at the end are killed."""
    started = []

    def start(*args: str, env: dict[str, str] | None = None, terminal=None):
        # The test's own NO_COLOR and TERM must not leak in: set both.
        environment = {**os.environ, "NO_COLOR": "", "TERM": "xterm", **(env or {})}
        child = spawn(
            reactor, python("-m", "chatroom.client", *args), environment, terminal=terminal
        )
        started.append(child)
        return child

    yield start
    pytest_twisted.blockon(defer.ensureDeferred(stop_all(started)))


def registered(name: str, group: str) -> str:
    return rf"^Hello {name} \({group}\), you are in: "


@pytest_twisted.ensureDeferred
async def test_chatThroughPipes(reactor, server, children):
    """
    Registered by --name/--group, the client sends a public message a socket
    client gets, shows it with the time, shows what arrives, does /msg, and
    leaves with status 0 on /wyjdz: all as plain lines, no escape codes.
    """
    bob = await join(reactor, server.port, "bob")
    ala = children("::1", str(server.port), "--name", "ala", "--group", "3")
    await ala.expect(registered("ala", "3"))
    await bob.expect(r"\* ala \(3\) joined")

    ala.write("cześć bob\n")
    await bob.expect(r"^\[\d\d:\d\d:\d\d\] ala \(3\): cześć bob$")
    await ala.expect(r"^\[\d\d:\d\d:\d\d\] you: cześć bob$")

    bob.say("hej ala")
    await ala.expect(r"^\[\d\d:\d\d:\d\d\] bob \(GL1\): hej ala$")

    ala.write("/msg bob tylko dla ciebie\n")
    await bob.expect(r"\[private\] ala \(3\): tylko dla ciebie$")
    await ala.expect(r"\[private to bob\] tylko dla ciebie$")

    ala.write("/wyjdz\n")
    await ala.expect(r"^Goodbye!$")
    assert await ala.wait() == clientsession.EXIT_OK
    await bob.expect(r"\* ala \(3\) left")
    assert ESCAPE not in ala.output
    assert ala.errors == ""
    assert not any("/msg" in line or "/wyjdz" in line for line in ala.lines)  # commands not echoed
    bob.transport.loseConnection()
    await bob.closed


@pytest_twisted.ensureDeferred
async def test_promptsAnsweredByTheUser(reactor, server, children):
    """Without --name/--group the prompts are shown and stdin answers them; EOF leaves (0)."""
    ola = children("::1", str(server.port))
    await ola.expect("^" + re.escape(NAME_PROMPT) + "$")
    ola.write("ola\n")
    await ola.expect("^" + re.escape(GROUP_PROMPT) + "$")
    ola.write("GL2\n")
    await ola.expect(registered("ola", "GL2"))
    ola.close_stdin()  # Ctrl-D at a shell, or the end of a script
    await ola.expect("^Goodbye!$")
    assert await ola.wait() == clientsession.EXIT_OK


@pytest_twisted.ensureDeferred
async def test_scriptLinesWaitForRegistration(reactor, server, children):
    """
    A script's lines, all written before the server even greets, are held
    until --name/--group registration is done (else one would be taken as
    the name), then sent; the end of input then quits.
    """
    bob = await join(reactor, server.port, "bob")
    ala = children("[::1]", str(server.port), "-n", "ala", "-g", "3")
    ala.write("pierwsza\n//slash\n")
    ala.close_stdin()
    await bob.expect(r"ala \(3\): pierwsza$")
    await bob.expect(r"ala \(3\): /slash$")
    assert await ala.wait() == clientsession.EXIT_OK
    assert re.search(r"you: /slash$", ala.output, re.M)
    bob.transport.loseConnection()
    await bob.closed


@pytest_twisted.ensureDeferred
async def test_roomFullIsRefused(reactor, children):
    """Over the limit: the server's one line is printed and the status is 3."""
    server = await listen(reactor, Settings(max_clients=1))
    try:
        bob = await join(reactor, server.port, "bob")
        ala = children("::1", str(server.port), "--name", "ala", "--group", "3")
        status = await ala.wait()
        assert status == clientsession.EXIT_REFUSED, str(ala)
        assert ala.lines == [en(messages.ROOM_FULL, count=1, max=1)]
        assert "refused" in ala.errors
        assert "Traceback" not in ala.errors
        bob.transport.loseConnection()
        await bob.closed
    finally:
        await server.stop()


@pytest.mark.parametrize(("server_lang", "locale"), [("pl", "C.UTF-8"), ("en", "pl_PL.UTF-8")])
@pytest_twisted.ensureDeferred
async def test_roomFullIsRefusedInTheUsersLanguage(reactor, children, server_lang, locale):
    """The refusal comes before the client can ask for its language: it says it in the user's."""
    server = await listen(reactor, Settings(max_clients=1))
    try:
        bob = await join(reactor, server.port, "bob")
        server.factory.audience = line_audience(server_lang)  # what --lang does
        ala = children("::1", str(server.port), "-n", "ala", "-g", "3", env={"LC_ALL": locale})
        assert await ala.wait() == clientsession.EXIT_REFUSED, str(ala)
        client_lang = "en" if server_lang == "pl" else "pl"
        assert ala.lines == [i18n.catalog(client_lang).format(messages.ROOM_FULL, count=1, max=1)]
        bob.transport.loseConnection()
        await bob.closed
    finally:
        await server.stop()


def unused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        return probe.getsockname()[1]


@pytest_twisted.ensureDeferred
async def test_connectionRefused(reactor, children):
    """Nobody listening: a clear one-line error on stderr, status 1, no traceback."""
    ala = children("::1", str(unused_port()), "--name", "ala", "--group", "3")
    assert await ala.wait() == clientsession.EXIT_CONNECTION
    assert ala.output == ""
    assert "cannot connect to [::1]:" in ala.errors
    assert "connection refused" in ala.errors
    assert "Traceback" not in ala.errors
    assert len(ala.errors.splitlines()) == 1


@pytest_twisted.ensureDeferred
async def test_serverGoesAway(reactor, children):
    """The server closes the connection: say so, status 1, no traceback."""
    server = await listen(reactor)
    ala = children("::1", str(server.port), "--name", "ala", "--group", "3")
    await ala.expect(registered("ala", "3"))
    await server.stop()
    assert await ala.wait() == clientsession.EXIT_CONNECTION
    assert "closed the connection" in ala.errors
    assert "Traceback" not in ala.errors


@pytest_twisted.ensureDeferred
async def test_interruptedBySigint(reactor, server, children):
    """Ctrl-C at a shell (SIGINT): leave at once, status 130; the others see us go."""
    bob = await join(reactor, server.port, "bob")
    ala = children("::1", str(server.port), "--name", "ala", "--group", "3")
    await ala.expect(registered("ala", "3"))
    ala.signal("INT")
    assert await ala.wait() == clientsession.EXIT_INTERRUPTED
    await bob.expect(r"\* ala \(3\) left")
    assert "interrupted" in ala.errors
    assert "Traceback" not in ala.errors
    bob.transport.loseConnection()
    await bob.closed


@pytest_twisted.ensureDeferred
async def test_connectEndpointString(reactor, server, children):
    """--connect takes a Twisted endpoint string, escaped colons and all."""
    ala = children("--connect", rf"tcp:host=\:\:1:port={server.port}", "-n", "ala", "-g", "3")
    await ala.expect(registered("ala", "3"))
    ala.write("/quit\n")
    assert await ala.wait() == clientsession.EXIT_OK


@pytest_twisted.ensureDeferred
async def test_ipv4AndHostName(reactor, children):
    """HOST may be an IPv4 address or a name (the default port is covered in unit tests)."""
    server = await listen(reactor, interface="127.0.0.1")
    try:
        for host, name in (("127.0.0.1", "ala"), ("localhost", "ola")):
            child = children(host, str(server.port), "--name", name, "--group", "3")
            await child.expect(registered(name, "3"))
            child.close_stdin()
            assert await child.wait() == clientsession.EXIT_OK
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_usageError(children):
    ala = children("::1", "not-a-port")
    assert await ala.wait() == clientsession.EXIT_USAGE
    assert "port must be a number" in ala.errors
    assert "Traceback" not in ala.errors


@pytest_twisted.ensureDeferred
async def test_wrongOptionAndHelpInThePolishLocale(children):
    """Under LANG=pl_PL the option errors and --help are Polish; --lang en wins over it."""
    polish = {"LC_ALL": "", "LANG": "pl_PL.UTF-8", "COLUMNS": "80"}
    bogus = children("--bogus", env=polish)
    helped = children("--help", env=polish)
    english = children("--help", "--lang", "en", env=polish)
    assert await bogus.wait() == clientsession.EXIT_USAGE
    assert bogus.errors == (
        "chatroom-client: nieznana opcja --bogus\nSpróbuj 'chatroom-client --help'.\n"
    )
    assert [await helped.wait(), await english.wait()] == [0, 0]
    pl = i18n.catalog("pl")
    text = " ".join(" ".join(helped.lines).split())  # the help table wraps its lines
    assert helped.lines[:2] == pl.format(says.SYNOPSIS, program="chatroom-client").split("\n")
    for message in (says.HELP_NAME, says.HELP_HELP, says.HELP_NO_COLOR, says.HELP_LANG):
        assert pl.format(message, languages="en, pl") in text, message
    assert "Kod wyjścia:" in helped.lines
    assert not re.search(r"\b(the|and|with|this|Display)\b", text)
    assert "Display this help and exit." in english.lines[-1] + " ".join(english.lines)


# In a terminal


def input_line(text: str) -> str:
    """A pattern for the input line (re)drawn showing C{text} (as LineEditor.redraw does)."""
    return re.escape(f"\r{text}\x1b[K")


@pytest_twisted.ensureDeferred
async def test_halfTypedLineSurvivesIncomingMessage(reactor, server, children):
    """
    Under a pseudo-terminal: a message arriving while a line is half typed
    is printed above it, and the typed text (Polish letters, one of them
    corrected with Backspace) is still there, still editable and sendable.
    Colours are on by default, and nothing clears the screen.
    """
    bob = await join(reactor, server.port, "bob")
    ala = children("::1", str(server.port), "--name", "ala", "--group", "3", terminal=(60, 12))
    await ala.expect(registered("ala", "3").lstrip("^"))  # drawn in raw mode: keys go straight in
    typed = input_line("> zażółć gęślą")
    ala.write("zażółć gęśląx")
    ala.write(b"\x7f")  # Backspace: removes the x, one character
    await ala.expect(typed)

    bob.say("przerywam")
    await ala.expect(r"bob.*GL1.*: przerywam.*\r\n" + typed, flags=re.S)
    screen = Screen(60, 12).feed(ala.raw)
    assert "bob (GL1): przerywam" in screen.line(screen.y - 1)
    assert screen.cursor_row == "> zażółć gęślą"
    assert screen.before_cursor() == "> zażółć gęślą"

    ala.write(" jaźń\r")  # still being edited, then sent
    await bob.expect(r"ala \(3\): zażółć gęślą jaźń$")
    await ala.expect(r"you:.* zażółć gęślą jaźń")

    ala.write(b"\x04")  # Ctrl-D on the empty line: /wyjdz
    assert await ala.wait() == clientsession.EXIT_OK
    screen = Screen(60, 12).feed(ala.raw)
    assert SGR.search(ala.output), "colours are on in a terminal by default"
    assert not screen.cleared
    assert any(line.endswith("you: zażółć gęślą jaźń") for line in screen.text)
    assert screen.text[-1] == "Goodbye!"
    bob.transport.loseConnection()
    await bob.closed


@pytest_twisted.ensureDeferred
async def test_terminalWithoutColours(reactor, server, children):
    """NO_COLOR: no colour codes in a terminal (cursor moves only); Ctrl-C gives 130."""
    ala = children("::1", str(server.port), env={"NO_COLOR": "1"}, terminal=(80, 24))
    await ala.expect(input_line(NAME_PROMPT + " "))
    ala.write(b"ala\r")
    await ala.expect(input_line(GROUP_PROMPT + " "))
    ala.write(b"3\r")
    await ala.expect(registered("ala", "3").lstrip("^"))
    ala.write(b"\x03")
    assert await ala.wait() == clientsession.EXIT_INTERRUPTED
    assert not SGR.search(ala.output)
    screen = Screen(80, 24).feed(ala.raw)
    assert f"{NAME_PROMPT} ala" in screen.text
    assert f"{GROUP_PROMPT} 3" in screen.text
