"""
A ban in a cluster takes the banned person's lines out of the history: on
every node, and in Redis's list, which a node started later replays.  The
nodes listen behind the PROXY protocol so that the spammer has an address
that can be banned (loopback never is).
"""

from __future__ import annotations

import pytest_twisted

from tests.integration.process import spawn
from tests.integration.test_cluster import processes  # noqa: F401 (a fixture)
from tests.integration.test_proxy_protocol import join_via_proxy
from tests.integration.test_twistd import TWISTD, environment

PASSWORD = "sesame"


async def start_node(reactor, processes, tmp_path, redis, node_id: str) -> int:  # noqa: F811
    password = tmp_path / "op-password"
    password.write_text(PASSWORD + "\n")
    argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
            "--port", r"haproxy:tcp6:0:interface=\:\:1", "--redis", redis.url,
            "--cluster-ttl", "1.5", "--node-id", node_id, "--history", "10",
            "--op-password-file", str(password)]  # fmt: skip
    child = spawn(reactor, argv, environment(), path=str(tmp_path))
    processes.append(child)
    port = int((await child.expect(r"ChatFactory \(PROXY\) starting on (\d+)")).group(1))
    await child.expect(r"Redis .* connected")
    return port


def history(client) -> list[str]:
    return [line[11:] for line in client.lines if "[history]" in line]


@pytest_twisted.ensureDeferred
async def test_aBanClearsTheSpamFromTheClustersHistory(reactor, processes, tmp_path, redis):  # noqa: F811
    first = await start_node(reactor, processes, tmp_path, redis, "node0")
    second = await start_node(reactor, processes, tmp_path, redis, "node1")
    spam = await join_via_proxy(reactor, first, "192.0.2.7", "spam", host="::1")
    ala = await join_via_proxy(reactor, second, "192.0.2.1", "ala", host="::1")
    spam.say("buy pills")
    await ala.expect(r"spam \(GL1\): buy pills$")
    ala.say("hello", f"/op {PASSWORD}", "/ban spam 5 spam")
    await spam.closed
    await ala.expect(r"\* spam \(GL1\) was banned for 5 minutes by ala \(spam\)$")

    for port, name in ((first, "ola"), (second, "eve")):
        newcomer = await join_via_proxy(reactor, port, "192.0.2.8", name, host="::1")
        await newcomer.expect(r"\[history\] ala \(GL1\): hello$")
        assert history(newcomer) == ["[history] ala (GL1): hello"]
    # A node started now loads the history from Redis: no spam there either.
    late = await start_node(reactor, processes, tmp_path, redis, "late")
    newcomer = await join_via_proxy(reactor, late, "192.0.2.9", "bob", host="::1")
    await newcomer.expect(r"\[history\] ala \(GL1\): hello$")
    assert history(newcomer) == ["[history] ala (GL1): hello"]
