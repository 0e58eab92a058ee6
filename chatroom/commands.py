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

from chatroom import i18n, messages
from chatroom.catalog import Catalog
from chatroom.events import Message, Text
from chatroom.names import RuleError
from chatroom.text import clean

if TYPE_CHECKING:
    from chatroom.session import Session


class UsageError(RuleError):
    pass


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    # A Message when it has words to translate (NAME, TEXT).
    usage: Message | str
    summary: Message
    handler: Callable[[Session, str, float], None]
    # Usable at the name and group prompts, before joining.
    anytime: bool = False

    @property
    def words(self) -> str:
        return ", ".join(f"/{word}" for word in (self.name, *self.aliases))


def _help(session: Session, args: str, now: float) -> None:
    for text in help_texts(session.max_line, session.catalog):
        session.notice(text.message, **text.fields)


def _msg(session: Session, args: str, now: float) -> None:
    parts = args.split(None, 1)
    if len(parts) < 2 or not parts[1].strip():
        raise UsageError(
            messages.USAGE, usage=Text(messages.USAGE_MSG), alias=Text(messages.USAGE_W)
        )
    session.room.whisper(session.member, parts[0], parts[1], now)


def _changename(session: Session, args: str, now: float) -> None:
    if not args.strip():
        raise UsageError(
            messages.USAGE, usage=Text(messages.USAGE_CHANGENAME), alias=Text(messages.USAGE_NICK)
        )
    session.room.rename(session.member, args, now)


def _online(session: Session, args: str, now: float) -> None:
    session.reply(session.room.roster_event())


def _language(session: Session, args: str, now: float) -> None:
    words = args.split()
    if len(words) > 1:
        raise UsageError(
            messages.USAGE, usage=Text(messages.USAGE_JEZYK), alias=Text(messages.USAGE_LANG)
        )
    if not words:
        catalog = session.catalog
        listed = ", ".join(
            catalog.format(messages.LANGUAGE_ENTRY, code=code, name=i18n.LANGUAGES[code])
            for code in session.languages()
        )
        session.notice(messages.LANGUAGES, languages=listed, code=session.lang)
        return
    lang = i18n.language(words[0])
    if lang is None or lang not in session.languages():
        raise RuleError(messages.UNKNOWN_LANGUAGE, code=clean(words[0]))
    session.set_language(lang)
    session.notice(messages.LANGUAGE_SET, name=i18n.LANGUAGES[lang], code=lang)


def _quit(session: Session, args: str, now: float) -> None:
    session.quit(now)


COMMANDS: tuple[Command, ...] = (
    Command("pomoc", ("help",), "/pomoc", messages.SUMMARY_HELP, _help, anytime=True),
    Command("msg", ("w",), messages.USAGE_MSG, messages.SUMMARY_MSG, _msg),
    Command(
        "changename", ("nick",), messages.USAGE_CHANGENAME, messages.SUMMARY_CHANGENAME, _changename
    ),
    Command("online", ("who",), "/online", messages.SUMMARY_ONLINE, _online),
    Command(
        "jezyk", ("lang",), messages.USAGE_JEZYK, messages.SUMMARY_LANG, _language, anytime=True
    ),
    Command("wyjdz", ("quit",), "/wyjdz", messages.SUMMARY_QUIT, _quit, anytime=True),
)

_BY_WORD: dict[str, Command] = {
    word: command for command in COMMANDS for word in (command.name, *command.aliases)
}


def lookup(word: str) -> Command | None:
    """The command for C{word} (any case, Polish or English), if there is one."""
    return _BY_WORD.get(word.casefold())


def _usage(command: Command, catalog: Catalog) -> str:
    usage = command.usage
    return catalog.text(Text(usage)) if isinstance(usage, Message) else usage


def help_texts(max_line: int, catalog: Catalog) -> list[Text]:
    """
    The lines of /pomoc, to be said in C{catalog}'s language: the usages are
    translated there, and the summaries line up after the longest of them.
    """
    labels = [f"{_usage(c, catalog)}, /{', /'.join(c.aliases)}" for c in COMMANDS]
    width = max(len(label) for label in labels) + 2
    texts = [Text(messages.HELP_HEADING)]
    for label, command in zip(labels, COMMANDS, strict=True):
        texts.append(
            Text(messages.HELP_ENTRY, label=label, width=width, summary=Text(command.summary))
        )
    texts.append(Text(messages.HELP_PLAIN))
    texts.append(Text(messages.HELP_LIMIT, max_line=max_line))
    return texts
