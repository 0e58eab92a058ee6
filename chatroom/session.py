# -*- test-case-name: tests.test_session -*-
"""
One person's conversation with the room, whatever the wire: the name and group
prompts, then public lines and commands.

A front door turns its transport into decoded text lines and gives them to
L{Session.line_received} with the time; the session answers with events,
rendered for the person's audience (wire and language) and written through
the C{send} and C{close} callables it was built with.  The same session
serves the line protocol and the WebSocket.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.python.failure import Failure

from chatroom import commands, events, i18n, messages
from chatroom.catalog import Catalog
from chatroom.events import Event, Text
from chatroom.fanout import Audience
from chatroom.limits import FloodGuard
from chatroom.names import RuleError
from chatroom.room import Member, Room
from chatroom.text import clean

_NAME, _GROUP, _CHAT, _DONE, _WAIT = range(5)


def is_chat(line: str) -> bool:
    """Whether C{line}, typed by a member, is a public message (not a command)."""
    return line[:1] != "/" or line[:2] == "//"


class Session:
    """
    @ivar member: the room's record of this person, once a name is reserved.
    @ivar on_join: called once the person has joined (the protocol switches
        from the registration timeout to the idle timeout then).
    """

    __slots__ = (
        "room",
        "member",
        "max_line",
        "on_join",
        "audience",
        "audience_for",
        "_send",
        "_close",
        "_peer",
        "_address",
        "_state",
        "_flood",
        "_held",
        "_probe",
    )

    def __init__(
        self,
        room: Room,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        peer: str,
        audience: Audience,
        flood: FloodGuard | None = None,
        max_line: int = 4096,
        on_join: Callable[[], None] | None = None,
        audience_for: Callable[[str], Audience] | None = None,
        probe: Callable[[], None] | None = None,
        address: str = "",
    ) -> None:
        self.room = room
        self.member: Member | None = None
        self.max_line = max_line
        self.on_join = on_join
        self.audience = audience
        # The door's audience for a language (its wire, that language): what
        # /lang switches to.  None: this door has one language only.
        self.audience_for = audience_for
        self._send = send
        self._close = close
        self._peer = peer
        self._address = address
        self._state = _NAME
        self._flood = flood
        # Lines that came while the cluster answered a claim or a join (a
        # client pipelining "name\ngroup\n"): handled, in order, after it.
        self._held: list[tuple[str, float]] = []
        # The door's check that the connection is alive (see Member.probe).
        self._probe = probe

    @property
    def joined(self) -> bool:
        return self._state == _CHAT

    @property
    def ended(self) -> bool:
        return self._state == _DONE

    @property
    def lang(self) -> str:
        """The code of the language this person reads."""
        return getattr(self.audience, "lang", i18n.DEFAULT)

    @property
    def catalog(self) -> Catalog:
        """This person's language, for answers whose layout depends on it (/pomoc)."""
        return i18n.catalog(self.lang)

    def languages(self) -> list[str]:
        """The languages this person can switch to."""
        if self.audience_for is None:
            return [self.lang]
        return list(i18n.LANGUAGES)

    def set_language(self, lang: str) -> None:
        """
        Read C{lang} from now on: what is already queued arrives in the old
        language, everything after in the new one.
        """
        audience = self.audience_for(lang)
        if audience is self.audience:
            return
        self.audience = audience
        if self.member is not None:
            self.room.fanout.regroup(self.member, audience)

    def start(self) -> None:
        """Greet a new connection and ask for a name."""
        self.reply(events.Welcome(self.room.online, self.room.capacity))
        self.reply(events.Prompt("name"))

    def reply(self, event: Event) -> None:
        """An event for this person only, in order with the room's traffic to them."""
        if self._state == _CHAT:
            self.room.notify(self.member, event)
        elif self._state != _DONE:
            audience = self.audience
            piece = audience.render(event)
            if piece:
                self._send(audience.pack([piece]))

    def error(self, message: messages.Message | Text, **fields: object) -> None:
        """An error line for this person only."""
        text = message if isinstance(message, Text) else Text(message, **fields)
        self.reply(events.Error(text))

    def notice(self, message: messages.Message, **fields: object) -> None:
        """A notice (a confirmation, a line of help) for this person only."""
        self.reply(events.Notice(Text(message, **fields)))

    def line_received(self, line: str, now: float) -> None:
        """Handle one line of text (already decoded, without its line ending)."""
        state = self._state
        if self._flood is not None:
            verdict = self._flood.check(now)
            if verdict:
                self._flooded(verdict, now, state == _CHAT and is_chat(line))
                return
        if state == _CHAT:
            if line[:1] != "/":
                if line and not line.isspace():
                    self._say(line, now)
                return
            if line[:2] == "//":
                self._say(line[1:], now)
                return
        elif state == _DONE:
            return
        elif state == _WAIT:
            self._held.append((line, now))
            return
        elif line[:1] != "/":
            if state == _NAME:
                self._choose_name(line)
            else:
                self._choose_group(line, now)
            return
        self._command(line, now)

    def _say(self, line: str, now: float) -> None:
        self.room.counts.received["public"] += 1
        try:
            self.room.say(self.member, line, now)
        except RuleError as e:  # muted
            self.reply(events.Error(e.text, said=True))

    @property
    def operator(self) -> bool:
        """Whether this person gave the operators' password (/op) this session."""
        member = self.member
        return (
            self._state == _CHAT
            and member is not None
            and member.key in self.room.moderation.operators
        )

    @property
    def peer(self) -> str:
        """Where this person connects from, as the log shows it."""
        return self._peer

    @property
    def address(self) -> str:
        """
        The address the door admitted this person by (its C{address_key}:
        behind a PROXY header or a trusted proxy, the client's), which
        C{/op} counts wrong passwords by and C{/ban} refuses.
        """
        return self._address

    def _command(self, line: str, now: float) -> None:
        word, _, args = line[1:].partition(" ")
        word = clean(word)
        command = commands.lookup(word)
        kind = "private" if command is not None and command.name == "msg" else "command"
        self.room.counts.received[kind] += 1
        if command is None:
            self.error(messages.UNKNOWN_COMMAND, word=word, help=messages.HELP_COMMAND)
        elif self._state != _CHAT and not command.anytime:
            self.error(messages.NOT_YET, word=word)
        elif command.operator and not self.operator:
            self.error(messages.NOT_OPERATOR, word=word)
        else:
            try:
                command.handler(self, args, now)
            except RuleError as e:
                self.error(e.text)
        self._reprompt()

    def _reprompt(self) -> None:
        if self._state == _NAME:
            self.reply(events.Prompt("name"))
        elif self._state == _GROUP:
            self.reply(events.Prompt("group"))

    def _choose_name(self, line: str) -> None:
        try:
            self.member = self.room.reserve(
                line, self._send, self._removed, self._peer, self.audience, self._address
            )
            self.member.probe = self._probe
            pending = self.room.claim(self.member)
        except RuleError as e:
            self.error(e.text)
            self.reply(events.Prompt("name"))
            return
        if pending is None:
            self._named()
        else:
            self._wait(pending, self._named, self._unnamed)

    def _named(self, _: object = None) -> None:
        self._state = _GROUP
        self.reply(events.Prompt("group"))

    def _unnamed(self, failure) -> None:
        failure.trap(RuleError)
        self.member = None
        self._state = _NAME
        self.error(failure.value.text)
        self.reply(events.Prompt("name"))

    def _choose_group(self, line: str, now: float) -> None:
        try:
            pending = self.room.join(self.member, line, now)
        except RuleError as e:
            self.error(e.text)
            self.reply(events.Prompt("group"))
            return
        if pending is None:
            self._joined()
        else:
            self._wait(pending, self._joined, None)

    def _joined(self, _: object = None) -> None:
        self._state = _CHAT
        if self.on_join is not None:
            self.on_join()

    def _wait(self, pending, done, failed) -> None:
        """
        The cluster answers later: hold this person's lines until it does,
        then go on as if it had answered at once.
        """
        self._state = _WAIT

        def answered(result):
            if self._state != _WAIT:
                return None  # the connection went meanwhile
            if isinstance(result, Failure):
                failed(result)
            else:
                done()
            held, self._held = self._held, []
            # Already counted against the flood limit when they came.
            flood, self._flood = self._flood, None
            try:
                for line, when in held:
                    self.line_received(line, when)
            finally:
                self._flood = flood
            return None

        pending.addBoth(answered)

    def _flooded(self, verdict: int, now: float, said: bool) -> None:
        if verdict == FloodGuard.WARN:
            self.room.counts.flood_notices += 1
            flood = self._flood
            text = Text(messages.FLOODING, rate=flood.rate, burst=flood.burst)
            self.reply(events.Error(text, said=said))
        elif verdict == FloodGuard.KICK:
            self.kick(events.Bye(Text(messages.FLOOD_KICK), error=True), now, "flooding")

    def _removed(self) -> None:
        # The room is done with this person (an operator removed them) and
        # has said goodbye: the session is over, the connection closes.
        self._state = _DONE
        self._close()

    def quit(self, now: float) -> None:
        """/wyjdz: say goodbye, tell the others, close."""
        self.kick(events.Bye(Text(messages.GOODBYE)), now, "quit")

    def kick(self, last: events.Bye, now: float, reason: str) -> None:
        """End the session with last words to this person, then close the connection."""
        if self._state == _DONE:
            return
        self.reply(last)
        self.end(now, reason)
        # The last line may be queued behind the room's traffic: send this
        # person's share now, before the connection starts closing.
        if self.member is not None:
            self.room.release(self.member)
        self._close()

    def end(self, now: float, reason: str) -> None:
        """The connection is gone or going: free the name, tell the others (once)."""
        if self._state == _DONE:
            return
        self._state = _DONE
        self.room.counts.disconnected(reason)
        if self.member is not None:
            self.room.leave(self.member, now, reason)
