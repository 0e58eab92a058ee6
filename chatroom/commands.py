# -*- test-case-name: tests.test_commands -*-
"""
The command table: each command's Polish name, English aliases, help and handler.

C{/pomoc} is generated from this table, so a command can't exist without help.
Handlers take the person's session (as a L{Conversation}), the text after the
command word and the time; rule errors are raised as L{RuleError} and shown by
the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatroom import i18n, messages, opcommands
from chatroom.catalog import Catalog
from chatroom.conversation import Conversation
from chatroom.events import Message, Text
from chatroom.names import RuleError
from chatroom.opcommands import usage_error
from chatroom.text import clean


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    # A Message when it has words to translate (NAME, TEXT).
    usage: Message | str
    summary: Message
    handler: Callable[[Conversation, str, float], None]
    # Usable at the name and group prompts, before joining.
    anytime: bool = False
    # For operators only (and listed by /pomoc to them only).
    operator: bool = False


def _help(session: Conversation, args: str, now: float) -> None:
    moderation = session.room.moderation
    for text in help_texts(session.max_line, session.catalog, session.operator, moderation.enabled):
        session.notice(text.message, **text.fields)


def _msg(session: Conversation, args: str, now: float) -> None:
    parts = args.split(None, 1)
    if len(parts) < 2 or not parts[1].strip():
        raise usage_error(messages.USAGE_MSG, messages.USAGE_W)
    session.room.whisper(session.member, parts[0], parts[1], now)


def _changename(session: Conversation, args: str, now: float) -> None:
    if not args.strip():
        raise usage_error(messages.USAGE_CHANGENAME, messages.USAGE_NICK)
    session.room.rename(session.member, args, now)


def _online(session: Conversation, args: str, now: float) -> None:
    session.reply(session.room.roster_event())


def _language(session: Conversation, args: str, now: float) -> None:
    words = args.split()
    if len(words) > 1:
        raise usage_error(messages.USAGE_JEZYK, messages.USAGE_LANG)
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


def _quit(session: Conversation, args: str, now: float) -> None:
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
    Command("op", ("oper",), messages.USAGE_OP, messages.SUMMARY_OP, opcommands.op),
    # Moderation: Polish names, English aliases, as above.
    *(
        Command(name, (alias,), usage, summary, handler, operator=True)
        for name, alias, usage, summary, handler in (
            ("wyrzuc", "kick", messages.USAGE_KICK, messages.SUMMARY_KICK, opcommands.kick),
            ("zbanuj", "ban", messages.USAGE_BAN, messages.SUMMARY_BAN, opcommands.ban),
            ("odbanuj", "unban", messages.USAGE_UNBAN, messages.SUMMARY_UNBAN, opcommands.unban),
            ("bany", "bans", "/bany", messages.SUMMARY_BANS, opcommands.bans),
            ("wycisz", "mute", messages.USAGE_MUTE, messages.SUMMARY_MUTE, opcommands.mute),
            ("odcisz", "unmute", messages.USAGE_UNMUTE, messages.SUMMARY_UNMUTE, opcommands.unmute),
            (
                "oglos",
                "announce",
                messages.USAGE_ANNOUNCE,
                messages.SUMMARY_ANNOUNCE,
                opcommands.announce,
            ),
        )
    ),
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


def help_texts(
    max_line: int, catalog: Catalog, operator: bool = False, operators: bool = False
) -> list[Text]:
    """
    The lines of /pomoc, to be said in C{catalog}'s language: the usages are
    translated there, and the summaries line up after the longest of them.
    The operators' commands are listed to an C{operator} only; C{/op} to the
    others when the server has C{operators}.
    """
    everyone = [
        c for c in COMMANDS if not c.operator and (c.name != "op" or (operators and not operator))
    ]
    ops = [c for c in COMMANDS if c.operator] if operator else []
    labels = {c: f"{_usage(c, catalog)}, /{', /'.join(c.aliases)}" for c in (*everyone, *ops)}
    width = max(len(label) for label in labels.values()) + 2

    def entries(shown: list[Command]) -> list[Text]:
        return [
            Text(messages.HELP_ENTRY, label=labels[c], width=width, summary=Text(c.summary))
            for c in shown
        ]

    texts = [Text(messages.HELP_HEADING), *entries(everyone)]
    if ops:
        texts += [Text(messages.HELP_OPERATORS), *entries(ops)]
    texts.append(Text(messages.HELP_PLAIN))
    texts.append(Text(messages.HELP_LIMIT, max_line=max_line))
    return texts
