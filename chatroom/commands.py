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
from chatroom.events import Message, Text
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
    summary: Message
    handler: Callable[[Session, str, float], None]
    # Usable at the name and group prompts, before joining.
    anytime: bool = False

    @property
    def words(self) -> str:
        return ", ".join(f"/{word}" for word in (self.name, *self.aliases))


def _help(session: Session, args: str, now: float) -> None:
    for text in help_texts(session.max_line):
        session.notice(text.message, **text.fields)


def _msg(session: Session, args: str, now: float) -> None:
    parts = args.split(None, 1)
    if len(parts) < 2 or not parts[1].strip():
        raise UsageError(messages.USAGE, usage="/msg NAME TEXT", alias="/w NAME TEXT")
    session.room.whisper(session.member, parts[0], parts[1], now)


def _changename(session: Session, args: str, now: float) -> None:
    if not args.strip():
        raise UsageError(messages.USAGE, usage="/changename NEW", alias="/nick NEW")
    session.room.rename(session.member, args, now)


def _online(session: Session, args: str, now: float) -> None:
    session.reply(session.room.roster_event())


def _quit(session: Session, args: str, now: float) -> None:
    session.quit(now)


COMMANDS: tuple[Command, ...] = (
    Command("pomoc", ("help",), "/pomoc", messages.SUMMARY_HELP, _help, anytime=True),
    Command("msg", ("w",), "/msg NAME TEXT", messages.SUMMARY_MSG, _msg),
    Command("changename", ("nick",), "/changename NEW", messages.SUMMARY_CHANGENAME, _changename),
    Command("online", ("who",), "/online", messages.SUMMARY_ONLINE, _online),
    Command("wyjdz", ("quit",), "/wyjdz", messages.SUMMARY_QUIT, _quit, anytime=True),
)

_BY_WORD: dict[str, Command] = {
    word: command for command in COMMANDS for word in (command.name, *command.aliases)
}


def lookup(word: str) -> Command | None:
    """The command for C{word} (any case, Polish or English), if there is one."""
    return _BY_WORD.get(word.casefold())


def help_texts(max_line: int) -> list[Text]:
    """The lines of /pomoc, to be said in the reader's language."""
    width = max(len(f"{c.usage}, /{c.aliases[0]}") for c in COMMANDS) + 2
    texts = [Text(messages.HELP_HEADING)]
    for command in COMMANDS:
        label = f"{command.usage}, /{', /'.join(command.aliases)}"
        texts.append(
            Text(messages.HELP_ENTRY, label=label, width=width, summary=Text(command.summary))
        )
    texts.append(Text(messages.HELP_PLAIN))
    texts.append(Text(messages.HELP_LIMIT, max_line=max_line))
    return texts
