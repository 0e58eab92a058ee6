"""
Several C{twistd chatroom --redis} processes (nodes) and one real Redis acting
as one room: every protocol rule across nodes, one order for everyone, a node
killed, Redis stopped and started again, a node too slow to read.
"""

from __future__ import annotations

import os
import re
import signal

import pytest
import pytest_twisted
from twisted.internet import defer, endpoints

from chatroom.cluster import wire
from chatroom.cluster.wire import encode as encode_op
from chatroom.events import Private, from_fields, to_fields
from chatroom.testing import connect, join, quit_all
from chatroom.web.wsclient import JsonClient
from tests.integration.process import python, spawn, stop_all
from tests.integration.test_twistd import TWISTD, environment

TTL = "1.5"  # seconds: a dead node is announced within about 2 s


@pytest.fixture
def processes(reactor):
    started = []
    yield started
    pytest_twisted.blockon(defer.ensureDeferred(stop_all(started)))


async def start_nodes(reactor, processes, tmp_path, redis, count, *options):
    """C{count} nodes on their own ports, each linked to Redis and in the room."""
    nodes = []
    for n in range(count):
        argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
                "--port", r"tcp6:0:interface=\:\:1", "--redis", redis.url,
                "--cluster-ttl", TTL, "--node-id", f"node{n}", *options]  # fmt: skip
        child = spawn(reactor, argv, environment(), path=str(tmp_path))
        processes.append(child)
        nodes.append(child)
    ports = []
    for child in nodes:
        ports.append(int((await child.expect(r"ChatFactory starting on (\d+)")).group(1)))
    for child in nodes:
        await child.expect(r"Redis .* connected")
    return nodes, ports


def stamped(text: str) -> str:
    return r"^\[\d\d:\d\d:\d\d\] " + text + "$"


@pytest_twisted.ensureDeferred
async def test_threeNodesOneRoom(reactor, processes, tmp_path, redis):
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 3)
    ala = await join(reactor, ports[0], "ala", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    await ala.expect(stamped(r"\* bob \(GL1\) joined \(2/150 online\)"))
    cyd = await join(reactor, ports[2], "cyd", "GL2")
    await ala.expect(r"\* cyd \(GL2\) joined \(3/150 online\)")
    await bob.expect(r"\* cyd \(GL2\) joined \(3/150 online\)")

    # A name is taken on every node, whatever its case.
    taken = await connect(reactor, ports[1])
    taken.say("ALA")
    await taken.expect("^Error: the name ALA is taken; pick another.$")

    ala.say("hello everyone")
    await bob.expect(stamped(r"ala \(GL3\): hello everyone"))
    await cyd.expect(stamped(r"ala \(GL3\): hello everyone"))

    ala.say("/msg cyd the password is swordfish")
    await cyd.expect(stamped(r"\[private\] ala \(GL3\): the password is swordfish"))
    await ala.expect(stamped(r"\[private to cyd\] the password is swordfish"))

    bob.say("/nick robert")
    for client in (ala, bob, cyd):
        await client.expect(stamped(r"\* bob is now known as robert"))
    taken.say("bob", "GL9")  # free again once renamed
    await taken.expect("^Hello bob ")
    for client in (ala, cyd):
        await client.expect(r"\* bob \(GL9\) joined \(4/150 online\)")

    cyd.say("/online")
    await cyd.expect(r"^Online \(4/150\): ala \(GL3\), robert \(GL1\), cyd \(GL2\), bob \(GL9\)$")

    # One order for everyone: three senders on three nodes at once.
    senders = (ala, bob, cyd)
    for i in range(5):
        for number, client in enumerate(senders):
            client.say(f"order {number}.{i}")
    for client in (*senders, taken):
        for _ in range(15 if client is taken else 10):
            await client.expect(r": order \d\.\d$")

    def order(client):
        return [
            line.rsplit(" ", 1)[1] for line in client.lines if re.search(r": order \d\.\d$", line)
        ]

    everything = order(taken)
    for client in senders:
        seen = order(client)
        assert seen == [item for item in everything if item in seen]

    cyd.say("/wyjdz")
    await cyd.closed
    await ala.expect(stamped(r"\* cyd \(GL2\) left"))
    await bob.expect(stamped(r"\* cyd \(GL2\) left"))

    # chatroom-client on the third node, talking with nc on the first.
    env = {**os.environ, "NO_COLOR": "", "TERM": "xterm"}
    argv = python("-m", "chatroom.client", "::1", str(ports[2]), "--name", "dora", "--group", "GL5")
    dora = spawn(reactor, argv, env)
    processes.append(dora)
    await dora.expect(r"^Hello dora \(GL5\), you are in: 4/150 online")
    await ala.expect(stamped(r"\* dora \(GL5\) joined \(4/150 online\)"))
    dora.write("hi from the client\n")
    await ala.expect(stamped(r"dora \(GL5\): hi from the client"))
    ala.say("/msg dora psst")
    await dora.expect(r"\[private\] ala \(GL3\): psst$")
    dora.write("/wyjdz\n")
    assert await dora.wait() == 0
    await ala.expect(stamped(r"\* dora \(GL5\) left"))
    await quit_all(ala, bob, taken)

    # Private text is nowhere: not in any node's log, not in any Redis key.
    for child in nodes:
        assert "swordfish" not in child.output
    client = await redis.client()
    keys = await client.keys("*")
    for key in keys:
        if (await client.type(key)) == "string":
            assert "swordfish" not in str(await client.get(key))
    await client.disconnect()


@pytest_twisted.ensureDeferred
async def test_simultaneousClaimsOneWinner(reactor, processes, tmp_path, redis):
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2)
    for round in range(5):
        first, second = await connect(reactor, ports[0]), await connect(reactor, ports[1])
        await first.expect("^Your name")
        await second.expect("^Your name")
        name = f"zed{round}"
        first.say(name)  # both in the same reactor turn: the claims race in Redis
        second.say(name.upper())
        outcomes = []
        for client in (first, second):
            line = await client.expect("^(Your lab group|Error: the name)")
            outcomes.append(line.startswith("Your lab group"))
        assert sorted(outcomes) == [False, True]
        await quit_all(first, second)


@pytest_twisted.ensureDeferred
async def test_killedNodeAnnouncedAndItsNamesFreed(reactor, processes, tmp_path, redis):
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 3)
    ala = await join(reactor, ports[0], "ala", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    cyd = await join(reactor, ports[2], "cyd", "GL2")
    for client in (ala, bob):
        await client.expect(r"\* cyd \(GL2\) joined")
    nodes[2].kill()  # SIGKILL: no goodbye; only the heartbeat's silence tells
    await cyd.closed
    for client in (ala, bob):
        await client.expect(stamped(r"\* cyd \(GL2\) left"), timeout=float(TTL) * 3)
    # Exactly once, by whichever node noticed first.
    await nodes[0].expect(r"node node2 gone: 1 members dropped")
    await nodes[1].expect(r"node node2 gone: 1 members dropped")
    again = await join(reactor, ports[0], "cyd", "GL4")
    await bob.expect(r"\* cyd \(GL4\) joined \(3/100 online\)")
    await quit_all(ala, bob, again)
    for client in (ala, bob):
        assert len([line for line in client.lines if "cyd (GL2) left" in line]) == 1


@pytest_twisted.ensureDeferred
async def test_nodeKilledAndRestartedUnderItsIdLetsItsPeopleBackAtOnce(
    reactor, processes, tmp_path, redis
):
    """
    systemd restarts a killed node at once, with the same --node-id: its
    people come back under their names (not after the TTL, here a minute),
    and the others see them leave and join, never one renamed into another.
    """
    options = ("--cluster-ttl", "60")
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2, *options)
    ala = await join(reactor, ports[0], "ala", "GL3")
    cyd = await join(reactor, ports[1], "cyd", "GL2")
    await ala.expect(r"\* cyd \(GL2\) joined")
    nodes[1].kill()
    await cyd.closed
    argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
            "--port", r"tcp6:0:interface=\:\:1", "--redis", redis.url,
            "--node-id", "node1", *options]  # fmt: skip
    again = spawn(reactor, argv, environment(), path=str(tmp_path))
    processes.append(again)
    port = int((await again.expect(r"ChatFactory starting on (\d+)")).group(1))
    await again.expect(r"Redis .* connected")
    await ala.expect(stamped(r"\* cyd \(GL2\) left"))
    dan = await join(reactor, port, "dan", "GL5")
    cyd = await join(reactor, port, "cyd", "GL2")
    await ala.expect(stamped(r"\* dan \(GL5\) joined \(2/100 online\)"))
    await ala.expect(stamped(r"\* cyd \(GL2\) joined \(3/100 online\)"))
    await quit_all(ala, dan, cyd)
    assert not [line for line in ala.lines if "known as" in line]


@pytest_twisted.ensureDeferred
async def test_redisGoesAndComesBack(reactor, processes, tmp_path, redis):
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2)
    ala = await join(reactor, ports[0], "ala", "GL3")
    ola = await join(reactor, ports[0], "ola", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    await ala.expect(r"\* bob \(GL1\) joined")
    await ola.expect(r"\* bob \(GL1\) joined")

    await redis.stop()
    split = "^The room is split: "
    for client in (ala, ola, bob):
        await client.expect(split)
    # Nobody is disconnected; the people on one node keep talking.
    ala.say("still here")
    await ola.expect(stamped(r"ala \(GL3\): still here"))
    ala.say("/online")
    await ala.expect(r"^Online \(2/50\): ala \(GL3\), ola \(GL3\)$")
    # One name given on both sides of the split (the earlier claim keeps it),
    # and bob takes the name of someone out of his sight.
    eve_a = await join(reactor, ports[0], "eve", "GLA")
    eve_b = await join(reactor, ports[1], "Eve", "GLB")
    bob.say("/nick ala")
    await bob.expect(stamped(r"\* bob is now known as ala"))

    # node1 heals first and holds both names in the empty Redis until node0,
    # whose claims are older, comes back: the order that once showed them twice.
    os.kill(nodes[0].transport.pid, signal.SIGSTOP)
    await redis.start()
    await nodes[1].expect(r"Redis .* connected")
    os.kill(nodes[0].transport.pid, signal.SIGCONT)
    whole = "^The room is whole again; "
    for client in (ala, ola, bob, eve_a, eve_b):
        await client.expect(whole, timeout=10)
    await eve_b.expect(
        "^While the room was split, someone elsewhere took the name Eve first; you are now Eve2.$"
    )
    await bob.expect(
        "^While the room was split, someone elsewhere took the name ala first; you are now ala2.$"
    )
    for client in (ala, ola, eve_a):
        await client.expect(stamped(r"\* bob is now known as ala2"))
    ala.say("/online")
    online = await ala.expect(r"^Online \(5/100\): ")
    assert sorted(online.split(": ", 1)[1].split(", ")) == [
        "Eve2 (GLB)", "ala (GL3)", "ala2 (GL1)", "eve (GLA)", "ola (GL3)"]  # fmt: skip
    bob.say("/online")
    await bob.expect(r"^Online \(5/100\): ")
    ala.say("across again")
    await bob.expect(stamped(r"ala \(GL3\): across again"))
    await eve_b.expect(stamped(r"ala \(GL3\): across again"))
    await quit_all(ala, ola, bob, eve_a, eve_b)
    for client in (ala, ola, bob):
        assert len([line for line in client.lines if re.search(split, line)]) == 1
        assert len([line for line in client.lines if re.search(whole, line)]) == 1
    await nodes[1].expect(r"name conflict: Eve was claimed earlier elsewhere; Eve2 here now")

    # node0's members: nothing of node1 before the room is whole again; then
    # node1's members once each, under names nobody else has, with the room's n/max.
    for client in (ala, ola):
        lines = since(client, split)
        healed = next(i for i, line in enumerate(lines) if re.search(whole, line))
        assert not [line for line in lines[:healed] if re.search(r"bob|GL1|GLB", line)]
        shown = [line[11:] for line in lines[healed:] if re.search(r" joined \(| known as ", line)]
        assert len(shown) == 2, shown
        assert re.fullmatch(r"\* Eve2 \(GLB\) joined \([45]/100 online\)", min(shown))
        assert max(shown) == "* bob is now known as ala2"
    # node1's: node0's eve and ala shown only once node1's are called otherwise.
    for client in (bob, eve_b):
        lines = since(client, whole)
        for name in ("eve", "ala"):
            renamed = next(
                i for i, line in enumerate(lines) if f"* {name} is now known as" in line.lower()
            )
            shown = [i for i, line in enumerate(lines) if re.search(rf"\] \* {name} \(GL", line)]
            assert all(i > renamed for i in shown), lines


def since(client, pattern: str) -> list[str]:
    """The lines a client read after the first matching C{pattern}."""
    start = next(i for i, line in enumerate(client.lines) if re.search(pattern, line))
    return client.lines[start + 1 :]


@pytest_twisted.ensureDeferred
async def test_nodeTooSlowToReadIsCutOffAndRecovers(reactor, processes, tmp_path, redis):
    """
    Redis cuts off a subscriber that doesn't read (its pub/sub output limit):
    that node is split from the room like when Redis goes, and heals the same way.
    """
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2)
    ala = await join(reactor, ports[0], "ala", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    await ala.expect(r"\* bob \(GL1\) joined")
    control = await redis.client()
    await control.execute_command("CONFIG", "SET", "client-output-buffer-limit", "pubsub 65536 0 0")
    os.kill(nodes[1].transport.pid, signal.SIGSTOP)  # node1 stops reading (and everything else)
    # Private traffic for a member node1 doesn't have: ignored when it is read.
    event = to_fields(Private(0.0, "x", "x", "." * 60000))
    junk = encode_op(wire.Op("whisper", "test", "nobody", from_fields(event)))
    for _ in range(400):  # 24 MB: more than the kernel's socket buffers hold
        control.publish("chatroom:node:node1", junk)
    await control.ping()
    await redis.process.expect("output buffer limits")
    os.kill(nodes[1].transport.pid, signal.SIGCONT)
    await nodes[1].expect(r"Redis .* lost; the room is split")
    await bob.expect("^The room is split: ")
    await bob.expect("^The room is whole again; ")
    ala.say("did you miss me")
    await bob.expect(stamped(r"ala \(GL3\): did you miss me"))
    await control.disconnect()
    await quit_all(ala, bob)
    assert not [line for line in ala.lines if "split" in line]  # node0 never was


@pytest_twisted.ensureDeferred
async def test_stoppedNodeSaysGoodbyeAtOnce(reactor, processes, tmp_path, redis):
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2, "--cluster-ttl", "60")
    ala = await join(reactor, ports[0], "ala", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    await ala.expect(r"\* bob \(GL1\) joined \(2/100 online\)")
    nodes[1].signal("TERM")
    await bob.expect(stamped(r"\* The server is shutting down. Goodbye!"))
    # twistd ends by re-raising the signal that stopped it, after a clean stop.
    assert await nodes[1].wait() == -signal.SIGTERM
    assert "Server Shut Down." in nodes[1].output
    # Not after the (here, one minute) TTL: the node said goodbye for bob.
    await ala.expect(stamped(r"\* bob \(GL1\) left"), timeout=5)
    ala.say("/online")
    await ala.expect(r"^Online \(1/50\): ala \(GL3\)$")
    again = await join(reactor, ports[0], "bob", "GL2")  # the name is free at once
    await quit_all(ala, again)


@pytest_twisted.ensureDeferred
async def test_browserOnOneNodeTcpOnAnother(reactor, processes, tmp_path, redis):
    web = r"tcp6:0:interface=\:\:1"
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2, "--web", web)
    site = int(re.search(r"Site starting on (\d+)", nodes[0].output).group(1))
    bob = await join(reactor, ports[1], "bob", "GL1")
    browser = JsonClient(reactor, f"[::1]:{site}")
    await endpoints.connectProtocol(endpoints.TCP6ClientEndpoint(reactor, "::1", site), browser)
    await browser.opened
    browser.say("Żaneta", "GL2")
    registered = await browser.expect("registered")
    assert (registered["online"], registered["max"]) == (2, 100)
    await bob.expect(stamped(r"\* Żaneta \(GL2\) joined \(2/100 online\)"))
    bob.say("hello browser")
    public = await browser.expect("public")
    assert (public["name"], public["text"]) == ("bob", "hello browser")
    browser.say("/msg bob cześć z przeglądarki")
    await bob.expect(stamped(r"\[private\] Żaneta \(GL2\): cześć z przeglądarki"))
    browser.say("/wyjdz")
    await browser.closed
    await bob.expect(stamped(r"\* Żaneta \(GL2\) left"))
    await quit_all(bob)


@pytest_twisted.ensureDeferred
async def test_operatorOnOneNodeModeratesTheWholeRoom(reactor, processes, tmp_path, redis):
    password = tmp_path / "op-password"
    password.write_text("sesame\n", encoding="utf-8")
    options = ("--op-password-file", str(password))
    nodes, ports = await start_nodes(reactor, processes, tmp_path, redis, 2, *options)
    ala = await join(reactor, ports[0], "ala", "GL3")
    bob = await join(reactor, ports[1], "bob", "GL1")
    cyd = await join(reactor, ports[1], "cyd", "GL2")
    await ala.expect(r"\* cyd \(GL2\) joined")
    ala.say("/op sesame")
    await ala.expect("^You are an operator now")

    ala.say("/announce quiz at noon")
    for client in (ala, bob, cyd):
        await client.expect(stamped(r"\[announcement\] ala: quiz at noon"))

    ala.say("/mute bob 5")
    await bob.expect(r"^ala muted you for 5 minutes: the room won't see your lines until then\.$")
    bob.say("can you hear me")
    await bob.expect(r"^Error: you are muted for 5 more minutes; your line was not sent\.$")
    ala.say("/unmute bob")
    await bob.expect(r"^ala lifted your mute; you can speak again\.$")
    bob.say("free again")
    await ala.expect(stamped(r"bob \(GL1\): free again"))

    ala.say("/kick cyd spam")
    await cyd.expect(r"^Error: you were kicked out by ala \(spam\); closing the connection\.$")
    await cyd.closed
    for client in (ala, bob):
        await client.expect(stamped(r"\* cyd \(GL2\) was kicked out by ala \(spam\)"))
    await nodes[1].expect(r"moderation: ala \(on node node0\) removed cyd")
    await quit_all(ala, bob)
    assert not [line for line in ala.lines + bob.lines if "can you hear me" in line]


@pytest_twisted.ensureDeferred
async def test_aNodeStartedLaterReplaysTheRoomsHistory(reactor, processes, tmp_path, redis):
    [first], [port] = await start_nodes(reactor, processes, tmp_path, redis, 1, "--history", "2")
    ala = await join(reactor, port, "ala", "GL3")
    for text in ("one", "two", "three"):
        ala.say(text)
    await first.expect(r"public ala: three")
    # A second node, started after all that: its newcomers see the room's last two.
    argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
            "--port", r"tcp6:0:interface=\:\:1", "--redis", redis.url,
            "--history", "2", "--node-id", "late"]  # fmt: skip
    late = spawn(reactor, argv, environment(), path=str(tmp_path))
    processes.append(late)
    late_port = int((await late.expect(r"ChatFactory starting on (\d+)")).group(1))
    await late.expect(r"Redis .* connected")
    bob = await join(reactor, late_port, "bob", "GL1")
    await bob.expect(r"\[history\] ala \(GL3\): three$")
    assert [line[11:] for line in bob.lines if "[history]" in line] == [
        "[history] ala (GL3): two",
        "[history] ala (GL3): three",
    ]
    await quit_all(ala, bob)
