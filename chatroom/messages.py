# -*- test-case-name: tests.test_messages -*-
"""
Every line the server says, in one place, so the wording stays consistent and a
translation or a second front door changes one module.

Conventions a client can rely on (see docs/protocol.md):
  - room traffic starts with a C{[HH:MM:SS]} server timestamp;
  - notices about people (join, leave, rename, shutdown) are C{[HH:MM:SS] * ...};
  - private messages carry C{[private]} or C{[private to NAME]};
  - errors start with C{Error: } and go to one person only.
"""

from __future__ import annotations

import time

HELP_COMMAND = "/pomoc (/help)"


class Clock:
    """
    Formats a server timestamp, once per second rather than once per message.

    C{time.strftime} is a C call but still the most expensive part of a public
    message line; the room formats one line per message, so caching the last
    second makes it free.
    """

    __slots__ = ("_second", "_stamp")

    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("[%H:%M:%S]", time.localtime(second))
        return self._stamp


def welcome(online: int, capacity: int) -> str:
    return f"Welcome to chatroom, the student chat room ({online}/{capacity} online)."


NAME_PROMPT = "Your name (1-20 letters, digits, _ or -):"
GROUP_PROMPT = "Your lab group (1-16 characters, e.g. GL3):"


def registered(name: str, group: str, online: int, capacity: int) -> str:
    return (
        f"Hello {name} ({group}), you are in: {online}/{capacity} online. "
        f"Type {HELP_COMMAND} for the commands."
    )


def room_full(count: int, capacity: int) -> str:
    return f"Sorry, the room is full ({count}/{capacity}). Try again later."


def too_many_from_address(count: int, limit: int) -> str:
    return f"Sorry, too many connections from your address ({count}/{limit}). Try again later."


def public(stamp: str, name: str, group: str, text: str) -> str:
    return f"{stamp} {name} ({group}): {text}"


def private_received(stamp: str, name: str, group: str, text: str) -> str:
    return f"{stamp} [private] {name} ({group}): {text}"


def private_sent(stamp: str, recipient: str, text: str) -> str:
    return f"{stamp} [private to {recipient}] {text}"


def joined(stamp: str, name: str, group: str, online: int, capacity: int) -> str:
    return f"{stamp} * {name} ({group}) joined ({online}/{capacity} online)"


def left(stamp: str, name: str, group: str) -> str:
    return f"{stamp} * {name} ({group}) left"


def renamed(stamp: str, old: str, new: str) -> str:
    return f"{stamp} * {old} is now known as {new}"


def online(entries: list[tuple[str, str]], capacity: int) -> str:
    people = ", ".join(f"{name} ({group})" for name, group in entries)
    return f"Online ({len(entries)}/{capacity}): {people}"


GOODBYE = "Goodbye!"


def shutting_down(stamp: str) -> str:
    return f"{stamp} * The server is shutting down. Goodbye!"


def error(text: str) -> str:
    return f"Error: {text}"


def unknown_command(word: str) -> str:
    return error(f"unknown command /{word}; type {HELP_COMMAND} for the list.")


def name_taken(name: str) -> str:
    return error(f"the name {name} is taken; pick another.")


def no_such_user(name: str) -> str:
    return error(f"nobody called {name} is online; /online lists who is.")


def line_too_long(limit: int) -> str:
    return error(f"line too long (the limit is {limit} bytes); it was discarded.")


def stream_too_long(limit: int) -> str:
    return error(f"more than {limit} bytes without a newline; closing the connection.")


def flooding(rate: float, burst: int) -> str:
    return error(
        f"slow down: at most {rate:g} lines a second (bursts of {burst}); "
        "lines over that are dropped."
    )


FLOOD_KICK = error("too many lines too fast; closing the connection.")
REGISTRATION_TIMEOUT = error("registration took too long; closing the connection.")
IDLE_TIMEOUT = error("idle for too long; closing the connection.")
SLOW_READER = error("you are not reading what the server sends; closing the connection.")
