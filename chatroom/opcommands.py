# -*- test-case-name: tests.test_moderation -*-
"""
The operators' commands: C{/op} and what it opens (kick, ban, mute, announce).

The rules (who is an operator, which bans and mutes hold) are
L{chatroom.moderation}'s; here is the conversation: parsing the arguments,
the replies, and the log.  Every action is logged with the operator's name;
the password never is.  L{chatroom.commands} lists these in its table.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING

from chatroom import messages
from chatroom.conversation import Conversation
from chatroom.events import Message, Text
from chatroom.moderation import (
    MAX_MINUTES,
    Moderation,
    minutes_left,
)
from chatroom.names import RuleError, name_key
from chatroom.text import clean

if TYPE_CHECKING:
    from chatroom.room import Member

DEFAULT_MINUTES = 60
"""A ban or a mute without MINUTES lasts an hour."""


def usage_error(usage: Message, alias: Message) -> RuleError:
    """The error for a command given wrong arguments: its usage, and its alias's."""
    return RuleError(messages.USAGE, usage=Text(usage), alias=Text(alias))


def _target(session: Conversation, args: str, usage: Message, alias: Message) -> tuple[Member, str]:
    """The member named first in C{args} (not the operator), and the rest of C{args}."""
    name, _, rest = args.strip().partition(" ")
    if not name:
        raise usage_error(usage, alias)
    member = session.room.find(name)
    if member is None:
        raise RuleError(messages.NO_SUCH_USER, name=clean(name))
    if member is session.member:
        raise RuleError(messages.NOT_YOURSELF)
    return member, rest.strip()


def _minutes(rest: str) -> tuple[int, str]:
    """A leading MINUTES (default L{DEFAULT_MINUTES}) and what follows it."""
    first, _, after = rest.partition(" ")
    if not first or not first.lstrip("+-").isdigit():
        return DEFAULT_MINUTES, rest
    minutes = int(first)
    if not 1 <= minutes <= MAX_MINUTES:
        raise RuleError(messages.BAD_MINUTES, value=clean(first), max=MAX_MINUTES)
    return minutes, after.strip()


def op(session: Conversation, args: str, now: float) -> None:
    """/op PASSWORD: operator for this session; wrong guesses wait longer and longer."""
    if session.operator:
        session.notice(messages.OP_ALREADY)
        return
    if not args.strip():
        raise usage_error(messages.USAGE_OP, messages.USAGE_OP_EN)
    room = session.room
    moderation = room.moderation
    member = session.member
    address = session.address
    verdict, wait = moderation.login(args, address, now, member.key)
    if verdict == Moderation.OK:
        moderation.operators.add(member.key)
        room.journal.info(
            "moderation: {name} from {peer} is an operator", name=member.name, peer=session.peer
        )
        session.notice(messages.OP_GRANTED)
    elif verdict == Moderation.DISABLED:
        raise RuleError(messages.OP_DISABLED)
    elif verdict == Moderation.WAIT:
        seconds = math.ceil(wait)
        room.journal.info(
            "moderation: operator password from {peer} ({name}) not checked: "
            "{seconds} s to wait after wrong ones",
            peer=session.peer,
            name=member.name,
            seconds=seconds,
        )
        raise RuleError(messages.OP_WAIT, seconds=seconds)
    else:
        room.journal.info(
            "moderation: wrong operator password from {peer} ({name}), {failures} in a row, "
            "{recent} from that address in 10 minutes",
            peer=session.peer,
            name=member.name,
            failures=moderation.failures(member.key),
            recent=moderation.recent_failures(address, now),
        )
        raise RuleError(messages.OP_WRONG)


def kick(session: Conversation, args: str, now: float) -> None:
    """/wyrzuc NAME [REASON]."""
    target, reason = _target(session, args, messages.USAGE_KICK, messages.USAGE_KICK_EN)
    reason = clean(reason)
    session.room.journal.info(
        "moderation: {by} kicked {name} ({peer}): {reason}",
        by=session.member.name,
        name=target.name,
        peer=target.peer,
        reason=reason,
    )
    session.room.remove(target, session.member, now, reason)


def ban(session: Conversation, args: str, now: float) -> None:
    """/zbanuj NAME [MINUTES] [REASON]: kick, and refuse the address for a while."""
    target, rest = _target(session, args, messages.USAGE_BAN, messages.USAGE_BAN_EN)
    minutes, reason = _minutes(rest)
    reason = clean(reason)
    room = session.room
    by = session.member
    if target.node is not None:
        # Only the node they are connected to knows their address: it bans.
        room.journal.info(
            "moderation: {by} banned {name} (on node {node}) for {minutes} minutes: {reason}",
            by=by.name,
            name=target.name,
            node=target.node,
            minutes=minutes,
            reason=reason,
        )
        room.remove(target, by, now, reason, minutes)
        return
    address = target.address
    banned = room.moderation.ban_address(address, now + minutes * 60, target.name, by.name, reason)
    if banned is None:
        room.journal.info(
            "moderation: {by} kicked {name} ({peer}), not banned (a protected address): {reason}",
            by=by.name,
            name=target.name,
            peer=target.peer,
            reason=reason,
        )
        room.remove(target, by, now, reason)
        session.notice(messages.NOT_BANNED_LOOPBACK, address=address, name=target.name)
        return
    room.bus.share("ban", asdict(banned))
    room.journal.info(
        "moderation: {by} banned {address} ({name}) for {minutes} minutes: {reason}",
        by=by.name,
        address=banned.address,
        name=target.name,
        minutes=minutes,
        reason=reason,
    )
    room.remove(target, by, now, reason, minutes)


def unban(session: Conversation, args: str, now: float) -> None:
    """/odbanuj ADDRESS."""
    words = args.split()
    if len(words) != 1:
        raise usage_error(messages.USAGE_UNBAN, messages.USAGE_UNBAN_EN)
    moderation = session.room.moderation
    moderation.banned(words[0], now)  # an expired ban is no ban
    lifted = moderation.unban(words[0])
    if lifted is None:
        raise RuleError(messages.NOT_BANNED, address=clean(words[0]))
    session.room.bus.share("unban", {"address": lifted.address})
    session.room.journal.info(
        "moderation: {by} lifted the ban on {address} ({name})",
        by=session.member.name,
        address=lifted.address,
        name=lifted.name,
    )
    session.notice(messages.UNBANNED, address=lifted.address, name=lifted.name)


def bans(session: Conversation, args: str, now: float) -> None:
    """/bany: the bans in force, soonest to end first."""
    active = session.room.moderation.active_bans(now)
    if not active:
        session.notice(messages.BANS_NONE)
        return
    session.notice(messages.BANS, count=len(active))
    for entry in active:
        session.notice(
            messages.BAN_ENTRY,
            address=entry.address,
            name=entry.name,
            minutes=minutes_left(entry.until, now),
            by=entry.by,
            reason=entry.reason or Text(messages.NO_REASON),
        )


def mute(session: Conversation, args: str, now: float) -> None:
    """/wycisz NAME [MINUTES]: their public lines are refused until then."""
    target, rest = _target(session, args, messages.USAGE_MUTE, messages.USAGE_MUTE_EN)
    minutes, extra = _minutes(rest)
    if extra:
        raise usage_error(messages.USAGE_MUTE, messages.USAGE_MUTE_EN)
    room = session.room
    room.moderation.mute(target.key, now + minutes * 60)
    data = {"key": target.key, "until": now + minutes * 60, "by": session.member.name}
    room.bus.share("mute", {**data, "minutes": minutes})
    room.journal.info(
        "moderation: {by} muted {name} for {minutes} minutes",
        by=session.member.name,
        name=target.name,
        minutes=minutes,
    )
    room.tell_muted(target, session.member.name, minutes)
    duration = Text(messages.FOR_MINUTES, minutes=minutes)
    session.notice(messages.MUTE_DONE, name=target.name, duration=duration)


def unmute(session: Conversation, args: str, now: float) -> None:
    """/odcisz NAME: also for someone muted who has left since."""
    name = args.strip()
    if not name or " " in name:
        raise usage_error(messages.USAGE_UNMUTE, messages.USAGE_UNMUTE_EN)
    room = session.room
    target = room.find(name)
    shown = target.name if target is not None else clean(name)
    key = target.key if target is not None else name_key(name)
    if not room.moderation.unmute(key):
        raise RuleError(messages.NOT_MUTED, name=shown)
    room.bus.share("unmute", {"key": key, "by": session.member.name})
    room.journal.info("moderation: {by} unmuted {name}", by=session.member.name, name=shown)
    if target is not None:
        room.tell_unmuted(target, session.member.name)
    session.notice(messages.UNMUTE_DONE, name=shown)


def announce(session: Conversation, args: str, now: float) -> None:
    """/oglos TEXT: a notice to everyone, set apart from the chat."""
    if not args.strip():
        raise usage_error(messages.USAGE_ANNOUNCE, messages.USAGE_ANNOUNCE_EN)
    session.room.announcement(session.member, args.strip(), now)
