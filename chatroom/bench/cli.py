"""
The command line around L{chatroom.bench.runner.run}: arguments, the loopback
check, the file descriptor limit, and the exit status (0 ok, 1 the run failed,
2 bad arguments, 3 the run overran its time bound, 130 interrupted).
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import os
import resource
import socket
import sys
from collections.abc import Sequence
from typing import NoReturn
from urllib.parse import urlsplit

from twisted.internet import defer, endpoints, task
from twisted.internet.protocol import Protocol

from chatroom.bench.config import BenchConfig, ConfigError
from chatroom.bench.result import BenchResult
from chatroom.bench.runner import run

_DESCRIPTION = """\
Measure a chatroom server: fill a room with CLIENTS simulated users, let SENDERS
of them talk for DURATION seconds, and report deliveries (message x recipient)
per second, lost / reordered / echoed messages and latency percentiles.

The server must be started without its abuse limits, or they are what you measure:
  twistd -n chatroom --port tcp6:5000:interface=\\:\\:1:backlog=1024 \\
      --max-clients 5000 --rate 0 --max-per-ip 0
Its defaults (flood control: 5 lines a second per client; 50 clients; 10 per
address, loopback exempt) would drop the senders' lines ('Error: slow down',
reported as a warning and as losses) or refuse most of the room."""

_EPILOG = """\
How it works: clients connect (at most --connect-concurrency at a time) and
register as <run>b0001, <run>b0002... in group 'bench', where <run> is random so
runs never mix.  Readiness is proven without parsing the server's wording: the
first client repeats a 'BSYNC <run> <k>' message until every other client has
received one.  Then the first SENDERS clients send 'BENCH <run> <sender> <seq>
<send_time_ns>' lines; every client counts them, checks order per sender, and
records latency (receive - send, one monotonic clock, one process).

Unthrottled (--rate 0), each sender keeps at most --window messages in flight
(sent, not yet received by the last client, the 'tracker'): sustainable
throughput, and latency is mostly queueing (in flight / throughput).  With
--rate R, R messages a second are spread over the senders, each stamped with
the time it was due, so a server that stalls the senders is charged for it.
After DURATION the run drains until every expected delivery arrived, or
--drain seconds, or --drain-idle seconds without progress.

The tool is Python too: near 100 % of a core for itself (shown under 'cpu'),
it is the limit, not the server.  Give --server-pid for the server's CPU and
deliveries per server CPU-second, the steadier figure on a busy machine.

Only loopback addresses are accepted unless --allow-remote: load a server you
run.  Every phase is bounded in time.  Exit status: 0 ok, 1 the run failed
(connection refused, a client refused or dropped during setup, setup timeout,
nothing delivered; with --strict also losses, reordering, echoes or dropped
clients), 2 bad arguments, 3 the run overran its time bound, 130 interrupted."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chatroom.bench",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = BenchConfig("", 0)
    p.add_argument(
        "host", metavar="HOST", nargs="?", help="server address or name (loopback: ::1, ...)"
    )
    p.add_argument("port", metavar="PORT", type=int, nargs="?", help="server port")
    p.add_argument(
        "--ws",
        metavar="URL",
        help="measure the browser door instead: its WebSocket, ws://HOST:PORT/ws "
        "(then HOST and PORT are not given)",
    )
    options: list[tuple[list[str], type, str, str]] = [
        (["--clients", "-n"], int, "N", "clients in the room, senders included"),
        (["--senders", "-s"], int, "S", "clients that send"),
        (["--duration", "-t"], float, "T", "seconds of sending"),
        (["--rate", "-r"], float, "R", "messages a second over all senders; 0: unthrottled"),
        (["--window"], int, "W", "unthrottled: messages in flight per sender"),
        (["--pad"], int, "BYTES", "extra bytes per message (a bare marker line is ~40 bytes)"),
        (["--connect-concurrency"], int, "C", "connects in flight while building the room"),
        (["--connect-timeout"], float, "SEC", "TCP connect timeout"),
        (["--setup-timeout"], float, "SEC", "limit for connecting everyone plus the barrier"),
        (["--drain"], float, "SEC", "max wait for outstanding deliveries after sending"),
        (["--drain-idle"], float, "SEC", "stop draining after this long without a delivery"),
        (["--max-msgs"], int, "M", "at most this many messages per sender"),
    ]
    for flags, kind, metavar, text in options:
        default = getattr(d, flags[0][2:].replace("-", "_"))
        shown = f"{default:,}" if isinstance(default, int) else f"{default:g}"
        p.add_argument(
            *flags,
            type=kind,
            default=default,
            metavar=metavar,
            help=f"{text} (default {shown})",
        )
    p.add_argument("--group", default=d.group, help=f"group the clients join (default {d.group})")
    p.add_argument(
        "--server-pid",
        type=int,
        default=0,
        metavar="PID",
        help="the server's process, for its CPU and memory from /proc (Linux)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on any lost, reordered or echoed message or dropped client",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="accept a non-loopback HOST (only for a server you run)",
    )
    return p


def resolve(host: str, allow_remote: bool = False) -> list[str]:
    """
    The IP addresses C{host} stands for, checked to be loopback unless allowed.

    @raise ConfigError: the name does not resolve, or is not loopback.
    """
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ConfigError(f"can't resolve {host!r}: {e.strerror}") from None
    addresses = list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))
    if not allow_remote:
        remote = [a for a in addresses if not ipaddress.ip_address(a).is_loopback]
        if remote:
            raise ConfigError(
                f"{host} is not a loopback address ({remote[0]}): this tool loads a server "
                "hard; give --allow-remote if it is yours"
            )
    return addresses


async def pick_address(reactor, addresses: list[str], port: int, timeout: float) -> str:
    """
    The first address that accepts a connection: "localhost" is both ::1 and
    127.0.0.1, and a server often listens on only one of them.
    """
    for address in addresses[:-1]:
        kind = endpoints.TCP6ClientEndpoint if ":" in address else endpoints.TCP4ClientEndpoint
        try:
            probe = await endpoints.connectProtocol(
                kind(reactor, address, port, timeout=timeout), Protocol()
            )
        except Exception:
            continue
        probe.transport.abortConnection()
        return address
    return addresses[-1]


def raise_fd_limit(needed: int) -> None:
    """
    Let this process open C{needed} descriptors, raising the soft limit as
    far as the hard one allows.

    @raise ConfigError: the hard limit is too low.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ConfigError(
                f"{needed} file descriptors needed, the hard limit is {hard}: "
                "raise it (ulimit -Hn) or use fewer --clients"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def web_url(url: str) -> tuple[str, int, str]:
    """
    The host, port and path of a C{ws://} URL.

    @raise ConfigError: not a ws:// URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ConfigError(f"--ws takes a ws://HOST:PORT/PATH URL, not {url!r}")
    try:
        port = parts.port or 80
    except ValueError:
        raise ConfigError(f"--ws: bad port in {url!r}") from None
    return parts.hostname, port, parts.path or "/"


def _config(args: argparse.Namespace) -> BenchConfig:
    ws_path = ""
    if args.ws is not None:
        if args.host is not None:
            raise ConfigError("give either HOST PORT or --ws URL, not both")
        args.host, args.port, ws_path = web_url(args.ws)
    elif args.host is None or args.port is None:
        raise ConfigError("HOST and PORT are required (or --ws URL)")
    if not 0 < args.port < 65536:
        raise ConfigError("PORT must be between 1 and 65535")
    config = BenchConfig(
        host=args.host,
        port=args.port,
        clients=args.clients,
        senders=args.senders,
        duration=args.duration,
        rate=args.rate,
        window=args.window,
        pad=args.pad,
        group=args.group,
        connect_concurrency=args.connect_concurrency,
        connect_timeout=args.connect_timeout,
        setup_timeout=args.setup_timeout,
        drain=args.drain,
        drain_idle=args.drain_idle,
        max_msgs=args.max_msgs,
        server_pid=args.server_pid,
        strict=args.strict,
        ws_path=ws_path,
    )
    config.validate()
    return config


def _main(
    reactor, config: BenchConfig, addresses: list[str], as_json: bool
) -> defer.Deferred[None]:
    """Run, report, and turn the outcome (or an interruption) into an exit status."""
    outcome: defer.Deferred[None] = defer.Deferred()

    def report(result: BenchResult) -> None:
        print(result.summary(), file=sys.stderr)
        if as_json:
            print(json.dumps(result.to_dict(), indent=1))
        if outcome.called:
            return
        if result.ok:
            outcome.callback(None)
        else:
            outcome.errback(SystemExit(1))

    def overran() -> NoReturn:
        print(f"error: the run overran its {bound:g} s bound; giving up", file=sys.stderr)
        os._exit(3)

    def interrupted() -> None:
        if not outcome.called:
            print("interrupted", file=sys.stderr)
            outcome.errback(SystemExit(130))

    bound = config.time_bound() + 10
    watchdog = reactor.callLater(bound, overran)
    reactor.addSystemEventTrigger("before", "shutdown", interrupted)

    async def go() -> BenchResult:
        host = await pick_address(reactor, addresses, config.port, config.connect_timeout)
        return await run(reactor, dataclasses.replace(config, host=host))

    finished = defer.Deferred.fromCoroutine(go())
    finished.addCallback(report)
    finished.addErrback(lambda f: outcome.called or outcome.errback(f))
    finished.addBoth(lambda _: watchdog.active() and watchdog.cancel())
    return outcome


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The command line: see C{python -m chatroom.bench --help}."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = _config(args)
        addresses = resolve(config.host, args.allow_remote)
        raise_fd_limit(config.clients + 64)
    except ConfigError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    task.react(_main, (config, addresses, args.json))
