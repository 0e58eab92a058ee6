# -*- test-case-name: tests.test_cluster_claims -*-
"""
Names unique across the cluster: each one a Redis key, claimed atomically.

A claim is the key C{PREFIX:name:<casefolded name>} holding C{since:node:serial}
(C{since} in microseconds, zero-padded, so that string order is time order)
with a TTL (in milliseconds) the node's heartbeat keeps refreshing: a node that dies loses its
names within the TTL, without anyone having to clean up after it.

Two kinds of claim, one Lua script (atomic in Redis, so of two nodes claiming
one name at the same moment exactly one wins):

  - C{new} (registering, renaming): only a free name, or one already ours;
  - C{keep} (the heartbeat, and healing after a split): ours stays ours; a
    name someone else holds goes to the I{older} claim.  While Redis was away
    two nodes may each have given a name to someone; when it returns, both
    refresh, and whichever order they do it in, the earlier claim keeps the
    name and the later one learns it lost, so every node agrees on the outcome.

A release deletes the key only if it still holds our claim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.internet import defer

CLAIM = """
local ttl, mode, names = ARGV[1], ARGV[2], ARGV[3]
local won = {}
for i, key in ipairs(KEYS) do
  local mine = ARGV[i + 3]
  local held = redis.call('GET', key)
  if (not held) or held == mine or (mode == 'keep' and mine < held) then
    redis.call('SET', key, mine, 'PX', ttl)
    redis.call('SADD', names, key)
    won[i] = 1
  else
    won[i] = 0
  end
end
redis.call('PEXPIRE', names, ttl * 3)
return won
"""
"""
Claim names (C{KEYS}) with our values (C{ARGV[4:]}): answers 1 (ours) or 0
for each.  The node's set of names (C{ARGV[3]}) lets whoever buries the node
free them at once.
"""

RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then redis.call('DEL', key) end
  redis.call('SREM', ARGV[1], key)
end
return 0
"""

_FREE_NAMES = """
    local names = prefix .. ':names:' .. id
    for _, key in ipairs(redis.call('SMEMBERS', names)) do
      local held = redis.call('GET', key)
      if held and string.find(held, ':' .. id .. ':', 1, true) then redis.call('DEL', key) end
    end
    redis.call('DEL', names)
"""
"""Free every name node C{id} still holds (Lua, with C{prefix} and C{id} set)."""

BEAT = (
    """
local nodes, me, max, ttl, prefix, channel = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('SET', prefix .. ':alive:' .. me, max, 'PX', ttl)
redis.call('HSET', nodes, me, max)
for _, id in ipairs(redis.call('HKEYS', nodes)) do
  if redis.call('EXISTS', prefix .. ':alive:' .. id) == 0 then
    -- HDEL inside the script: of all the nodes noticing, exactly one does this.
    redis.call('HDEL', nodes, id)
    -- Its names are free now, not when their own TTL runs out a moment later.
"""
    + _FREE_NAMES
    + """
    redis.call('PUBLISH', channel, '{"v":1,"op":"gone","node":' .. cjson.encode(id) .. '}')
  end
end
return redis.call('HGETALL', nodes)
"""
)
"""
A node's heartbeat: it is alive (a key with the TTL) and takes C{max}
clients; any node whose key has expired is taken off the list, its names
freed, and announced C{gone} on the room's channel (see L{chatroom.cluster.wire}), exactly once,
by whichever node's heartbeat noticed first.  Answers every node's max.
"""

BYE = """
local nodes, me, prefix, channel = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
redis.call('DEL', prefix .. ':alive:' .. me)
if redis.call('HDEL', nodes, me) == 1 then
  redis.call('PUBLISH', channel, '{"v":1,"op":"gone","node":' .. cjson.encode(me) .. '}')
end
return 0
"""
"""A node stopping: off the list, and its members announced gone (once)."""

RESTART = (
    """
local prefix, id = ARGV[1], ARGV[2]
"""
    + _FREE_NAMES
    + """
return 0
"""
)
"""
A node starting: the names an earlier run with the same node id left
behind (killed, restarted before its TTL ran out) are free at once, so
its people can come back under their names.
"""

SAY = """
local history, channel, payload, size = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('PUBLISH', channel, payload)
redis.call('RPUSH', history, unpack(ARGV, 4))
redis.call('LTRIM', history, -size, -1)
return 0
"""
"""
A turn's operations (C{ARGV[2]}) published, and its public lines
(C{ARGV[4:]}, one entry each) kept in the room's capped history list in the
same step, so the list's order is the channel's.
"""

FORGET = """
local gone = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, op = pcall(cjson.decode, item)
  if ok and type(op) == 'table' and type(op.event) == 'table' and op.event.name == ARGV[1] then
    gone = gone + redis.call('LREM', KEYS[1], 0, item)
  end
end
return gone
"""
"""The public lines of one name (C{ARGV[1]}) dropped from the history list: someone banned."""

BATCH = 500
"""Names per script call: big enough to be cheap, small enough not to stall Redis."""


class Evaluator(Protocol):
    def eval(self, script: str, keys: list[str], args: list[object]) -> defer.Deferred: ...


def claim_value(since: float, node: str, serial: int) -> str:
    """What a claim holds: comparable as a string, oldest first."""
    return f"{int(since * 1_000_000):017d}:{node}:{serial}"


class Claims:
    """
    This node's names in Redis.

    @ivar held: name key -> our claim value, for every name this node holds
        or is claiming (members, registrants, renames under way).
    """

    def __init__(self, redis: Evaluator, prefix: str, ttl: int, node: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.names = f"{prefix}:names:{node}"
        self.held: dict[str, str] = {}

    def _key(self, name_key: str) -> str:
        return f"{self.prefix}:name:{name_key}"

    def claim(self, name_key: str, value: str) -> defer.Deferred[bool]:
        """Claim a free name: fires C{True} if it is ours now, C{False} if taken."""
        self.held[name_key] = value
        won = self.redis.eval(CLAIM, [self._key(name_key)], [self.ttl, "new", self.names, value])
        return won.addCallback(self._claimed, name_key, value)

    def _claimed(self, won: list[int], name_key: str, value: str) -> bool:
        if won[0]:
            return True
        if self.held.get(name_key) == value:
            del self.held[name_key]
        return False

    def release(self, name_key: str) -> defer.Deferred:
        """Let a name go (only if the key still holds our claim)."""
        value = self.held.pop(name_key, None)
        if value is None:
            return defer.succeed(None)
        released = self.redis.eval(RELEASE, [self._key(name_key)], [self.names, value])
        # Redis away: the claim's TTL lets the name go instead, and a later
        # refresh doesn't bring it back (it is no longer held).
        return released.addErrback(lambda failure: None)

    def release_all(self) -> defer.Deferred:
        held, self.held = self.held, {}
        return self._batches(RELEASE, held, lambda chunk: [self.names])

    def refresh(self) -> defer.Deferred[list[str]]:
        """
        Keep our names ours for another TTL, and take back those Redis forgot
        (it restarted).  Fires with the keys we lost to an older claim.
        """
        held = dict(self.held)
        return self._batches(CLAIM, held, lambda chunk: [self.ttl, "keep", self.names]).addCallback(
            self._lost, held
        )

    def _lost(self, results: list[int], held: dict[str, str]) -> list[str]:
        lost = []
        for (key, value), won in zip(held.items(), results, strict=True):
            if not won and self.held.get(key) == value:
                del self.held[key]
                lost.append(key)
        return lost

    def _batches(
        self, script: str, held: dict[str, str], head: Callable[[list], list]
    ) -> defer.Deferred[list[int]]:
        items = list(held.items())
        calls = []
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            calls.append(
                self.redis.eval(
                    script,
                    [self._key(key) for key, _ in chunk],
                    [*head(chunk), *(value for _, value in chunk)],
                )
            )
        gathered = defer.gatherResults(calls, consumeErrors=True)
        gathered.addErrback(lambda failure: failure.value.subFailure)
        return gathered.addCallback(
            lambda replies: [won for reply in replies for won in (reply or [])]
        )
