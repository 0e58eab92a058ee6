# -*- test-case-name: tests.test_messages -*-
"""
The message catalog: every sentence the server can say to a person, in English.

Each entry's English text is its key (the gettext convention), with
C{str.format} fields in braces; a translation gives the same fields.  Nothing
here is rendered: the room and the sessions emit events holding L{Text}s, and
each front door renders them for its wire and language (see
L{chatroom.lines}).  User text is never part of a template, only a field.

Conventions a client can rely on (see docs/protocol.md):
  - room traffic starts with a C{[HH:MM:SS]} server timestamp;
  - notices about people (join, leave, rename, shutdown) are C{[HH:MM:SS] * ...};
  - private messages carry C{[private]} or C{[private to NAME]};
  - errors start with C{Error: } and go to one person only.

Every entry has its Polish in C{chatroom/i18n/pl.po} (a test checks): see
L{chatroom.i18n} for how to add a message, a translation or a language.  A
number a person reads next to a noun ("5 osób", "2 minuty") makes the entry
plural: C{count=} names the field holding the number, even where the English
doesn't change (then C{plural=} can be left out): Polish has three forms.
"""

from __future__ import annotations

from chatroom.events import Message

HELP_COMMAND = "/pomoc (/help)"

DECIMAL_POINT = Message(".")
"""How the language writes the point of "2.5" (Polish: a comma); not a sentence."""

# Room traffic, as the line door shows it; {stamp} is [HH:MM:SS].
PUBLIC = Message("{stamp} {name} ({group}): {text}")
# A public message replayed to a newcomer (said before they joined).
PUBLIC_HISTORY = Message("{stamp} [history] {name} ({group}): {text}")
PRIVATE = Message("{stamp} [private] {name} ({group}): {text}")
PRIVATE_SENT = Message("{stamp} [private to {to}] {text}")
JOINED = Message("{stamp} * {name} ({group}) joined ({online}/{max} online)", count="online")
LEFT = Message("{stamp} * {name} ({group}) left")
RENAMED = Message("{stamp} * {old} is now known as {new}")
SHUTDOWN = Message("{stamp} * The server is shutting down. Goodbye!")

# One person's conversation.
WELCOME = Message(
    "Welcome to chatroom, the student chat room ({online}/{max} online).", count="online"
)
NAME_PROMPT = Message("Your name (1-20 letters, digits, _ or -):")
GROUP_PROMPT = Message("Your lab group (1-16 characters, e.g. GL3):")
REGISTERED = Message(
    "Hello {name} ({group}), you are in: {online}/{max} online. Type {help} for the commands.",
    count="online",
)
ONLINE = Message("Online ({online}/{max}): {people}", count="online")
ONLINE_ENTRY = Message("{name} ({group})")
GOODBYE = Message("Goodbye!")
ERROR = Message("Error: {text}")

# Refusals at the door.
ROOM_FULL = Message("Sorry, the room is full ({count}/{max}). Try again later.")
TOO_MANY_FROM_ADDRESS = Message(
    "Sorry, too many connections from your address ({count}/{limit}). Try again later."
)

# Errors (the line door puts "Error: " in front).
UNKNOWN_COMMAND = Message("unknown command /{word}; type {help} for the list.")
NOT_YET = Message("/{word} works once you are in; finish registering first.")
NAME_TAKEN = Message("the name {name} is taken; pick another.")
ALREADY_CALLED = Message("you are already called {name}.")
NO_SUCH_USER = Message("nobody called {name} is online; /online lists who is.")
THAT_IS_YOU = Message("that is you; /msg is for someone else.")
LINE_TOO_LONG = Message(
    "line too long (the limit is {limit} bytes); it was discarded.", count="limit"
)
STREAM_TOO_LONG = Message(
    "more than {limit} bytes without a newline; closing the connection.", count="limit"
)
MESSAGE_TOO_LONG = Message(
    "a message of more than {limit} bytes; closing the connection.", count="limit"
)
BINARY_MESSAGE = Message("binary messages are not understood; send text, one line a message.")
FLOODING = Message(
    "slow down: at most {rate:g} lines a second (bursts of {burst}); lines over that are dropped.",
    count="burst",
)
FLOOD_KICK = Message("too many lines too fast; closing the connection.")
REGISTRATION_TIMEOUT = Message("registration took too long; closing the connection.")
IDLE_TIMEOUT = Message("idle for too long; closing the connection.")
SLOW_READER = Message("you are not reading what the server sends; closing the connection.")
USAGE = Message("usage: {usage} (or {alias}).")
RENAME_UNDER_WAY = Message("your last change of name is still under way; try again in a moment.")

# Name and group rules.
NAME_EMPTY = Message("a name can't be empty.")
NAME_TOO_LONG = Message("a name is at most {max} characters (that one has {length}).", count="max")
NAME_BAD_CHARACTER = Message("a name may hold only letters, digits, _ and - (not {shown}).")
NAME_A_SPACE = Message("a space")
NAME_MIXED_SCRIPTS = Message("a name can't mix Latin, Greek and Cyrillic letters.")
GROUP_EMPTY = Message("a group can't be empty.")
GROUP_TOO_LONG = Message(
    "a group is at most {max} characters (that one has {length}).", count="max"
)
GROUP_UNPRINTABLE = Message("a group may hold only printable characters.")

# /pomoc: a heading, one line a command (summaries below), and a footer.
HELP_HEADING = Message("Commands (Polish name, then the English alias):")
HELP_ENTRY = Message("  {label:<{width}}{summary}")
HELP_PLAIN = Message(
    "Any other line goes to everyone; start it with // to send a line that begins with /."
)
HELP_LIMIT = Message("Lines may be up to {max_line} bytes.", count="max_line")
SUMMARY_HELP = Message("this list")
SUMMARY_MSG = Message("send TEXT to NAME only (never logged)")
SUMMARY_CHANGENAME = Message("change your name")
SUMMARY_ONLINE = Message("who is here, with their groups")
SUMMARY_QUIT = Message("leave the room")
SUMMARY_LANG = Message("show or choose your language")

# Usage of the commands that take arguments: the words in capitals are translated.
USAGE_MSG = Message("/msg NAME TEXT")
USAGE_W = Message("/w NAME TEXT")
USAGE_CHANGENAME = Message("/changename NEW")
USAGE_NICK = Message("/nick NEW")
USAGE_JEZYK = Message("/jezyk [CODE]")
USAGE_LANG = Message("/lang [CODE]")

# /jezyk (/lang): the answer is in the language just chosen; {name} is the
# language's own name for itself ("polski"), which no catalog translates.
LANGUAGE_SET = Message("From now on you read {name} ({code}).")
LANGUAGES = Message("Languages: {languages}; yours is {code}. Choose with /lang CODE.")
LANGUAGE_ENTRY = Message("{code} ({name})")
UNKNOWN_LANGUAGE = Message("there is no language {code} here; /lang lists those there are.")

# Durations, for moderation (bans, mutes): "banned for 5 minutes".
FOR_MINUTES = Message("for {minutes} minute", plural="for {minutes} minutes", count="minutes")

# Moderation: operators (/op), kicks, bans, mutes, announcements.
# Room traffic ({stamp} first); {reason} is the operator's text or NO_REASON;
# {duration} is a FOR_MINUTES.
KICKED = Message("{stamp} * {name} ({group}) was kicked out by {by} ({reason})")
BANNED = Message("{stamp} * {name} ({group}) was banned {duration} by {by} ({reason})")
ANNOUNCEMENT = Message("{stamp} [announcement] {by}: {text}")
NO_REASON = Message("no reason given")
# Last words to the one removed (the line door puts "Error: " in front).
KICKED_YOU = Message("you were kicked out by {by} ({reason}); closing the connection.")
BANNED_YOU = Message("you were banned {duration} by {by} ({reason}); closing the connection.")
# Refused at the door, like a full room.
BANNED_REFUSAL = Message(
    "Sorry, your address is banned for {minutes} more minute. Try again later.",
    plural="Sorry, your address is banned for {minutes} more minutes. Try again later.",
    count="minutes",
)
# /op
OP_GRANTED = Message("You are an operator now; /pomoc (/help) lists your commands.")
OP_ALREADY = Message("You are already an operator.")
OP_WRONG = Message("wrong password.")
OP_WAIT = Message(
    "too many wrong passwords; try again in {seconds} second.",
    plural="too many wrong passwords; try again in {seconds} seconds.",
    count="seconds",
)
OP_DISABLED = Message("this server has no operators (it runs without --op-password-file).")
NOT_OPERATOR = Message("/{word} is for operators; /op PASSWORD makes you one.")
NOT_YOURSELF = Message("that is you; name someone else.")
BAD_MINUTES = Message("{value} is not a number of minutes from 1 to {max}.")
# Replies to the operator.
NOT_BANNED_LOOPBACK = Message(
    "{address} is a loopback address, never banned: {name} was only kicked out."
)
UNBANNED = Message("The ban on {address} ({name}) is lifted.")
NOT_BANNED = Message("there is no ban on {address}; /bans lists them.")
BANS_NONE = Message("No bans.")
BANS = Message("Bans ({count}):", count="count")
BAN_ENTRY = Message(
    "  {address} ({name}): {minutes} more minute, by {by} ({reason})",
    plural="  {address} ({name}): {minutes} more minutes, by {by} ({reason})",
    count="minutes",
)
MUTE_DONE = Message("{name} is muted {duration}.")
UNMUTE_DONE = Message("{name} can speak again.")
NOT_MUTED = Message("{name} is not muted.")
# To the one muted.
YOU_ARE_MUTED = Message("{by} muted you {duration}: the room won't see your lines until then.")
YOU_ARE_UNMUTED = Message("{by} lifted your mute; you can speak again.")
MUTED = Message(
    "you are muted for {minutes} more minute; your line was not sent.",
    plural="you are muted for {minutes} more minutes; your line was not sent.",
    count="minutes",
)
ONLINE_OPERATOR = Message("@{name} ({group})")
# /pomoc for operators.
HELP_OPERATORS = Message("Operator commands:")
SUMMARY_OP = Message("become an operator (the password comes from the server's admin)")
SUMMARY_KICK = Message("disconnect NAME; everyone sees who did it and why")
SUMMARY_BAN = Message("kick NAME and refuse their address for MINUTES (default 60)")
SUMMARY_UNBAN = Message("lift the ban on ADDRESS")
SUMMARY_BANS = Message("the bans in force, with the time left")
SUMMARY_MUTE = Message("refuse NAME's public lines for MINUTES (default 60)")
SUMMARY_UNMUTE = Message("let NAME speak again")
SUMMARY_ANNOUNCE = Message("a notice to everyone, set apart from the chat")
USAGE_OP = Message("/op PASSWORD")
USAGE_OP_EN = Message("/oper PASSWORD")
USAGE_KICK = Message("/wyrzuc NAME [REASON]")
USAGE_KICK_EN = Message("/kick NAME [REASON]")
USAGE_BAN = Message("/zbanuj NAME [MINUTES] [REASON]")
USAGE_BAN_EN = Message("/ban NAME [MINUTES] [REASON]")
USAGE_UNBAN = Message("/odbanuj ADDRESS")
USAGE_UNBAN_EN = Message("/unban ADDRESS")
USAGE_MUTE = Message("/wycisz NAME [MINUTES]")
USAGE_MUTE_EN = Message("/mute NAME [MINUTES]")
USAGE_UNMUTE = Message("/odcisz NAME")
USAGE_UNMUTE_EN = Message("/unmute NAME")
USAGE_ANNOUNCE = Message("/oglos TEXT")
USAGE_ANNOUNCE_EN = Message("/announce TEXT")

# A room spread over several servers (nodes) through Redis.
SPLIT = Message(
    "The room is split: this server has lost the others for now. You can talk with the "
    "people on this server; messages to and from the rest are lost until it is whole again."
)
WHOLE = Message("The room is whole again; /online shows who is here.")
RENAMED_CONFLICT = Message(
    "While the room was split, someone elsewhere took the name {old} first; you are now {new}."
)
