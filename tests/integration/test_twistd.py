"""
C{twistd chatroom} as an admin runs it: a real process from the installed
package, real sockets, SIGTERM, restart, and the daemon mode.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import sysconfig
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, task

import chatroom
from chatroom.testing import connect, join, quit_all
from tests.integration.process import spawn, stop_all

TWISTD = str(Path(sys.executable).with_name("twistd"))
SOURCE_TREE = Path(chatroom.__file__).resolve().parents[1]


def installed_plugin() -> Path | None:
    """The dropin a real (not editable) install put in site-packages, if any."""
    plugin = Path(sysconfig.get_paths()["purelib"]) / "twisted" / "plugins" / "chatroom_plugin.py"
    return plugin if plugin.is_file() else None


INSTALLED = installed_plugin() is not None


def environment() -> dict[str, str]:
    """
    Installed (as CI does it, with a real C{pip install .}): twistd finds the
    plugin in site-packages, and nothing else is on its path.  In a dev
    checkout installed editable, the plugin is found in the source tree.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if not INSTALLED:
        env["PYTHONPATH"] = str(SOURCE_TREE)
    return env


@pytest.fixture
def processes(reactor):
    started = []
    yield started
    pytest_twisted.blockon(defer.ensureDeferred(stop_all(started)))


async def start_server(
    reactor, processes, tmp_path, *options, port="0", endpoint=None, twistd=("--logfile=-",)
):
    """twistd chatroom on ::1 (or C{endpoint}); returns the process and its port."""
    endpoint = endpoint or rf"tcp6:{port}:interface=\:\:1"
    argv = [TWISTD, "-n", "--pidfile=", *twistd, "chatroom", "--port", endpoint, *options]
    child = spawn(reactor, argv, environment(), path=str(tmp_path))
    processes.append(child)
    match = await child.expect(r"ChatFactory(?: \(TLS\))? starting on (\d+)")
    return child, int(match.group(1))


@pytest_twisted.ensureDeferred
async def test_chatThroughTwistd(reactor, processes, tmp_path):
    server, port = await start_server(reactor, processes, tmp_path, "--max-clients", "2")
    ala = await join(reactor, port, "ala", "GL3")
    bob = await join(reactor, port, "bob", "GL1")
    refused = await connect(reactor, port)
    await refused.closed
    assert refused.lines == ["Sorry, the room is full (2/2). Try again later."]

    ala.say("hello from ala")
    await bob.expect(r"^\[\d\d:\d\d:\d\d\] ala \(GL3\): hello from ala$")
    ala.say("/msg bob the password is swordfish")
    await bob.expect(r"\[private\] ala \(GL3\): the password is swordfish$")
    bob.say("/nick robert")
    await ala.expect(r"\* bob is now known as robert$")
    bob.say("/wyjdz")
    await bob.closed
    await ala.expect(r"\* robert \(GL1\) left$")

    ala.say("/online")
    await ala.expect(r"^Online \(1/2\): ala \(GL3\)$")
    # The log says what happened, in order, and never the private text.
    for pattern in [
        r"connection from \[::1\]:\d+ \(1/2\)",
        r"joined: ala \(GL3\) from \[::1\]:\d+",
        r"refused \[::1\]:\d+: room full \(2/2\)",
        r"public ala: hello from ala",
        r"renamed: bob is now robert",
        r"left: robert \(GL1\) from \[::1\]:\d+: quit",
    ]:
        await server.expect(pattern)
    assert "swordfish" not in server.output

    server.signal("TERM")
    await ala.closed
    assert ala.lines[-1].endswith("* The server is shutting down. Goodbye!")
    # twistd ends by re-raising the signal that stopped it, after a clean stop.
    assert await server.wait() == -signal.SIGTERM
    assert "Server Shut Down." in server.output

    # The port can be had again at once (SO_REUSEADDR).
    again, same_port = await start_server(reactor, processes, tmp_path, port=str(port))
    assert same_port == port
    client = await join(reactor, port, "ala")
    again.signal("INT")
    await client.closed
    assert await again.wait() == -signal.SIGINT


@pytest_twisted.ensureDeferred
async def test_noWriteThroughSaysSoAndChats(reactor, processes, tmp_path):
    """The fallback for a Twisted that changed, as an admin can force it."""
    server, port = await start_server(reactor, processes, tmp_path, "--no-write-through")
    assert "public transport API only: switched off by --no-write-through" in server.output
    ala = await join(reactor, port, "ala", "GL3")
    bob = await join(reactor, port, "bob", "GL1")
    ala.say("hello the slow way")
    await bob.expect(r"ala \(GL3\): hello the slow way$")
    await quit_all(ala, bob)
    server.signal("TERM")
    assert await server.wait() == -signal.SIGTERM


@pytest_twisted.ensureDeferred
async def test_jsonLinesForLogShippers(reactor, processes, tmp_path):
    """
    twistd --logger chatroom.logjson.observer: every line of stdout is one
    JSON object, and what the journal batched comes out one entry a line.
    """
    twistd = ("--logger", "chatroom.logjson.observer")
    server, port = await start_server(reactor, processes, tmp_path, twistd=twistd)
    ala = await join(reactor, port, "ala", "GL3")
    bob = await join(reactor, port, "bob", "GL1")
    ala.say("zażółć {peer}")  # user text that looks like a format
    await bob.expect(r"ala \(GL3\): zażółć \{peer\}$")
    await quit_all(ala, bob)
    await server.expect(r'"text": "left: bob')
    server.signal("TERM")
    await server.wait()

    records = [json.loads(line) for line in server.output.splitlines()]
    texts = [record["text"] for record in records]
    assert not [text for text in texts if "\n" in text]  # no batch left as one record
    (public,) = [record for record in records if record["text"].startswith("public ")]
    assert public["text"] == "public ala: zażółć {peer}"
    assert public["fields"] == {"name": "ala", "text": "zażółć {peer}"}
    assert public["namespace"] == "chatroom" and public["level"] == "info"
    joined = [record["fields"]["name"] for record in records if record["text"].startswith("joined")]
    assert joined == ["ala", "bob"]
    assert any(text.startswith("left: ala (GL3)") for text in texts)
    assert any("starting up" in text for text in texts)  # twistd's own lines too


@pytest_twisted.ensureDeferred
async def test_badOptionsFailFast(reactor, processes, tmp_path):
    child = spawn(reactor, [TWISTD, "-n", "chatroom", "--max-clients", "zero"], environment(),
                  path=str(tmp_path))  # fmt: skip
    processes.append(child)
    assert await child.wait() != 0
    assert "'zero' is not a whole number of at least 1" in child.output + child.errors


@pytest_twisted.ensureDeferred
async def test_portInUseFailsAtStartup(reactor, processes, tmp_path):
    _, port = await start_server(reactor, processes, tmp_path)
    second = spawn(reactor, [TWISTD, "-n", "--pidfile=", "chatroom", "--port", f"tcp6:{port}"],
                   environment(), path=str(tmp_path))  # fmt: skip
    processes.append(second)
    assert await second.wait() != 0
    assert re.search(r"Address already in use|CannotListenError", second.output + second.errors)


@pytest_twisted.ensureDeferred
async def test_daemonized(reactor, processes, tmp_path):
    """Without -n, twistd forks into the background with a pidfile and a logfile."""
    pidfile, logfile = tmp_path / "chat.pid", tmp_path / "chat.log"
    launcher = spawn(reactor, [TWISTD, f"--pidfile={pidfile}", f"--logfile={logfile}", "chatroom",
                               "--port", r"tcp6:0:interface=\:\:1"], environment(),
                     path=str(tmp_path))  # fmt: skip
    processes.append(launcher)
    assert await launcher.wait() == 0
    pid = int(pidfile.read_text())
    try:
        log = await _wait_for(lambda: re.search(r"starting on (\d+)", logfile.read_text()))
        client = await join(reactor, int(log.group(1)), "daemonic")
        os.kill(pid, signal.SIGTERM)
        await client.closed
        assert client.lines[-1].endswith("The server is shutting down. Goodbye!")
        await _wait_for(lambda: not pidfile.exists())
        assert "joined: daemonic" in logfile.read_text()
    finally:
        if pidfile.exists():
            os.kill(pid, signal.SIGKILL)


async def _wait_for(check, timeout=10.0, every=0.05):
    """Poll a condition a daemon's files reveal (it is not our child to wait on)."""
    from twisted.internet import reactor

    for _ in range(int(timeout / every)):
        result = check()
        if result:
            return result
        await task.deferLater(reactor, every, lambda: None)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest_twisted.ensureDeferred
async def test_helpListsThePluginAndEveryOption(reactor, processes, tmp_path):
    listing = spawn(reactor, [TWISTD, "--help"], environment(), path=str(tmp_path))
    processes.append(listing)
    await listing.wait()
    assert re.search(r"^\s+chatroom\s+A multi-user chat server", listing.output, re.M)
    helped = spawn(reactor, [TWISTD, "chatroom", "--help"], environment(), path=str(tmp_path))
    processes.append(helped)
    await helped.wait()
    for option in ["--port", "--max-clients", "--max-per-ip", "--exempt", "--max-line",
                   "--max-line-hard", "--rate", "--burst", "--flood-kick", "--max-output",
                   "--register-timeout", "--idle-timeout", "--shutdown-grace", "--no-telnet",
                   "--limit-loopback", "--no-write-through", "--version"]:  # fmt: skip
        assert option in helped.output, option


@pytest.mark.skipif(not INSTALLED, reason="chatroom is not installed (an editable dev install)")
def test_pluginShippedWithoutAnInitFile():
    """
    A real install puts the dropin next to Twisted's own and ships no
    __init__.py that would replace Twisted's (and hide every other plugin).
    """
    plugin = installed_plugin()
    assert plugin.is_file()
    assert plugin.parent == Path(sysconfig.get_paths()["purelib"]) / "twisted" / "plugins"
    assert "pluginPackagePaths" in (plugin.parent / "__init__.py").read_text()
