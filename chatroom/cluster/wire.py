# -*- test-case-name: tests.test_cluster_wire -*-
"""
What nodes say to each other through Redis: small JSON objects, versioned.

Room traffic travels as the room's own events (L{chatroom.events.to_fields}),
never as rendered lines: each node renders for its own doors and languages.
Beside the event, an operation names its kind and the member it is about (a
cluster-wide id, C{node.serial}), so each node can tell its own members from
the others' and exclude a sender from its own message.

  - C{join}, C{leave}, C{say}, C{rename}: on the room's ordered channel, with
    a L{Joined}, L{Left}, L{Public} or L{Renamed} event;
  - C{state}: a node's whole roster (after it starts, or when Redis comes
    back); C{hello} asks the others to send theirs;
  - C{gone}: a node has stopped or died; its members have left.  A dead
    node's C{gone} is published by a Lua script in Redis (L{claims}), so it
    is written here by hand too: keep the two in step;
  - C{whisper}: on the target node's own channel only, with a L{Private}.
  - C{announce}: an operator's L{Announcement}, on the room's channel.
  - C{kick}: to the target's node only: an operator elsewhere removes one of
    its members (C{data}: by, why, minutes; minutes above 0: a ban too);
  - C{ban}, C{unban}, C{mute}, C{unmute}: a moderation decision, on the
    room's channel, for every node's own records (C{data}: its fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chatroom.events import Event, from_fields, to_fields

VERSION = 1
"""Bumped when a change would confuse an older node; other versions are ignored."""

KINDS = (
    "join",
    "leave",
    "say",
    "rename",
    "state",
    "gone",
    "whisper",
    "announce",
    "kick",
    "ban",
    "unban",
    "mute",
    "unmute",
)


class BadMessage(ValueError):
    """Not something this version of a node understands (it is logged and dropped)."""


@dataclass(slots=True)
class Op:
    """
    @ivar kind: one of L{KINDS}.
    @ivar node: the node that sent it.
    @ivar id: the member it is about (C{""} for C{state} and C{gone}).
    @ivar event: the room's event it carries, if any.
    @ivar members: for C{state}: (id, name, group) of each member.
    @ivar hello: for C{state}: the sender has just (re)joined; answer with yours.
    @ivar max: for C{state}: the sender's --max-clients.
    @ivar data: for moderation: the decision's fields (plain JSON values).
    """

    kind: str
    node: str
    id: str = ""
    event: Event | None = None
    members: list[tuple[str, str, str]] = field(default_factory=list)
    hello: bool = False
    max: int = 0
    data: dict[str, Any] = field(default_factory=dict)


def encode(op: Op) -> str:
    data: dict[str, Any] = {"v": VERSION, "op": op.kind, "node": op.node}
    if op.id:
        data["id"] = op.id
    if op.event is not None:
        data["event"] = to_fields(op.event)
    if op.kind == "state":
        data["members"] = [list(member) for member in op.members]
        data["hello"] = op.hello
        data["max"] = op.max
    if op.data:
        data["data"] = op.data
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_all(text: str | bytes) -> list[Op]:
    """
    The operations in one Redis message: one (a JSON object), or a node's
    reactor turn of them (a JSON list of objects, in order).

    @raise BadMessage: as L{decode}, for any of them.
    """
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BadMessage(f"{type(e).__name__}: {e}") from None
    if isinstance(data, list):
        return [_op(item) for item in data]
    return [_op(data)]


def decode(text: str | bytes) -> Op:
    """
    @raise BadMessage: not JSON, another version, or fields that don't fit.
    """
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BadMessage(f"{type(e).__name__}: {e}") from None
    return _op(data)


def _op(data: Any) -> Op:
    try:
        if data.get("v") != VERSION:
            raise BadMessage(f"version {data.get('v')!r}")
        kind = data["op"]
        if kind not in KINDS:
            raise BadMessage(f"unknown operation {kind!r}")
        event = data.get("event")
        return Op(
            kind,
            str(data["node"]),
            str(data.get("id", "")),
            from_fields(event) if event is not None else None,
            [(str(i), str(n), str(g)) for i, n, g in data.get("members", ())],
            bool(data.get("hello", False)),
            int(data.get("max", 0)),
            dict(data.get("data", {})),
        )
    except BadMessage:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise BadMessage(f"{type(e).__name__}: {e}") from None
