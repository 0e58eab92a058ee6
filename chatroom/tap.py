# -*- test-case-name: tests.test_tap -*-
"""
C{twistd chatroom}: the command line, and the service tree it builds.

Run C{twistd chatroom --help} for every option.  C{makeService} takes the
reactor as an argument so tests can hand it a fake one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from chatroom import __version__, i18n
from chatroom.cluster.link import parse_url
from chatroom.fanout import Fanout
from chatroom.history import make_history
from chatroom.journal import DELAY, Journal
from chatroom.limits import parse_network
from chatroom.lines import line_audience
from chatroom.moderation import Moderation
from chatroom.protocol import ChatFactory
from chatroom.proxyheader import line_endpoint
from chatroom.room import Room
from chatroom.service import ChatService
from chatroom.settings import Settings

_DEFAULTS = Settings()


def _number(kind: Callable[[str], float], minimum: float, what: str) -> Callable[[str], float]:
    def coerce(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{text!r} is not {what}") from None
        if value < minimum:
            raise ValueError(f"{text!r} is not {what}")
        return value

    coerce.coerceDoc = f"Must be {what}."  # shown by --help
    return coerce


_count = _number(int, 1, "a whole number of at least 1")
_count0 = _number(int, 0, "a whole number of at least 0")
_seconds = _number(float, 0, "a number of seconds (0 or more)")
_positive_seconds = _number(float, 0.001, "a number of seconds above 0")
_rate = _number(float, 0, "a number (0 or more)")


def _language(text: str) -> str:
    lang = i18n.language(text)
    if lang is None:
        raise ValueError(f"{text!r} is not one of {', '.join(i18n.LANGUAGES)}")
    return lang


_language.coerceDoc = f"One of: {', '.join(i18n.LANGUAGES)}."


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "A multi-user chat room that anyone can join with telnet, nc or "
        "chatroom-client. Each person picks a unique name and a lab group; "
        "lines go to everyone else, /msg whispers to one person (never logged). "
        "Type /pomoc (/help) once connected. Limits default to values that suit a "
        "campus network; docs/limits.md explains each one."
    )

    optParameters = [
        [
            "lang",
            None,
            i18n.DEFAULT,
            "The language newcomers read (refusals at the door included) until they "
            "choose their own with /jezyk (/lang).",
            _language,
        ],
        [
            "port",
            "p",
            "tcp6:5000",
            "Where to listen, as a Twisted server endpoint string: tcp6:5000 (IPv6 and, "
            "where the OS allows, IPv4), tcp:5000:interface=127.0.0.1, "
            "tcp6:5000:backlog=1024 for many clients, ssl:5001:privateKey=key.pem, "
            "unix:/run/chatroom.sock, haproxy:tcp:5000:interface=127.0.0.1 behind a proxy "
            "sending the PROXY protocol (bans and limits go by the client's address). "
            "Colons inside values are escaped: interface=\\:\\:1.",
        ],
        [
            "max-clients",
            "m",
            _DEFAULTS.max_clients,
            "Connections at once, registering ones included; over it a newcomer gets "
            "one 'room is full' line.",
            _count,
        ],
        [
            "max-per-ip",
            None,
            _DEFAULTS.max_per_ip,
            "Connections at once from one address (IPv4-mapped IPv6 counts as IPv4); "
            "0 turns it off.",
            _count0,
        ],
        [
            "max-line",
            None,
            _DEFAULTS.max_line,
            "Longest line in bytes; a longer one gets an error and is discarded.",
            _count,
        ],
        [
            "max-line-hard",
            None,
            _DEFAULTS.max_line_hard,
            "Bytes without a newline after which the connection is closed.",
            _count,
        ],
        [
            "rate",
            None,
            _DEFAULTS.rate,
            "Lines a second each connection may send (0 turns flood control off).",
            _rate,
        ],
        [
            "burst",
            None,
            _DEFAULTS.burst,
            "Lines that may arrive at once before --rate applies.",
            _count,
        ],
        [
            "flood-kick",
            None,
            _DEFAULTS.flood_kick,
            "Lines dropped in one flood after which the sender is disconnected; 0: never.",
            _count0,
        ],
        [
            "max-output",
            None,
            _DEFAULTS.max_output,
            "Bytes of output queued for a client that stopped reading before it is disconnected.",
            _count,
        ],
        [
            "register-timeout",
            None,
            _DEFAULTS.register_timeout,
            "Seconds a connection has to choose its name and group.",
            _positive_seconds,
        ],
        [
            "idle-timeout",
            None,
            0,
            "Seconds of silence after which a member is disconnected; 0: never.",
            _seconds,
        ],
        [
            "metrics",
            None,
            None,
            "Where to serve Prometheus metrics (/metrics) and a health check (/healthz), "
            "as a server endpoint string: tcp:9100:interface=127.0.0.1. Off by default.",
        ],
        [
            "history",
            None,
            _DEFAULTS.history,
            "Public messages replayed to each newcomer right after they join, marked "
            "[history]; 0 turns history off.",
            _count0,
        ],
        [
            "redis",
            None,
            None,
            "Share the room with other chatroom processes (nodes) through this Redis: "
            "redis://[[user]:password@]host[:port][/db] or unix:/path/to/redis.sock[?db=N]. "
            "Without it this process is the whole room. See docs/cluster.md.",
        ],
        [
            "cluster-ttl",
            None,
            10.0,
            "With --redis: seconds after which a node that stopped answering is taken for "
            "dead (its members are announced as gone, their names freed).",
            _number(float, 0.3, "a number of seconds of at least 0.3"),
        ],
        [
            "node-id",
            None,
            None,
            "With --redis: this node's name in the cluster and its log "
            "(letters, digits, _ and -; default: host-pid-random).",
        ],
        [
            "web",
            None,
            None,
            "Serve the browser page and its WebSocket here (off unless given): a Twisted "
            "server endpoint string such as tcp6:8080, or ssl:8443:privateKey=key.pem for "
            "https and wss. The page is at /, the WebSocket at /ws (docs/web.md).",
        ],
        [
            "web-ping",
            None,
            _DEFAULTS.web_ping,
            "Seconds between WebSocket pings; a browser that hasn't answered by the next "
            "one is disconnected (0: no pings).",
            _seconds,
        ],
        [
            "shutdown-grace",
            None,
            _DEFAULTS.shutdown_grace,
            "Seconds connections get to close cleanly when the server stops.",
            _seconds,
        ],
    ]

    optFlags = [
        [
            "no-telnet",
            None,
            "Don't offer telnet BINARY mode on connect (telnet users then can't type "
            "all Polish letters; nc users are unaffected either way).",
        ],
        [
            "limit-loopback",
            None,
            "Apply --max-per-ip to loopback connections too (exempt by default).",
        ],
        [
            "no-write-through",
            None,
            "Always send through Twisted's public transport API, never straight to the "
            "socket (slower; chosen by itself when Twisted's internals are not as expected).",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["exempt"] = []
        self["op-password"] = None
        self["web-origin"] = []
        self["trusted-proxy"] = []

    def opt_web_origin(self, value: str) -> None:
        """Another page origin allowed to open the WebSocket (the page's own is); repeatable."""
        self["web-origin"].append(value)

    def opt_trusted_proxy(self, value: str) -> None:
        """A reverse proxy (address or network) whose X-Forwarded-For is believed; repeatable."""
        try:
            self["trusted-proxy"].append(parse_network(value))
        except ValueError as e:
            raise usage.UsageError(f"--trusted-proxy: {e}") from None

    def opt_exempt(self, value: str) -> None:
        """An address or network --max-per-ip skips (a proxy, a lab behind NAT); repeatable."""
        try:
            self["exempt"].append(parse_network(value))
        except ValueError as e:
            raise usage.UsageError(f"--exempt: {e}") from None

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        As usage.Options, but a mistake ends C{twistd chatroom} with status 1.

        twistd before 26.10 prints a usage error and exits with 0, so systemd
        and scripts took a typo in the options for a clean start and stop.
        Parsed on their own (no twistd C{parent}), the options still raise
        C{UsageError}.
        """
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            if getattr(self, "parent", None) is None:
                raise
            raise SystemExit(f"twistd chatroom: {e}\nTry 'twistd chatroom --help'.") from None

    def opt_op_password_file(self, path: str) -> None:
        """
        A file holding the operators' password (its first line): /op PASSWORD
        makes a member an operator (kick, ban, mute, announce). Without it
        nobody is. The password is read once, at start, and never logged.
        """
        try:
            with open(path, encoding="utf-8") as f:
                password = f.readline().strip()
        except (OSError, UnicodeDecodeError) as e:
            raise usage.UsageError(f"--op-password-file: cannot read {path}: {e}") from None
        if not password:
            raise usage.UsageError(f"--op-password-file: {path} holds no password")
        self["op-password"] = password

    def opt_version(self) -> None:
        """Show the chatroom version and exit."""
        print(f"chatroom {__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        if self["redis"] is not None:
            try:
                self["redis-address"] = parse_url(self["redis"])
            except ValueError as e:
                raise usage.UsageError(f"--redis: {e}") from None
        node = self["node-id"]
        if node is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", node):
            raise usage.UsageError("--node-id: 1-64 letters, digits, _ and - only")
        if self["web"]:
            from chatroom.web.twistedws import problem

            trouble = problem()
            if trouble is not None:
                raise usage.UsageError(
                    f"--web: {trouble}; install a Twisted that setup.cfg admits, "
                    "or run without --web (the line door does not depend on it)"
                )

    def settings(self) -> Settings:
        return Settings(
            max_clients=self["max-clients"],
            max_per_ip=self["max-per-ip"],
            exempt=tuple(self["exempt"]),
            exempt_loopback=not self["limit-loopback"],
            max_line=self["max-line"],
            max_line_hard=max(self["max-line-hard"], self["max-line"]),
            rate=self["rate"],
            burst=self["burst"],
            flood_kick=self["flood-kick"],
            max_output=self["max-output"],
            register_timeout=self["register-timeout"],
            idle_timeout=self["idle-timeout"] or None,
            telnet=not self["no-telnet"],
            shutdown_grace=self["shutdown-grace"],
            write_through=not self["no-write-through"],
            history=self["history"],
            web_ping=self["web-ping"],
        )


def makeService(options: Options, reactor=None) -> MultiService:
    """The chat service and its listener; stopping it says goodbye to everyone."""
    if reactor is None:
        from twisted.internet import reactor
    settings = options.settings()
    top = MultiService()
    bus = None
    if options["redis"] is not None:
        from chatroom.cluster.node import RedisBus

        bus = RedisBus(
            reactor,
            options["redis-address"],
            settings.max_clients,
            ttl=options["cluster-ttl"],
            node_id=options["node-id"],
            history=settings.history,
        )
        # Added first, stopped last: the goodbyes here, then the one to the cluster.
        bus.setServiceParent(top)
    room = Room(
        settings.max_clients,
        Fanout(schedule=lambda flush: reactor.callLater(0, flush)),
        Journal(schedule=lambda flush: reactor.callLater(DELAY, flush)),
        make_history(settings.history),
        Moderation(options["op-password"]),
        bus,
    )
    factory = ChatFactory(room, settings, reactor, line_audience(options["lang"]))
    # Added first, stopped last: the listener closes before the goodbyes.
    ChatService(factory).setServiceParent(top)
    endpoint = line_endpoint(reactor, options["port"])
    listener = StreamServerEndpointService(endpoint, factory)
    # Fail at startup if the port can't be had, instead of logging and idling.
    listener._raiseSynchronously = True
    listener.setServiceParent(top)
    if options["web"]:
        from chatroom.web.door import WebDoor
        from chatroom.web.render import web_audience
        from chatroom.web.site import make_site

        door = WebDoor(room, settings, reactor, factory.admission, web_audience(options["lang"]))
        site = make_site(door, options["web-origin"], options["trusted-proxy"])
        web = StreamServerEndpointService(serverFromString(reactor, options["web"]), site)
        web._raiseSynchronously = True
        web.setServiceParent(top)
    if options["metrics"]:
        from chatroom import metrics  # only with --metrics: prometheus_client is not light

        site = metrics.site(room, lambda: listener.running, reactor.seconds)
        scrape = StreamServerEndpointService(serverFromString(reactor, options["metrics"]), site)
        scrape._raiseSynchronously = True
        scrape.setServiceParent(top)
    return top
