"""
Real child processes for integration tests, on the test's own reactor.

L{spawn} starts any program (with pipes, or on a pseudo-terminal of a given
size), and the L{ChildProcess} it returns collects what the program prints as
it prints it: a test waits for a pattern (L{ChildProcess.expect}) or for the
exit (L{ChildProcess.wait}), always with a timeout and never with a sleep, and
never blocks the reactor, so the server under test can run in the same
process.  L{stop_all} kills what a test left running.

L{Screen} is a small terminal emulator: feed it what a program wrote to its
terminal and read the rows as a person would see them.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import struct
import sys
import termios
import unicodedata
from collections.abc import Iterable, Sequence

from twisted.internet import defer, error, protocol
from twisted.python.failure import Failure

TIMEOUT = 10.0
"""Seconds a test waits for output or an exit: a passing test never gets near it."""


def python(*args: str) -> list[str]:
    """The argv to run this Python (the test's virtualenv) with C{args}."""
    return [sys.executable, *args]


class ChildProcess(protocol.ProcessProtocol):
    """
    A running program: its output so far, and Deferreds for what comes next.

    @ivar output: everything written to stdout (with a pty: to the terminal),
        decoded as UTF-8.
    @ivar errors: everything written to stderr (nothing, with a pty).
    @ivar status: the exit status once it has ended; a negative number is
        the signal that ended it.
    """

    def __init__(self, reactor, argv: Sequence[str], timeout: float = TIMEOUT) -> None:
        self.reactor = reactor
        self.argv = list(argv)
        self.timeout = timeout
        self.output = ""
        self.errors = ""
        self.raw = b""  # stdout as bytes, for a L{Screen}
        self.status: int | None = None
        self._decoders = {
            1: codecs.getincrementaldecoder("utf-8")("replace"),
            2: codecs.getincrementaldecoder("utf-8")("replace"),
        }
        self._searched = 0  # expect() looks at output after this point
        self._expecting: list[tuple[re.Pattern[str], defer.Deferred[re.Match[str]]]] = []
        self._exit_waiters: list[defer.Deferred[int]] = []

    # What the program does

    def outReceived(self, data: bytes) -> None:
        self.raw += data
        self.output += self._decoders[1].decode(data)
        self._check()

    def errReceived(self, data: bytes) -> None:
        self.errors += self._decoders[2].decode(data)

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        signal = getattr(reason.value, "signal", None)
        self.status = code if code is not None else -(signal or 0)
        expecting, self._expecting = self._expecting, []
        for pattern, waiter in expecting:
            waiter.errback(AssertionError(f"ended before {pattern.pattern!r} was seen\n{self}"))
        waiters, self._exit_waiters = self._exit_waiters, []
        for waiter in waiters:
            waiter.callback(self.status)

    @property
    def running(self) -> bool:
        return self.status is None

    @property
    def lines(self) -> list[str]:
        """stdout as lines (CR LF or LF), the last one even if unfinished."""
        return self.output.splitlines()

    def __str__(self) -> str:
        return (
            f"process {self.argv!r}, status {self.status}\n"
            f"stdout: {self.output!r}\nstderr: {self.errors!r}"
        )

    # Waiting for it

    def _check(self) -> None:
        while self._expecting:
            pattern, waiter = self._expecting[0]
            match = pattern.search(self.output, self._searched)
            if match is None:
                return
            self._expecting.pop(0)
            self._searched = match.end()
            waiter.callback(match)

    def expect(
        self, pattern: str, timeout: float | None = None, flags: int = re.MULTILINE
    ) -> defer.Deferred[re.Match[str]]:
        """
        A Deferred for the next match of C{pattern} in stdout, searching from
        the end of the previous match (so a sequence of expects reads the
        output in order).  Fails with the output so far on timeout or exit.
        """
        compiled = re.compile(pattern, flags)
        waiter: defer.Deferred[re.Match[str]] = defer.Deferred()
        timeout = self.timeout if timeout is None else timeout

        def timed_out(result, seconds):
            raise AssertionError(f"no {pattern!r} within {seconds}s\n{self}")

        waiter.addTimeout(timeout, self.reactor, onTimeoutCancel=timed_out)
        if self.running:
            self._expecting.append((compiled, waiter))
            self._check()
        else:
            match = compiled.search(self.output, self._searched)
            if match is not None:
                self._searched = match.end()
                waiter.callback(match)
            else:
                waiter.errback(AssertionError(f"ended before {pattern!r} was seen\n{self}"))
        return waiter

    def wait(self, timeout: float | None = None) -> defer.Deferred[int]:
        """
        A Deferred for the exit status.  On timeout the program is killed and
        the Deferred fails, showing what it printed.
        """
        waiter: defer.Deferred[int] = defer.Deferred()
        if not self.running:
            waiter.callback(self.status)
            return waiter
        self._exit_waiters.append(waiter)

        def timed_out(result, seconds):
            self.kill()
            raise AssertionError(f"still running after {seconds}s\n{self}")

        waiter.addTimeout(self.timeout if timeout is None else timeout, self.reactor, timed_out)
        return waiter

    # Talking to it

    def write(self, data: str | bytes) -> None:
        """Send to stdin (with a pty: type on its keyboard)."""
        self.transport.write(data.encode("utf-8") if isinstance(data, str) else data)

    def close_stdin(self) -> None:
        self.transport.closeStdin()

    def signal(self, name: str) -> None:
        """Send a signal by name ("INT", "TERM", "KILL"), if it still runs."""
        try:
            self.transport.signalProcess(name)
        except error.ProcessExitedAlready:
            pass

    def kill(self) -> None:
        self.signal("KILL")


def spawn(
    reactor,
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    path: str | None = None,
    terminal: tuple[int, int] | None = None,
    timeout: float = TIMEOUT,
) -> ChildProcess:
    """
    Start C{argv} (C{argv[0]} is looked up on C{PATH} if it has no slash).

    @param env: the whole environment (default: a copy of ours).
    @param terminal: (columns, rows) to run on a new pseudo-terminal of that
        size instead of pipes; stdout and stderr then arrive mixed, as on a
        screen.
    """
    child = ChildProcess(reactor, argv, timeout)
    executable = argv[0]
    if os.sep not in executable:
        found = [
            os.path.join(d, executable)
            for d in os.environ.get("PATH", "").split(os.pathsep)
            if os.access(os.path.join(d, executable), os.X_OK)
        ]
        executable = found[0] if found else executable
    use_pty: bool | tuple = False
    if terminal is not None:
        master, slave = pty.openpty()
        columns, rows = terminal
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        use_pty = (master, slave, os.ttyname(slave))
    reactor.spawnProcess(
        child,
        executable,
        list(argv),
        env=dict(os.environ) if env is None else env,
        path=path,
        usePTY=use_pty,
    )
    return child


async def stop_all(children: Iterable[ChildProcess], timeout: float = TIMEOUT) -> None:
    """Kill whatever is still running and wait until it has gone (no zombies)."""
    children = [child for child in children if child.running]
    for child in children:
        child.kill()
    for child in children:
        await child.wait(timeout)


class Screen:
    """
    What a terminal would show after a program's output: enough of a VT100
    for line editors (CR, LF, BS, cursor moves, erasing in the line, wide
    characters, wrapping).  Colours are noted, not kept; a full reset or a
    clear of the display is recorded in L{cleared}, since a chat client
    must never do it (it wipes the scrollback).

    @ivar scrollback: rows that scrolled off the top, oldest first.
    """

    _SEQUENCE = re.compile(r"\x1b(?:\[([0-9;?]*)([A-Za-z@])|([^\[]))")

    def __init__(self, columns: int = 80, rows: int = 24) -> None:
        self.columns, self.height = columns, rows
        self.rows = [[" "] * columns for _ in range(rows)]
        self.scrollback: list[str] = []
        self.x = self.y = 0
        self.coloured = False
        self.cleared = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def feed(self, data: bytes) -> Screen:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                match = self._SEQUENCE.match(text, i)
                if match is None:
                    if len(text) - i < 32:
                        self._pending = text[i:]  # the rest comes in the next chunk
                        break
                    i += 1
                    continue
                self._control(*match.groups())
                i = match.end()
                continue
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self._line_feed()
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch >= " ":
                self._put(ch)
            i += 1
        return self

    def _line_feed(self) -> None:
        if self.y == self.height - 1:
            self.scrollback.append("".join(self.rows.pop(0)).rstrip())
            self.rows.append([" "] * self.columns)
        else:
            self.y += 1

    def _put(self, ch: str) -> None:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            return
        width = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if self.x + width > self.columns:
            self.x = 0
            self._line_feed()
        row = self.rows[self.y]
        row[self.x] = ch
        if width == 2:
            row[self.x + 1] = ""
        self.x += width

    def _control(self, params: str | None, final: str | None, single: str | None) -> None:
        if single is not None:
            if single == "c":
                self.cleared = True
            return
        numbers = [int(p) if p.isdigit() else 0 for p in (params or "").split(";")]
        n = numbers[0] or 1
        row = self.rows[self.y]
        if final == "m":
            self.coloured = True
        elif final == "C":
            self.x = min(self.x + n, self.columns - 1)
        elif final == "D":
            self.x = max(self.x - n, 0)
        elif final == "G":
            self.x = min(n - 1, self.columns - 1)
        elif final == "A":
            self.y = max(self.y - n, 0)
        elif final == "B":
            self.y = min(self.y + n, self.height - 1)
        elif final == "K":
            start, end = {0: (self.x, self.columns), 1: (0, self.x + 1)}.get(
                numbers[0], (0, self.columns)
            )
            row[start:end] = [" "] * (end - start)
        elif final == "J" and numbers[0] == 2:
            self.cleared = True

    def line(self, y: int) -> str:
        """Row C{y} (negative: from the bottom), without trailing blanks."""
        return "".join(self.rows[y]).rstrip()

    @property
    def text(self) -> list[str]:
        """The scrollback and the screen, trailing empty rows left out."""
        lines = [*self.scrollback, *("".join(row).rstrip() for row in self.rows)]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    @property
    def cursor_row(self) -> str:
        return self.line(self.y)

    def before_cursor(self) -> str:
        """What the cursor's row shows to the left of the cursor."""
        return "".join(self.rows[self.y][: self.x])
