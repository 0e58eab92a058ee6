# -*- test-case-name: tests.test_commands -*-
"""
The command table: each command's Polish name, English aliases, help and handler.

C{/pomoc} is generated from this table, so a command can't exist without help.
Handlers take the L{chatroom.session.Session}, the text after the command word
and the time; rule errors are raised as L{RuleError} and shown by the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatroom import messages
from chatroom.names import RuleError

if TYPE_CHECKING:
    from chatroom.session import Session


class UsageError(RuleError):
    pass


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    usage: str
    summary: str
    handler: Callable[[Session, str, float], None]
    # Usable at the name and group prompts, before joining.
    anytime: bool = False

    @property
    def words(self) -> str:
        return ", ".join(f"/{word}" for word in (self.name, *self.aliases))


def _help(session: Session, args: str, now: float) -> None:
    for line in help_lines(session.max_line):
        session.reply(line)


def _msg(session: Session, args: str, now: float) -> None:
    parts = args.split(None, 1)
    if len(parts) < 2 or not parts[1].strip():
        raise UsageError("usage: /msg NAME TEXT (or /w NAME TEXT).")
    session.room.whisper(session.member, parts[0], parts[1], now)


def _changename(session: Session, args: str, now: float) -> None:
    if not args.strip():
        raise UsageError("usage: /changename NEW (or /nick NEW).")
    session.room.rename(session.member, args, now)


def _online(session: Session, args: str, now: float) -> None:
    session.reply(messages.online(session.room.roster(), session.room.capacity))


def _quit(session: Session, args: str, now: float) -> None:
    session.quit(now)


COMMANDS: tuple[Command, ...] = (
    Command("pomoc", ("help",), "/pomoc", "this list", _help, anytime=True),
    Command("msg", ("w",), "/msg NAME TEXT", "send TEXT to NAME only (never logged)", _msg),
    Command("changename", ("nick",), "/changename NEW", "change your name", _changename),
    Command("online", ("who",), "/online", "who is here, with their groups", _online),
    Command("wyjdz", ("quit",), "/wyjdz", "leave the room", _quit, anytime=True),
)

_BY_WORD: dict[str, Command] = {
    word: command for command in COMMANDS for word in (command.name, *command.aliases)
}


def lookup(word: str) -> Command | None:
    """The command for C{word} (any case, Polish or English), if there is one."""
    return _BY_WORD.get(word.casefold())


def help_lines(max_line: int) -> list[str]:
    width = max(len(f"{c.usage}, /{c.aliases[0]}") for c in COMMANDS) + 2
    lines = ["Commands (Polish name, then the English alias):"]
    for command in COMMANDS:
        label = f"{command.usage}, /{', /'.join(command.aliases)}"
        lines.append(f"  {label:<{width}}{command.summary}")
    lines.append(
        "Any other line goes to everyone; start it with // to send a line that begins with /."
    )
    lines.append(f"Lines may be up to {max_line} bytes.")
    return lines
