# -*- test-case-name: tests.test_client -*-
"""
The terminal side of chatroom-client: an input line that stays at the bottom
while the conversation scrolls past above it.

Twisted's C{recvline} gives the key map and the history, but three things in
it don't suit a chat client, so L{LineEditor} overrides them:
  - it accepts ASCII only (C{string.printable}) and stores bytes, so Polish
    letters were dropped; here keystrokes go through an incremental UTF-8
    decoder and the line is a list of characters, so backspace removes one
    character, not one byte;
  - it starts with C{terminal.reset()} and C{ServerProtocol.loseConnection}
    resets again: both clear the screen and the user's scrollback, which is
    the conversation; neither is ever called here;
  - it edits the screen incrementally (insert mode, one column per element)
    and a long line wraps; here every change redraws the one input row,
    scrolled sideways to keep the cursor in view, so printing a message above
    it is always "erase the row, print, redraw".
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import shutil
import termios
import tty
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from twisted.conch.insults import insults
from twisted.conch.recvline import HistoricRecvLine
from twisted.internet import defer, stdio
from twisted.python.failure import Failure

from chatroom import messages
from chatroom.i18n.recognise import literals_after, prefixes

PROMPT = "> "


class ConsoleUser(Protocol):
    """What a console reports to: the user's lines, end of input, and Ctrl-C."""

    def user_line(self, text: str) -> None: ...

    def user_eof(self) -> None: ...

    def user_interrupt(self, signum: int = ...) -> None: ...


def char_width(ch: str) -> int:
    """Columns a character takes: 2 for wide East Asian ones and emoji, 0 for combining marks."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def text_width(text: str | list[str]) -> int:
    return sum(char_width(ch) for ch in text)


# Colours (SGR parameters).  Names get one of several colours picked from the
# name itself, so a person keeps their colour for the whole conversation.
_NAME_COLOURS = ("32", "33", "34", "35", "36", "92", "93", "94", "95", "96")
_STAMP = r"\[\d\d:\d\d:\d\d\]"
_PUBLIC = re.compile(rf"({_STAMP}) (\S+) (\(.*?\)): (.*)", re.S)


def _tags(message: messages.Message) -> str:
    """The tags after the stamp in C{message}'s every language ("[private]", "[prywatnie]")."""
    return "|".join(re.escape(tag.strip()) for tag in literals_after(message, "stamp"))


def _tag_around(message: messages.Message, field: str) -> str:
    """A tag with a field inside ("[private to NAME]"), as a pattern capturing the field."""
    before = [re.escape(text.lstrip()) for text in literals_after(message, "stamp")]
    after = [re.escape(text.rstrip()) for text in literals_after(message, field)]
    return f"(?:{'|'.join(before)})(\\S+)(?:{'|'.join(after)})"


# Shapes are the same in every language; the words are the catalogs'.
_PRIVATE = re.compile(
    rf"({_STAMP}) ((?:{_tags(messages.PRIVATE)})|{_tag_around(messages.PRIVATE_SENT, 'to')}) "
    r"(?:(\S+) (\(.*?\)): )?(.*)",
    re.S,
)
_NOTICE = re.compile(rf"({_STAMP}) (\* .*)", re.S)
_HISTORY = re.compile(
    rf"({_STAMP}) ((?:{_tags(messages.PUBLIC_HISTORY)})) (\S+) (\(.*?\)): (.*)", re.S
)
_ANNOUNCEMENT = re.compile(rf"({_STAMP}) ((?:{_tags(messages.ANNOUNCEMENT)}) .*)", re.S)
_ALARMS = prefixes(
    messages.ERROR, messages.ROOM_FULL, messages.TOO_MANY_FROM_ADDRESS, messages.BANNED_REFUSAL
)
_OWN = re.compile(rf"({_STAMP}) (\S+:) (.*)", re.S)


def sgr(codes: str, text: str) -> str:
    """C{text} in the graphic rendition C{codes}, then back to normal."""
    return f"\x1b[{codes}m{text}\x1b[0m"


def name_colour(name: str) -> str:
    """The same colour for a name every time (C{hash()} is salted per process; crc32 isn't)."""
    return _NAME_COLOURS[zlib.crc32(name.casefold().encode("utf-8")) % len(_NAME_COLOURS)]


def colourise(line: str, style: str = "server") -> str:
    """
    Colour one transcript line by what it is: a public message (the name in
    its colour), one from the history replayed on joining (dimmed), an
    operator's announcement (reverse yellow), a notice (yellow), a private
    message (magenta), an error (red), the user's own message (bold green
    "you"), or the client's own status line (cyan).  Anything else is left
    as it is.
    """
    if style in ("notice", "status"):
        return sgr("36", line)
    if style == "own":
        match = _OWN.fullmatch(line)
        if match:
            stamp, you, text = match.groups()
            return f"{sgr('2', stamp)} {sgr('1;32', you)} {text}"
        return line
    match = _PUBLIC.fullmatch(line)
    if match:
        stamp, name, group, text = match.groups()
        return f"{sgr('2', stamp)} {sgr('1;' + name_colour(name), name)} {sgr('2', group)}: {text}"
    match = _ANNOUNCEMENT.fullmatch(line)
    if match:
        stamp, announcement = match.groups()
        return f"{sgr('2', stamp)} {sgr('1;7;33', announcement)}"
    match = _HISTORY.fullmatch(line)
    if match:
        # Said before you joined: all dimmed but the name's colour, so it
        # reads as the past and the live lines below it stand out.
        stamp, tag, name, group, text = match.groups()
        said = sgr("2", f"{group}: {text}")
        return f"{sgr('2', f'{stamp} {tag}')} {sgr(name_colour(name), name)} {said}"
    match = _PRIVATE.fullmatch(line)
    if match:
        stamp, tag, _, name, group, text = match.groups()
        sender = f"{sgr('1;35', name)} {sgr('2', group)}: " if name else ""
        return f"{sgr('2', stamp)} {sgr('35', tag)} {sender}{sgr('35', text)}"
    match = _NOTICE.fullmatch(line)
    if match:
        stamp, notice = match.groups()
        return f"{sgr('2', stamp)} {sgr('33', notice)}"
    if line.startswith(_ALARMS):
        return sgr("1;31", line)
    return line


def terminal_size(fd: int = 1) -> tuple[int, int]:
    """(columns, rows) of the terminal on C{fd}; a new pty says 0x0, so fall back to 80x24."""
    try:
        columns, rows = os.get_terminal_size(fd)
    except OSError:
        columns = rows = 0
    if columns <= 0 or rows <= 0:
        fallback = shutil.get_terminal_size()
        columns, rows = columns or fallback.columns, rows or fallback.lines
    return columns, rows


class LineEditor(HistoricRecvLine):
    """
    One input line at the bottom of the terminal, with history, that survives
    messages arriving while it is being typed (L{show} prints above it).

    Keys: left/right, Home/End (also Ctrl-A/E, Ctrl-B/F), up/down history
    (also Ctrl-P/N), Backspace, Delete, Insert (typeover), Ctrl-U/K (cut to
    start/end), Ctrl-W and Alt-Backspace (cut a word), Ctrl-L (redraw),
    Enter, Ctrl-D (end on an empty line, else delete), Ctrl-C.
    """

    def __init__(self, user: ConsoleUser, colour: bool = True) -> None:
        self.user = user
        self.colour = colour
        self.prompt = PROMPT
        self.closed: defer.Deferred[None] = defer.Deferred()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._scroll = 0  # index of the first character shown
        self._closing = False

    # Setup and teardown

    def connectionMade(self) -> None:
        self.mode = "insert"
        super().connectionMade()
        self.historyLines: list[str] = []
        self.keyHandlers.update(
            {
                b"\x01": self.handle_HOME,  # Ctrl-A
                b"\x02": self.handle_LEFT,  # Ctrl-B
                b"\x03": self.handle_INTERRUPT,  # Ctrl-C (raw mode: no SIGINT)
                b"\x04": self.handle_EOF,  # Ctrl-D
                b"\x05": self.handle_END,  # Ctrl-E
                b"\x06": self.handle_RIGHT,  # Ctrl-F
                b"\x08": self.handle_BACKSPACE,  # Ctrl-H
                b"\x0b": self.handle_KILL_END,  # Ctrl-K
                b"\x0c": self.redraw,  # Ctrl-L
                b"\x0e": self.handle_DOWN,  # Ctrl-N
                b"\x10": self.handle_UP,  # Ctrl-P
                b"\x15": self.handle_KILL_START,  # Ctrl-U
                b"\x17": self.handle_KILL_WORD,  # Ctrl-W
            }
        )

    def initializeScreen(self) -> None:
        # No terminal.reset() (it clears the screen) and no insert mode (IRM
        # would outlive us in the user's shell): we redraw the row instead.
        self.redraw()

    def terminalSize(self, width: int, height: int) -> None:
        # RecvLine's version erases the whole display.
        self.width, self.height = width, height
        self.redraw()

    def close(self) -> defer.Deferred[None]:
        """
        Leave the terminal as a shell expects it: the cursor at the start of a
        line, unsent text (if any) left visible, nothing cleared.  Fires once
        stdout is flushed.
        """
        if not self._closing:
            self._closing = True
            terminal = self.terminal
            if self.lineBuffer:
                terminal.write(b"\n")  # ServerProtocol.write makes it CR LF
            else:
                terminal.write(b"\r")
                terminal.eraseLine()
            # Not terminal.loseConnection(): ServerProtocol's resets the terminal.
            terminal.transport.loseConnection()
        return self.closed

    def connectionLost(self, reason: Failure) -> None:
        if not self._closing:
            self._closing = True
            self.user.user_eof()  # the terminal went away (hangup): leave politely
        if not self.closed.called:
            self.closed.callback(None)

    # Output

    def show(self, text: str, style: str = "server") -> None:
        """Print a line of the conversation above the input line."""
        if self._closing:
            return
        if style in ("notice", "status"):
            text = "-- " + text
        if self.colour:
            text = colourise(text, style)
        self.terminal.write(b"\r")
        self.terminal.eraseLine()
        self.terminal.write(text.encode("utf-8") + b"\n")  # sent as CR LF
        self.redraw()

    def ask(self, prompt: str) -> None:
        """Show the server's question as the input line's prompt, until answered."""
        self.prompt = prompt + " "
        self.redraw()

    def redraw(self) -> None:
        """Draw the prompt and the visible part of the line, and put the cursor in place."""
        if self._closing:
            return
        prompt = self._shown_prompt()
        room = max(self.width - text_width(prompt) - 1, 1)
        buffer, index = self.lineBuffer, self.lineBufferIndex
        # Scroll sideways so the cursor is in view, and no further than needed.
        self._scroll = min(self._scroll, index)
        while text_width(buffer[self._scroll : index]) > room:
            self._scroll += 1
        while self._scroll and text_width(buffer[self._scroll - 1 :]) <= room:
            self._scroll -= 1
        shown, used = [], 0
        for ch in buffer[self._scroll :]:
            used += char_width(ch)
            if used > room:
                break
            shown.append(ch)
        terminal = self.terminal
        terminal.write(b"\r")
        terminal.write((prompt + "".join(shown)).encode("utf-8"))
        terminal.eraseToLineEnd()
        terminal.write(b"\r")
        column = text_width(prompt) + text_width(buffer[self._scroll : index])
        if column:
            terminal.cursorForward(column)

    drawInputLine = redraw

    def _shown_prompt(self) -> str:
        """The prompt, shortened from the left if it would leave too little room for typing."""
        prompt = self.prompt
        if text_width(prompt) > self.width - min(20, self.width // 2):
            prompt = "…" + prompt[-max(self.width // 4, 2) :]
        return prompt

    # Input

    def keystrokeReceived(self, keyID: bytes, modifier: object) -> None:
        if self._closing:
            return
        terminal = self.terminal
        if modifier == terminal.ALT:
            if keyID in (terminal.BACKSPACE, b"\x08"):
                self.handle_KILL_WORD()
            return  # other Alt keys (and ESC + key) do nothing
        handler = self.keyHandlers.get(keyID)
        if handler is not None:
            handler()
        elif len(keyID) == 1 and keyID >= b" ":
            # One byte of UTF-8 (function keys are multi-byte names like b"[F1]").
            for ch in self._decoder.decode(keyID):
                if ch.isprintable():
                    self.characterReceived(ch, False)

    def characterReceived(self, ch: str, moreCharactersComing: bool) -> None:
        index = self.lineBufferIndex
        at_end = index == len(self.lineBuffer)
        if self.mode == "insert" or at_end:
            self.lineBuffer.insert(index, ch)
        else:
            self.lineBuffer[index] = ch
        self.lineBufferIndex = index + 1
        column = text_width(self._shown_prompt()) + text_width(
            self.lineBuffer[self._scroll : index + 1]
        )
        if at_end and column < self.width - 1:
            self.terminal.write(ch.encode("utf-8"))  # the common case: typing at the end
        else:
            self.redraw()

    def _set_line(self, text: str) -> None:
        self.lineBuffer = list(text)
        self.lineBufferIndex = len(self.lineBuffer)
        self.redraw()

    def _move(self, index: int) -> None:
        self.lineBufferIndex = max(0, min(index, len(self.lineBuffer)))
        self.redraw()

    def handle_LEFT(self) -> None:
        self._move(self.lineBufferIndex - 1)

    def handle_RIGHT(self) -> None:
        self._move(self.lineBufferIndex + 1)

    def handle_HOME(self) -> None:
        self._move(0)

    def handle_END(self) -> None:
        self._move(len(self.lineBuffer))

    def handle_BACKSPACE(self) -> None:
        if self.lineBufferIndex > 0:
            self.lineBufferIndex -= 1
            del self.lineBuffer[self.lineBufferIndex]
            self.redraw()

    def handle_DELETE(self) -> None:
        if self.lineBufferIndex < len(self.lineBuffer):
            del self.lineBuffer[self.lineBufferIndex]
            self.redraw()

    def handle_TAB(self) -> None:
        for _ in range(self.TABSTOP - self.lineBufferIndex % self.TABSTOP):
            self.characterReceived(" ", True)

    def handle_INSERT(self) -> None:
        self.mode = "typeover" if self.mode == "insert" else "insert"

    def handle_KILL_START(self) -> None:
        del self.lineBuffer[: self.lineBufferIndex]
        self._move(0)

    def handle_KILL_END(self) -> None:
        del self.lineBuffer[self.lineBufferIndex :]
        self.redraw()

    def handle_KILL_WORD(self) -> None:
        start = self.lineBufferIndex
        while start and self.lineBuffer[start - 1].isspace():
            start -= 1
        while start and not self.lineBuffer[start - 1].isspace():
            start -= 1
        del self.lineBuffer[start : self.lineBufferIndex]
        self._move(start)

    def handle_UP(self) -> None:
        if self.historyPosition == len(self.historyLines) and self.lineBuffer:
            self.historyLines.append("".join(self.lineBuffer))
        if self.historyPosition > 0:
            self.historyPosition -= 1
            self._set_line(self.historyLines[self.historyPosition])

    def handle_DOWN(self) -> None:
        if self.historyPosition < len(self.historyLines) - 1:
            self.historyPosition += 1
            self._set_line(self.historyLines[self.historyPosition])
        else:
            self.historyPosition = len(self.historyLines)
            self._set_line("")

    def handle_RETURN(self) -> None:
        line = "".join(self.lineBuffer)
        if line and (not self.historyLines or self.historyLines[-1] != line):
            self.historyLines.append(line)
        self.historyPosition = len(self.historyLines)
        self.lineBuffer, self.lineBufferIndex, self._scroll = [], 0, 0
        if self.prompt != PROMPT:
            # An answer to the server's question: keep both in the transcript.
            question, self.prompt = self.prompt, PROMPT
            self.show(question + line)
        else:
            self.redraw()
        self.user.user_line(line)

    def handle_EOF(self) -> None:
        """Ctrl-D: the end on an empty line (as in a shell), delete under the cursor otherwise."""
        if self.lineBuffer:
            self.handle_DELETE()
        else:
            self.user.user_eof()

    def handle_INTERRUPT(self) -> None:
        self.user.user_interrupt()


def start_terminal(user: ConsoleUser, colour: bool, reactor=None) -> LineEditor:
    """Run a L{LineEditor} on stdin/stdout (already in raw mode: see L{terminal_state})."""
    editor = LineEditor(user, colour)
    editor.width, editor.height = terminal_size()
    stdio.StandardIO(insults.ServerProtocol(lambda: editor), reactor=reactor)
    return editor


@contextmanager
def terminal_state(raw: bool) -> Iterator[None]:
    """
    Put the terminal in raw mode (if C{raw}), and on the way out put stdin and
    stdout back as they were: the termios settings, and the blocking flag
    that C{StandardIO} clears (the shell shares those file descriptions and
    some programs fail on a non-blocking terminal).
    """
    flags = {}
    for fd in (0, 1):
        try:
            flags[fd] = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            pass
    saved = termios.tcgetattr(0) if raw else None
    if raw:
        tty.setraw(0)
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        for fd, flag in flags.items():
            try:
                fcntl.fcntl(fd, fcntl.F_SETFL, flag)
            except OSError:
                pass
