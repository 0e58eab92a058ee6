# -*- test-case-name: tests.test_cluster_node -*-
"""
The Redis bus: this process as one node of a room spread over several.

Every operation that all members must see in one order (join, leave, public
message, rename) is published on the room's one channel, and every node,
this one included, applies it when it comes back: Redis delivers a channel's
messages to each subscriber in the order it received them, so every member
on every node sees one order.  A private message is published on the target
node's own channel only: never stored in a key, never logged.

Membership: each node keeps a key alive with a TTL (L{claims.BEAT}) and
refreshes its names' claims at the same pace.  A node whose key expired is
announced C{gone} by whichever heartbeat notices first, exactly once; every
node then says its members have left, and their names are free with the TTL.

When Redis goes (or cuts this node off for reading too slowly), the room is
I{split}: members here keep talking among themselves (operations apply at
once, as in one process), each is told once, and the other nodes' members
are out of reach.  When it returns the node I{heals}: it refreshes its names
(a name given twice meanwhile goes to the older claim), tells its members
the room is whole again, renames those of its members who lost their name
(they are told), and only then publishes its roster and asks for everyone
else's.  Until it is whole it takes nothing from the others but moderation
decisions: their rosters, joins and lines would show a room it is not yet
part of (its hello makes every node send its roster again, so nothing of
the roster is missed).  What was said across the split is lost: Redis
pub/sub is at-most-once.

One name, two members: while Redis was away two nodes may each have given a
name to someone, and the node that refreshes its claims first takes the key
until the older claim's node refreshes too.  A member of another node whose
name is held here (or by a member shown from a third node) is therefore kept
out of sight, I{disputed}, until the name is settled: when the name is ours,
this node refreshes its claims at once, so the node that lost renames its
member and this one shows them under the new name.  Nobody ever sees one name
twice in the room.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
from dataclasses import asdict
from typing import TYPE_CHECKING

from twisted.application.service import Service
from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import events, messages
from chatroom.cluster import claims, wire
from chatroom.cluster.claims import BATCH, Claims, claim_value
from chatroom.cluster.link import Address, Link
from chatroom.events import Text
from chatroom.moderation import Ban
from chatroom.names import NAME_MAX, RuleError, name_key
from chatroom.room import Member, NameTaken

if TYPE_CHECKING:
    from chatroom.room import Room


def default_node_id() -> str:
    """host-pid-random: unique, readable in a log, safe in a key name."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32]
    return f"{host}-{os.getpid()}-{secrets.token_hex(2)}"


class RedisBus(Service):
    """
    A L{chatroom.bus.Bus} through Redis, and the service that keeps it.

    @ivar whole: linked to Redis and part of the whole room (else: split).
    @ivar local: this node's members and registrants, by member id.
    @ivar nodes: the other nodes' members as last known: node -> id -> member
        (kept through a split, hidden, to tell who came and went meanwhile).
    @ivar maxes: each node's --max-clients, from the heartbeat.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        address: Address,
        max_clients: int,
        ttl: float = 10.0,
        node_id: str | None = None,
        prefix: str = "chatroom",
        history: int = 0,
    ) -> None:
        self.reactor = reactor
        self.node = node_id or default_node_id()
        self.max_clients = max_clients
        self.ttl = ttl
        self.prefix = prefix
        self.history = history  # public messages kept in Redis for newcomers; 0: none
        self.channel = f"{prefix}:room"
        self.link = Link(
            reactor,
            address,
            [self.channel, self._inbox(self.node)],
            self._received,
            self._changed,
            ping_timeout=max(ttl / 3, 0.5),
        )
        self.claims = Claims(self.link, prefix, int(ttl * 1000), self.node)
        self.room: Room | None = None
        self.whole = False
        self.local: dict[str, Member] = {}
        self.nodes: dict[str, dict[str, Member]] = {}
        self.maxes: dict[str, int] = {}
        self._serial = itertools.count(1)
        # In member ids, so that a run restarted with the same node id never
        # reuses an id the others still know for someone of the earlier run.
        self._run = secrets.token_hex(3)
        self._forgotten = False  # the earlier run's names freed (the first heal)
        self._joining: dict[str, defer.Deferred[None]] = {}
        # This turn's operations for the room's channel: (JSON, a public line?, waiter).
        self._outbox: list[tuple[str, bool, defer.Deferred]] = []
        self._leaving: dict[str, tuple[Member, str]] = {}
        self._told_split = False
        self._healing = False
        self._missing: set[str] = set()
        # Nodes announced gone, until they say hello again: a heartbeat
        # answer read after the 'gone' (another connection) may still list them.
        self._buried: set[str] = set()
        # Other nodes' members kept out of the room while their name is also
        # someone else's here: id -> (member, the name they claim, shown before?).
        self._disputed: dict[str, tuple[Member, str, bool]] = {}
        self._renaming: dict[str, str] = {}  # our members' renames on their way: id -> name
        self._rechecking = False
        self._generation = 0  # bumped by each connection, so a stale heal stops
        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.clock = reactor

    def _inbox(self, node: str) -> str:
        return f"{self.prefix}:node:{node}"

    # The service

    def startService(self) -> None:
        super().startService()
        self.log.info(
            "cluster node {node}: connecting to Redis {address}",
            node=self.node,
            address=str(self.link.address),
        )
        self.link.start()
        self._beat.start(self.ttl / 3, now=False)

    @defer.inlineCallbacks
    def stopService(self):
        """Say this node's members are gone (everyone else is told), free the names."""
        super().stopService()  # from here on, our own 'gone' is a goodbye, not news
        if self._beat.running:
            self._beat.stop()
        self._flush()
        if self.link.up:
            try:
                yield self.link.eval(
                    claims.BYE,
                    [f"{self.prefix}:nodes"],
                    [self.node, self.prefix, self.channel],
                )
                yield self.claims.release_all()
            except Exception as e:  # Redis went away meanwhile: the TTL frees the names
                self.log.warn("cluster node {node}: goodbye failed: {why}", node=self.node, why=e)
        yield self.link.stop()

    # What the room asks (see chatroom.bus.Bus)

    def attach(self, room: Room) -> None:
        self.room = room
        room.capacity = self.max_clients
        # --metrics and /healthz read the link's state when asked.
        room.counts.redis_up = lambda: self.link.up

    def claim(self, member: Member) -> defer.Deferred[None] | None:
        member.id = f"{self.node}.{self._run}.{next(self._serial)}"
        self.local[member.id] = member
        value = self._value(member)
        if not self.whole:
            self.claims.held[member.key] = value  # settled when Redis is back
            return None
        claimed = self.claims.claim(member.key, value)
        claimed.addCallbacks(
            self._claimed, self._claim_failed, callbackArgs=(member,), errbackArgs=(member,)
        )
        return claimed

    def _claimed(self, won: bool, member: Member) -> None:
        if not won:
            self.local.pop(member.id, None)
            if self._disputed:
                # The one who has it may be waiting out of sight; the room
                # drops the reservation once this has failed.
                self.reactor.callLater(0, self._undispute)
            raise NameTaken(messages.NAME_TAKEN, name=member.name)

    def _claim_failed(self, failure, member: Member) -> None:
        # Redis went away mid-claim: the name is ours for now, as anything
        # claimed while split; the heal settles it.
        self.claims.held[member.key] = self._value(member)

    def join(self, member: Member, now: float) -> defer.Deferred[None] | None:
        if not self.whole:
            self.room.applied_join(member, now)
            return None
        joined: defer.Deferred[None] = defer.Deferred()
        self._joining[member.id] = joined
        event = events.Joined(now, member.name, member.group, 0, 0)
        self._publish(wire.Op("join", self.node, member.id, event)).addErrback(
            self._apply_here, self._joined_here, member, now
        )
        return joined

    def _joined_here(self, member: Member, now: float) -> None:
        joined = self._joining.pop(member.id, None)
        if member.id in self.local:
            self.room.applied_join(member, now)
        if joined is not None:
            joined.callback(None)

    def leave(self, member: Member, now: float, reason: str, left: events.Left | None) -> None:
        self.local.pop(member.id, None)
        self._renaming.pop(member.id, None)
        if self._joining.pop(member.id, None) is not None and left is None:
            # The others will see the join: they must see the leave.
            left = events.Left(now, member.name, member.group, 0, 0)
        if left is None or not self.whole:
            if left is not None:
                self.room.applied_leave(member, left, reason)
            self._release(member.key, member.pending)
            return
        self._leaving[member.id] = (member, reason)
        sent = self._publish(wire.Op("leave", self.node, member.id, left))
        sent.addErrback(self._apply_here, self._left_here, member.id, left)
        # Free the name once the leave is out: whoever takes it next joins after it.
        sent.addBoth(lambda _: self._release(member.key, member.pending))

    def _release(self, *keys: str | None) -> None:
        for key in keys:
            if key is not None:
                self.claims.release(key)

    def _left_here(self, id: str, left: events.Left) -> None:
        member, reason = self._leaving.pop(id, (None, ""))
        if member is not None:
            self.room.applied_leave(member, left, reason)

    def say(self, member: Member, text: str, now: float) -> None:
        if not self.whole:
            self.room.applied_say(member, text, now)
            return
        event = events.Public(now, member.name, member.group, text)
        sent = self._publish(wire.Op("say", self.node, member.id, event))
        sent.addErrback(self._apply_here, self.room.applied_say, member, text, now)

    def rename(self, member: Member, name: str, now: float) -> None:
        key = name_key(name)
        if not self.whole or key == member.key:
            if key != member.key:
                self.claims.held[key] = self._value(member)
                self.claims.release(member.key)
            self._announce_rename(member, name, now)
            return
        claimed = self.claims.claim(key, self._value(member))
        claimed.addCallback(self._rename_claimed, member, name, now)
        claimed.addErrback(self._apply_here, self._rename_claimed, True, member, name, now)

    def _value(self, member: Member) -> str:
        """What a claim of C{member}'s holds: now, this node, and their serial here."""
        return claim_value(self.reactor.seconds(), self.node, int(member.id.rsplit(".", 1)[1]))

    def _rename_claimed(self, won: bool, member: Member, name: str, now: float) -> None:
        if member.id not in self.local:
            self.claims.release(name_key(name))  # gone meanwhile
        elif not won:
            self.room.rename_refused(member, name)
        else:
            old = member.key
            # The old name is free once the rename is out, not before.
            self._announce_rename(member, name, now).addBoth(lambda _: self.claims.release(old))

    def _announce_rename(self, member: Member, name: str, now: float) -> defer.Deferred:
        if not self.whole:
            self.room.applied_rename(member, name, now)
            return defer.succeed(None)
        event = events.Renamed(now, member.name, name)
        self._renaming[member.id] = name  # what a roster published meanwhile says
        sent = self._publish(wire.Op("rename", self.node, member.id, event))
        return sent.addErrback(self._apply_here, self._renamed_here, member, name, now)

    def _renamed_here(self, member: Member, name: str, now: float) -> None:
        self._renaming.pop(member.id, None)
        self.room.applied_rename(member, name, now)

    def whisper(self, member: Member, target: Member, text: str, now: float) -> None:
        # Published to the target's node only, and never logged: not even
        # when it fails (the text would be in the failure).
        event = events.Private(now, member.name, member.group, text)
        sent = self._publish(wire.Op("whisper", self.node, target.id, event), target.node)
        sent.addErrback(lambda failure: None)

    # Moderation: decided where the operator is, applied everywhere

    def announce(self, member: Member, text: str, now: float) -> None:
        if not self.whole:
            self.room.applied_announcement(member, text, now)
            return
        event = events.Announcement(now, member.name, text)
        self._publish(wire.Op("announce", self.node, member.id, event)).addErrback(
            self._apply_here, self.room.applied_announcement, member, text, now
        )

    def remove(self, target: Member, by: str, now: float, why: str, minutes: int) -> None:
        data = {"by": by, "why": why, "minutes": minutes, "time": now}
        sent = self._publish(wire.Op("kick", self.node, target.id, data=data), target.node)
        sent.addErrback(lambda failure: None)  # split: out of reach, like a whisper

    def share(self, kind: str, data: dict[str, object]) -> None:
        if self.whole:
            self._publish(wire.Op(kind, self.node, data=data)).addErrback(lambda failure: None)

    def _on_announce(self, op: wire.Op) -> None:
        event = op.event
        member = self.local.get(op.id) if op.node == self.node else None
        if member is None:
            member = Member.remote(op.node, op.id, event.by, "")
        self.room.applied_announcement(member, event.text, event.time)

    def _on_kick(self, op: wire.Op) -> None:
        member = self.local.get(op.id)
        room = self.room
        if member is None or not room.is_present(member):
            return  # gone meanwhile
        by, why = str(op.data["by"]), str(op.data["why"])
        minutes, now = int(op.data["minutes"]), float(op.data["time"])
        if minutes:
            until = now + minutes * 60
            banned = room.moderation.ban_address(member.address, until, member.name, by, why)
            if banned is None:
                minutes = 0  # as on one server: a protected address is only kicked
            else:
                self.share("ban", asdict(banned))
        room.journal.info(
            "moderation: {by} (on node {node}) removed {name} ({peer}): {reason}",
            by=by,
            node=op.node,
            name=member.name,
            peer=member.peer,
            reason=why,
        )
        room.remove(member, Member.remote(op.node, "", by, ""), now, why, minutes)

    def _on_ban(self, op: wire.Op) -> None:
        ban = Ban(**op.data)
        if op.node != self.node:
            self.room.moderation.ban(ban)
        # The banned person's lines leave every node's history, and Redis's (once).
        if self.room.history is not None:
            self.room.history.forget(ban.name)
        if op.node == self.node and self.history:
            forgot = self.link.eval(claims.FORGET, [f"{self.prefix}:history"], [ban.name])
            forgot.addErrback(lambda failure: None)  # Redis gone: the lines stay

    def _on_unban(self, op: wire.Op) -> None:
        if op.node != self.node:
            self.room.moderation.unban(str(op.data["address"]))

    def _on_mute(self, op: wire.Op) -> None:
        if op.node == self.node:
            return
        room, key = self.room, str(op.data["key"])
        room.moderation.mute(key, float(op.data["until"]))
        member = room.holder(key)
        if member is not None:
            room.tell_muted(member, str(op.data["by"]), int(op.data["minutes"]))

    def _on_unmute(self, op: wire.Op) -> None:
        if op.node == self.node:
            return
        room, key = self.room, str(op.data["key"])
        room.moderation.unmute(key)
        member = room.holder(key)
        if member is not None:
            room.tell_unmuted(member, str(op.data["by"]))

    # Talking to Redis

    def _publish(self, op: wire.Op, node: str | None = None) -> defer.Deferred:
        """
        Send C{op} to the room's channel, or to C{node}'s own.

        What goes to the room's channel in one reactor turn leaves as one
        Redis message (a JSON list), as the fan-out writes once per turn: a
        busy turn costs one C{PUBLISH} here and one parse at each node, not
        one per line.  Fires once it is out.
        """
        if node is not None:
            sent = self.link.publish(self._inbox(node), wire.encode(op))
            return sent.addCallback(self._sent, 1)
        sent: defer.Deferred = defer.Deferred()
        outbox = self._outbox
        if not outbox:
            self.reactor.callLater(0, self._flush)
        outbox.append((wire.encode(op), op.kind == "say", sent))
        return sent

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, []
        for start in range(0, len(outbox), BATCH):
            self._send_batch(outbox[start : start + BATCH])

    def _send_batch(self, batch: list[tuple[str, bool, defer.Deferred]]) -> None:
        messages = [message for message, _, _ in batch]
        payload = messages[0] if len(messages) == 1 else "[" + ",".join(messages) + "]"
        said = [message for message, say, _ in batch if say]
        if self.history and said:
            # Published and kept in the history list in one step (claims.SAY).
            sent = self.link.eval(
                claims.SAY,
                [f"{self.prefix}:history"],
                [self.channel, payload, self.history, *said],
            )
        else:
            sent = self.link.publish(self.channel, payload)
        sent.addBoth(self._flushed, [waiter for _, _, waiter in batch])

    def _flushed(self, result, waiters: list[defer.Deferred]) -> None:
        if not isinstance(result, Failure):
            self._sent(result, len(waiters))
        for waiter in waiters:
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(None)

    def _sent(self, result: object, count: int) -> object:
        self.room.counts.cluster_events["out"] += count
        return result

    def _apply_here(self, failure, apply, *args) -> None:
        """Publishing failed (Redis is going): apply here, as while split."""
        apply(*args)

    def _received(self, channel: str, message: str) -> None:
        try:
            ops = wire.decode_all(message)
        except (wire.BadMessage, RuleError) as e:
            # Never the message itself: on our own channel it may be private.
            self.log.warn("cluster: dropped a message on {channel}: {why}", channel=channel, why=e)
            return
        self.room.counts.cluster_events["in"] += len(ops)
        for op in ops:
            if not self.whole and op.node != self.node and op.kind in _ROOM_TRAFFIC:
                continue  # not part of the room yet: our hello brings it all back
            try:
                getattr(self, f"_on_{op.kind}")(op)
            except Exception:
                self.log.failure(
                    "cluster: applying a {kind} from {node} failed", kind=op.kind, node=op.node
                )
        if self._disputed and self.whole:
            self._undispute()

    def _on_join(self, op: wire.Op) -> None:
        event = op.event
        if op.node == self.node:
            member = self.local.get(op.id)
            if member is not None and op.id in self._joining:
                self._joined_here(member, event.time)
            return
        member = Member.remote(op.node, op.id, event.name, event.group)
        self.nodes.setdefault(op.node, {})[op.id] = member
        self._show(member, event.name, event.time, seen=False)

    def _on_leave(self, op: wire.Op) -> None:
        if op.node == self.node:
            self._left_here(op.id, op.event)
            return
        member = self.nodes.get(op.node, {}).pop(op.id, None)
        self._disputed.pop(op.id, None)
        if member is not None:
            self.room.applied_leave(member, op.event)

    def _on_say(self, op: wire.Op) -> None:
        event = op.event
        if op.node == self.node:
            member = self.local.get(op.id)
        else:
            member = self.nodes.get(op.node, {}).get(op.id)
        if member is None:  # gone since, or not known yet: the words still count
            member = Member.remote(op.node, op.id, event.name, event.group)
        self.room.applied_say(member, event.text, event.time)

    def _on_rename(self, op: wire.Op) -> None:
        event = op.event
        if op.node == self.node:
            member = self.local.get(op.id)
            if member is not None:
                self._renamed_here(member, event.new, event.time)
            return
        member = self.nodes.get(op.node, {}).get(op.id)
        if member is None:
            return
        disputed = self._disputed.get(op.id)
        if disputed is not None or self.room.is_present(member):
            seen = disputed[2] if disputed is not None else True
            self._show(member, event.new, event.time, seen)
        # Else out of sight since a split: the roster its node sends next has the name.

    def _on_whisper(self, op: wire.Op) -> None:
        member = self.local.get(op.id)
        if member is not None and self.room.is_present(member):
            self.room.notify(member, op.event)

    def _on_state(self, op: wire.Op) -> None:
        if op.node == self.node:
            return
        self._buried.discard(op.node)
        now = self.reactor.seconds()
        room = self.room
        if op.max:
            self.maxes[op.node] = op.max
            self._update_capacity()
        known = self.nodes.setdefault(op.node, {})
        listed = {id: (name, group) for id, name, group in op.members}
        disputed = self._disputed
        for id in [id for id in known if id not in listed]:
            member = known.pop(id)
            disputed.pop(id, None)
            room.applied_leave(member, _left(member, now))
        for id, (name, group) in listed.items():
            member = known.get(id)
            if member is None:
                member = known[id] = Member.remote(op.node, id, name, group)
                self._show(member, name, now, seen=False)
            else:
                self._show(member, name, now, seen=disputed.get(id, (None, "", True))[2])
        if op.hello:
            self._publish(self._state(hello=False)).addErrback(lambda failure: None)

    def _show(self, member: Member, name: str, now: float, seen: bool) -> None:
        """
        Let a member of another node be seen in the room as C{name}: a join
        (C{seen}: shown before, so a rename, or nothing), unless that name is
        someone else's here; then they are kept out of sight (disputed) until
        it isn't, and if the other one is ours, Redis is asked at once which
        claim keeps the name.
        """
        room = self.room
        key = name_key(name)
        other = room.holder(key) or room.find(name)
        if other is not None and other is not member:
            if room.is_present(member):
                room.hide(member)
                seen = True
            before = self._disputed.get(member.id)
            self._disputed[member.id] = (member, name, seen)
            if (
                other.node is None
                and room.is_present(other)
                and (before is None or before[1] != name)
            ):
                # A member here has it (someone registering: their own claim decides).
                self._recheck()
            return
        self._disputed.pop(member.id, None)
        if seen and member.name != name:
            old = room.holder(member.key) or room.find(member.name)
            if old is not None and old is not member:
                seen = False  # the name they had is someone else's now: "joined" says it right
        if not seen:
            room.hide(member)
            member.name, member.key = name, key
            room.applied_join(member, now)
            return
        room.show(member)
        if member.name != name:
            room.applied_rename(member, name, now)

    def _undispute(self) -> None:
        """Show the disputed members whose name is nobody else's now."""
        if not self.whole:
            return
        now = self.reactor.seconds()
        for member, name, seen in list(self._disputed.values()):
            self._show(member, name, now, seen)

    def _recheck(self) -> None:
        """
        A name of ours is claimed elsewhere too (Redis came back, and the
        other node refreshed first): refresh now, not at the next heartbeat,
        so whichever of us lost renames at once.
        """
        if self._rechecking:
            return
        self._rechecking = True
        checked = self.claims.refresh()
        checked.addCallback(self._settle)
        checked.addErrback(lambda failure: None)  # Redis going: the heal does it again

        def done(_: object) -> None:
            self._rechecking = False

        checked.addBoth(done)

    def _on_gone(self, op: wire.Op) -> None:
        if op.node == self.node:
            if not self.running or not self.whole:
                # Our own goodbye coming back; or, before we are whole, the
                # heal publishes our roster anyway.
                return
            # Declared dead (this process stalled past the TTL): say we are here.
            self.log.warn(
                "cluster node {node}: the others took us for dead; rejoining", node=self.node
            )
            self._beat_once()
            self._publish(self._state(hello=False)).addErrback(lambda failure: None)
            return
        self._buried.add(op.node)
        self._drop_node(op.node, "gone")

    def _drop_node(self, node: str, why: str) -> None:
        members = self.nodes.pop(node, {})
        self.maxes.pop(node, None)
        now = self.reactor.seconds()
        for member in members.values():
            self._disputed.pop(member.id, None)
            self.room.applied_leave(member, _left(member, now))
        self._update_capacity()
        self.log.info(
            "cluster: node {node} {why}: {count} members dropped",
            node=node,
            why=why,
            count=len(members),
        )

    def _state(self, hello: bool) -> wire.Op:
        """
        Our roster as of its place in the channel's order: with the joins
        and renames published before it and not back yet, which the others
        read first (else they would take the roster for a leave or an old name).
        """
        room, joining, renaming = self.room, self._joining, self._renaming
        members = [
            (member.id, renaming.get(member.id, member.name), member.group)
            for member in self.local.values()
            if member.id in joining or room.is_present(member)
        ]
        return wire.Op("state", self.node, members=members, hello=hello, max=self.max_clients)

    # Split and heal

    def _changed(self, up: bool) -> None:
        self._generation += 1
        if up:
            self._heal(self._generation)
        else:
            self._split()

    def _split(self) -> None:
        if not self.whole:
            return
        self.whole = False
        room = self.room
        hidden = 0
        for members in self.nodes.values():
            for member in members.values():
                room.hide(member)
                hidden += 1
        self.maxes = {}
        self._update_capacity()
        # Out of sight like everyone elsewhere; one never shown is new when it comes back.
        for member, _, seen in self._disputed.values():
            if not seen:
                self.nodes.get(member.node, {}).pop(member.id, None)
        self._disputed = {}
        self.log.warn(
            "cluster: Redis {address} lost; the room is split "
            "({count} members elsewhere out of reach)",
            address=str(self.link.address),
            count=hidden,
        )
        # What was waiting for Redis happens here, as everything now does.
        now = self.reactor.seconds()
        for id in list(self._joining):
            member = self.local.get(id)
            if member is not None:
                self._joined_here(member, now)
        for id, (member, _) in list(self._leaving.items()):
            self._left_here(id, _left(member, now))
        self._told_split = True
        room.announce(Text(messages.SPLIT))

    @defer.inlineCallbacks
    def _heal(self, generation: int):
        self._healing = True
        try:
            yield self._rejoin(generation)
        finally:
            self._healing = False

    @defer.inlineCallbacks
    def _rejoin(self, generation: int):
        try:
            yield self._beat_once()
            if not self._forgotten:
                yield self.link.eval(claims.RESTART, [], [self.prefix, self.node])
                self._forgotten = True
            lost = yield self.claims.refresh()
        except Exception as e:
            self.log.warn("cluster: Redis {address}: {why}", address=str(self.link.address), why=e)
            return
        yield self._load_history()
        if generation != self._generation or not self.link.up:
            return
        # From here on, everything goes through Redis.  The members hear
        # that first; then the names lost meanwhile are settled here, so the
        # roster the others start from has every name once.
        self.whole = True
        self._update_capacity()
        if self._told_split:
            self._told_split = False
            self.room.announce(Text(messages.WHOLE))
        yield self._settle(lost, here=True)
        if generation != self._generation or not self.whole:
            return
        try:
            yield self._publish(self._state(hello=True))
        except Exception:
            return  # lost again: the next connection heals
        self.log.info(
            "cluster node {node}: Redis {address} connected; {count} nodes in the room",
            node=self.node,
            address=str(self.link.address),
            count=len(self.maxes),
        )

    @defer.inlineCallbacks
    def _load_history(self):
        """
        The room's recent public messages as Redis kept them: what was said
        before this node started, or elsewhere while it was split.
        """
        history = self.room.history
        if not self.history or history is None:
            return
        try:
            kept = yield self.link.execute("LRANGE", f"{self.prefix}:history", -self.history, -1)
        except Exception:
            return  # lost again; the next heal tries again
        shared = []
        for message in kept or ():
            try:
                op = wire.decode(message)
            except wire.BadMessage:
                continue
            if isinstance(op.event, events.Public):
                shared.append(op.event)
        # What arrived here after Redis answered is not in its answer: keep it.
        said = {_said(event) for event in shared}
        since = []
        for event in reversed(history.events()):
            if _said(event) in said:
                break
            since.append(event)
        history.load(shared + since[::-1])

    def _heartbeat(self) -> None:
        if not self.link.up:
            return
        self.link.check()
        if not self.whole:
            if not self._healing:
                # Linked, yet the last heal failed halfway (a script error, a
                # timeout): try again rather than stay split while connected.
                self._heal(self._generation)
            return  # the heal beats and settles the names itself
        if self._disputed:
            self._undispute()  # a name freed without a word on the channel (a claim refused)
        self._beat_once().addErrback(lambda failure: None)
        self.claims.refresh().addCallbacks(self._settle, lambda failure: None)

    def _beat_once(self) -> defer.Deferred:
        beat = self.link.eval(
            claims.BEAT,
            [f"{self.prefix}:nodes"],
            [self.node, self.max_clients, int(self.ttl * 1000), self.prefix, self.channel],
        )
        return beat.addCallback(self._beaten)

    def _beaten(self, reply: list) -> None:
        pairs = iter(reply)
        buried = self._buried
        self.maxes = {
            str(node): int(count)
            for node, count in zip(pairs, pairs, strict=True)
            if node not in buried
        }
        if self.whole:
            # A node that vanished without a 'gone' (Redis restarted and forgot
            # it): missing from two heartbeats in a row, so that a node just
            # buried (its 'gone' on its way to us, in the room's order) isn't.
            missing = {node for node in self.nodes if node not in self.maxes}
            for node in missing & self._missing:
                self._drop_node(node, "no longer in Redis")
            self._missing = missing
        self._update_capacity()

    def _update_capacity(self) -> None:
        maxes = self.maxes if self.whole else {}
        self.room.capacity = sum(maxes.values()) or self.max_clients

    @defer.inlineCallbacks
    def _settle(self, lost: list[str], here: bool = False):
        """
        Names we held that an older claim won while split: rename their
        holders.  C{here}: healing, before our roster goes out; the rename is
        applied at once, and the others learn the new name from the roster.
        """
        for key in lost:
            member = self.room.holder(key)
            if member is None or member.id not in self.local:
                continue
            old = member.name
            new = yield self._free_name(member)
            if new is None or member.id not in self.local:
                continue
            self.log.info(
                "cluster: name conflict: {old} was claimed earlier elsewhere; {new} here now",
                old=old,
                new=new,
            )
            if here:
                self.room.applied_rename(member, new, self.reactor.seconds())
            else:
                self._announce_rename(member, new, self.reactor.seconds())
            if self.room.is_present(member):
                self.room.notify(
                    member, events.Notice(Text(messages.RENAMED_CONFLICT, old=old, new=new))
                )
        if self._disputed and self.whole:
            self._undispute()

    @defer.inlineCallbacks
    def _free_name(self, member: Member):
        """The member's name with the first number that is free everywhere."""
        for n in range(2, 100):
            suffix = str(n)
            name = member.name[: NAME_MAX - len(suffix)] + suffix
            key = name_key(name)
            if self.room.holder(key) is not None:
                continue
            if not self.whole:
                self.claims.held[key] = self._value(member)
                return name
            try:
                won = yield self.claims.claim(key, self._value(member))
            except Exception:
                return None
            if won:
                return name
        return None


_ROOM_TRAFFIC = frozenset(("join", "leave", "say", "rename", "state", "whisper", "announce"))
"""What another node says that shows in the room: ignored until this node is whole."""


def _left(member: Member, now: float) -> events.Left:
    """A leave nobody announced (a node gone, a split): the counts are filled in by the room."""
    return events.Left(now, member.name, member.group, 0, 0)


def _said(event: events.Public) -> tuple[float, str, str]:
    return (event.time, event.name, event.text)
