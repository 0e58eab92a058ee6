"""
Polish and English over real sockets: a whole conversation under --lang pl,
a room where each member reads their own language, and the real programs
(twistd chatroom --lang pl, chatroom-client) doing the same.
"""

from __future__ import annotations

import os
import re
import signal

import pytest
import pytest_twisted
from twisted.internet import defer

from chatroom.lines import line_audience
from chatroom.settings import Settings
from chatroom.testing import connect, listen, quit_all
from tests.integration.process import python, spawn
from tests.integration.test_twistd import environment, processes, start_server  # noqa: F401

T = r"^\[\d\d:\d\d:\d\d\] "


@pytest.fixture
def polish_server(reactor):
    handle = pytest_twisted.blockon(defer.ensureDeferred(listen(reactor, Settings(max_clients=5))))
    handle.factory.audience = line_audience("pl")  # what --lang pl does
    yield handle
    pytest_twisted.blockon(defer.ensureDeferred(handle.stop()))


@pytest_twisted.ensureDeferred
async def test_aPolishConversationOverTcp(reactor, polish_server):
    """What a student with nc reads from a --lang pl server: Polish, from first to last line."""
    port = polish_server.port
    ola = await connect(reactor, port)
    await ola.expect(r"^Witaj w chatroomie, studenckim pokoju do rozmów \(online: 0 osób z 5\)\.$")
    await ola.expect(r"^Twój nick \(1-20 znaków: litery, cyfry, _ lub -\):$")
    ola.say("Ola Ż")
    await ola.expect(
        r"^Błąd: nick może zawierać tylko litery, cyfry, _ i - \(niedozwolony znak: spacja\)\.$"
    )
    ola.say("Ola", "GL3")
    await ola.expect(r"^Twoja grupa laboratoryjna \(1-16 znaków, np\. GL3\):$")
    await ola.expect(r"^Cześć Ola \(GL3\), jesteś w pokoju \(online: 1 osoba z 5\)\. Wpisz /pomoc")

    # A guest who reads English: /lang at the name prompt, everything after in English.
    guest = await connect(reactor, port)
    await guest.expect(r"^Twój nick")
    guest.say("/lang en")
    await guest.expect(r"^From now on you read English \(en\)\.$")
    await guest.expect(r"^Your name \(1-20 letters, digits, _ or -\):$")
    guest.say("guest", "EN1")
    await guest.expect(r"^Hello guest \(EN1\), you are in: 2/5 online\. ")
    await ola.expect(T + r"\* guest \(EN1\) wchodzi \(online: 2 osoby z 5\)$")

    guest.say("hello everyone, cześć")
    await ola.expect(T + r"guest \(EN1\): hello everyone, cześć$")  # user text: untouched
    ola.say("hej! ąćęłńóśźż", "/msg guest sekret", "/online", "/nick Olka")
    await guest.expect(T + r"Ola \(GL3\): hej! ąćęłńóśźż$")
    await guest.expect(T + r"\[private\] Ola \(GL3\): sekret$")
    await ola.expect(T + r"\[prywatnie do guest\] sekret$")
    await ola.expect(r"^W pokoju \(2 osoby z 5\): Ola \(GL3\), guest \(EN1\)$")
    await ola.expect(T + r"\* Ola zmienia nick na Olka$")
    await guest.expect(T + r"\* Ola is now known as Olka$")
    ola.say("/pomoc")
    await ola.expect(r"^Polecenia \(nazwa polska, potem angielski odpowiednik\):$")
    await ola.expect(r"^  /jezyk \[KOD\], /lang +pokaż lub wybierz swój język$")
    await ola.expect(r"^Wiersz może mieć do 4096 bajtów\.$")

    guest.say("/wyjdz")
    await guest.expect(r"^Goodbye!$")
    await guest.closed
    await ola.expect(T + r"\* guest \(EN1\) wychodzi$")
    ola.say("/wyjdz")
    await ola.expect(r"^Do widzenia!$")
    await ola.closed
    english = re.compile(r"\b(the|you|your|is|Error|Hello|Welcome|joined|left|Goodbye)\b")
    assert [line for line in ola.lines if english.search(line)] == []


@pytest_twisted.ensureDeferred
async def test_twistdLangPlWithTheClient(reactor, processes, tmp_path):  # noqa: F811
    """
    twistd chatroom --lang pl, as installed: nc reads Polish; chatroom-client
    in Polish registers as is; chatroom-client in an English locale asks for
    English and reads it.
    """
    server, port = await start_server(reactor, processes, tmp_path, "--lang", "pl")
    nc = await connect(reactor, port)
    await nc.expect(r"^Witaj w chatroomie, studenckim pokoju do rozmów \(online: 0 osób z 50\)\.$")
    nc.say("nc", "GL1")
    await nc.expect(r"^Cześć nc \(GL1\)")

    def client(*args: str, lang: str):
        env = {**environment(), "LC_ALL": lang, "NO_COLOR": "1", "TERM": "dumb"}
        child = spawn(reactor, python("-m", "chatroom.client", "::1", str(port), *args), env)
        processes.append(child)
        return child

    ala = client("--name", "ala", "--group", "3", lang="pl_PL.UTF-8")
    await ala.expect(r"^Cześć ala \(3\), jesteś w pokoju \(online: 2 osoby z 50\)\.")
    bob = client("--name", "bob", "--group", "4", lang="C.UTF-8")
    await bob.expect(r"^Hello bob \(4\), you are in: 3/50 online\. ")
    await ala.expect(T + r"\* bob \(4\) wchodzi \(online: 3 osoby z 50\)$")
    await nc.expect(T + r"\* bob \(4\) wchodzi")

    ala.write("dzień dobry\n")
    await ala.expect(T + r"ty: dzień dobry$")
    await bob.expect(T + r"ala \(3\): dzień dobry$")
    await nc.expect(T + r"ala \(3\): dzień dobry$")
    bob.write("/online\n")
    await bob.expect(r"^Online \(3/50\): nc \(GL1\), ala \(3\), bob \(4\)$")

    assert "/lang" not in " ".join(ala.lines)  # nothing of the switch shows
    # The welcome came before the client could ask: it says it again in English.
    assert bob.lines[0] == "Welcome to chatroom, the student chat room (2/50 online)."
    switch = ("Your name", "Twój nick", "From now on", "Twój język", "Error", "Błąd")
    assert not any(line.startswith(switch) for line in bob.lines)
    ala.close_stdin()
    bob.close_stdin()
    assert await ala.wait() == 0
    assert await bob.wait() == 0
    await nc.expect(T + r"\* ala \(3\) wychodzi$")
    await quit_all(nc)
    server.signal("TERM")
    assert await server.wait() == -signal.SIGTERM
    assert "wchodzi" not in server.output and "joined: ala (3)" in server.output  # log: English


def test_environmentPinsTheLocale():
    """The suite runs in English whatever the developer's locale (conftest)."""
    assert os.environ["LC_ALL"] == "C.UTF-8"


@pytest.fixture
def english_only_server(reactor, monkeypatch):
    """A line door that offers no other language: what /lang finds on such a server."""
    monkeypatch.setattr("chatroom.protocol.line_audience", None)
    handle = pytest_twisted.blockon(defer.ensureDeferred(listen(reactor)))
    yield handle
    pytest_twisted.blockon(defer.ensureDeferred(handle.stop()))


@pytest_twisted.ensureDeferred
async def test_polishClientOnAnEnglishOnlyServer(reactor, english_only_server, processes):  # noqa: F811
    """chatroom-client in Polish still registers, says once that it can't, and chats."""
    port = english_only_server.port
    bob = await connect(reactor, port)
    bob.say("bob", "GL1")
    await bob.expect(r"^Hello bob ")
    env = {**os.environ, "LC_ALL": "pl_PL.UTF-8", "NO_COLOR": "1", "TERM": "dumb"}
    ala = spawn(
        reactor, python("-m", "chatroom.client", "::1", str(port), "-n", "ala", "-g", "3"), env
    )
    processes.append(ala)
    await ala.expect(r"^Hello ala \(3\), you are in: 2/50 online\. ")
    await bob.expect(T + r"\* ala \(3\) joined")
    ala.write("dzień dobry\n")
    await bob.expect(T + r"ala \(3\): dzień dobry$")
    await ala.expect(T + r"ty: dzień dobry$")  # the client's own words: Polish
    ala.close_stdin()
    assert await ala.wait() == 0
    assert ala.errors.count("serwer nie obsługuje języka: polski") == 1
    assert not any(line.startswith(("Error", "Your name")) for line in ala.lines)
    await quit_all(bob)
