"""
The Lua scripts that keep names unique and nodes counted, against a real Redis:
one winner of a simultaneous claim, the older claim after a split, releases
that only release one's own, and a dead node announced exactly once.
"""

from __future__ import annotations

import pytest_twisted
import txredisapi
from twisted.internet import defer, endpoints, protocol

from chatroom.cluster import claims
from chatroom.cluster.claims import Claims, claim_value

TTL = 60_000


async def two_nodes(redis):
    a, b = await redis.client(), await redis.client()
    return a, b, Claims(a, "t", TTL, "a"), Claims(b, "t", TTL, "b")


@pytest_twisted.ensureDeferred
async def test_simultaneousClaimsHaveOneWinner(redis):
    a, b, ca, cb = await two_nodes(redis)
    for n in range(20):
        won = await defer.gatherResults(
            [ca.claim(f"k{n}", claim_value(n, "a", 1)), cb.claim(f"k{n}", claim_value(n, "b", 1))]
        )
        assert sorted(won) == [False, True]
        assert (f"k{n}" in ca.held) == won[0] and (f"k{n}" in cb.held) == won[1]
    await a.disconnect(), await b.disconnect()


@pytest_twisted.ensureDeferred
async def test_aNewClaimNeverTakesAHeldName(redis):
    """Even from a node whose clock is behind: only a refresh compares ages."""
    a, b, ca, cb = await two_nodes(redis)
    assert await ca.claim("ala", claim_value(1000.0, "a", 1))
    assert not await cb.claim("ala", claim_value(1.0, "b", 1))
    assert cb.held == {}
    await a.disconnect(), await b.disconnect()


@pytest_twisted.ensureDeferred
async def test_afterASplitTheOlderClaimKeepsTheName(redis):
    for older_first in (True, False):
        a, b, ca, cb = await two_nodes(redis)
        await a.execute_command("FLUSHALL")
        # Both gave "eve" away while Redis was gone; a's was first.
        ca.held["eve"] = claim_value(100.0, "a", 1)
        cb.held["eve"] = claim_value(200.0, "b", 1)
        ca.held["ola"] = claim_value(300.0, "a", 2)
        order = (ca, cb) if older_first else (cb, ca)
        # Whichever refreshes first, after two rounds (two heartbeats) a has
        # lost nothing and b has lost eve, once.
        lost = {id(ca): [], id(cb): []}
        for _ in range(2):
            for node in order:
                lost[id(node)] += await node.refresh()
        assert (lost[id(ca)], lost[id(cb)]) == ([], ["eve"])
        assert await a.get("t:name:eve") == claim_value(100.0, "a", 1)
        assert "eve" not in cb.held and "ola" in ca.held
        await a.disconnect(), await b.disconnect()


@pytest_twisted.ensureDeferred
async def test_releaseOnlyOursAndRefreshRestoresForgotten(redis):
    a, b, ca, cb = await two_nodes(redis)
    assert await ca.claim("ala", claim_value(1.0, "a", 1))
    cb.held["ala"] = claim_value(2.0, "b", 1)  # b believes it has it
    await cb.release("ala")
    assert await a.get("t:name:ala") == claim_value(1.0, "a", 1)
    await a.execute_command("DEL", "t:name:ala")  # Redis forgot (restarted)
    assert await ca.refresh() == []
    assert await a.get("t:name:ala") == claim_value(1.0, "a", 1)
    assert 0 < await a.execute_command("PTTL", "t:name:ala") <= TTL
    await ca.release_all()
    assert await a.exists("t:name:ala") == 0
    await a.disconnect(), await b.disconnect()


@pytest_twisted.ensureDeferred
async def test_deadNodeAnnouncedOnceWhoeverNotices(redis, reactor):
    control = await redis.client()
    heard: list[str] = []
    done = defer.Deferred()

    class Listener(txredisapi.SubscriberProtocol):
        def messageReceived(self, pattern, channel, message):
            heard.append(message)
            if "ping" in message:
                done.callback(None)

    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", redis.port)
    listener = await endpoint.connect(protocol.Factory.forProtocol(Listener))
    await listener.subscribe("t:room")

    def beat(node):
        return control.eval(claims.BEAT, ["t:nodes"], [node, 50, TTL, "t", "t:room"])

    for node in ("a", "b", "c"):
        reply = await beat(node)
    assert dict(zip(reply[::2], reply[1::2], strict=True)) == {"a": 50, "b": 50, "c": 50}
    names = Claims(control, "t", TTL, "c")
    assert await names.claim("cyd", claim_value(1.0, "c", 1))
    await control.execute_command("DEL", "t:alive:c")  # c's TTL ran out
    await defer.gatherResults([beat("a"), beat("b"), beat("a")])
    await control.publish("t:room", "ping")
    await done
    assert heard == ['{"v":1,"op":"gone","node":"c"}', "ping"]
    assert await control.exists("t:name:cyd") == 0  # free at once, not at its TTL
    gone = listener.whenDisconnected()
    listener.transport.loseConnection()
    await gone
    await control.disconnect()
