"""
C{python -m chatroom.bench HOST PORT}: measure a chatroom server from the outside.

A sizing tool for people running their own server: it fills a room with N
clients, lets S of them talk, and reports deliveries (message x recipient) per
second, losses, ordering and latency.  It works like the project's Go load
generator (same markers, readiness barrier, window and drain rules), so its
figures can be compared with it, but needs nothing beyond Python and Twisted.

Everything is one process on one reactor, so latency is receive time minus
send time on the same monotonic clock.  The client side is Python too: past a
few hundred thousand deliveries a second the tool, not the server, is the
limit; the summary says so when the tool's own CPU is near one core.

L{run} is the core (a Deferred of a L{BenchResult}, usable from tests that run
a server in the same reactor); L{main} is the command line around it.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import os
import re
import resource
import secrets
import socket
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from twisted.internet import defer, endpoints, error, task
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from chatroom.telnet import TelnetFilter

# Lines a server sends when its flood control drops a line (see messages.py).
_SLOW_DOWN = b"Error: slow down"
# A line longer than this without a newline is cut to its tail (markers sit
# at the end of a line, after the server's decoration).
_MAX_PARTIAL = 1 << 16
# How long closing every connection may take before the rest are aborted.
_CLOSE_WAIT = 5.0
# Above this share of one core, the tool itself is probably the bottleneck.
_CLIENT_BOUND_PCT = 90.0


class ConfigError(ValueError):
    """A setting that can't work; the message says which and why."""


@dataclass(frozen=True)
class BenchConfig:
    """
    One run's settings.  C{host} is an IP address (the command line resolves
    names and checks for loopback before building this).
    """

    host: str
    port: int
    clients: int = 100
    senders: int = 10
    duration: float = 10.0
    rate: float = 0.0
    """Messages a second over all senders; 0: unthrottled, paced by C{window}."""
    window: int = 64
    """Unthrottled: messages per sender sent but not yet seen by the tracker."""
    pad: int = 0
    group: str = "bench"
    connect_concurrency: int = 50
    connect_timeout: float = 5.0
    greet_wait: float = 1.0
    """Hold a connect slot until the server's first bytes, or this long."""
    setup_timeout: float = 60.0
    """Connecting everyone and the readiness barrier, together."""
    sync_every: float = 0.2
    drain: float = 5.0
    drain_idle: float = 2.0
    max_msgs: int = 5_000_000
    """Per sender: a count bound next to the time bound."""
    server_pid: int = 0
    strict: bool = False
    """Also fail on lost, reordered or echoed messages and dropped clients."""
    run_id: str = ""
    """Random if empty: names and markers carry it so runs never mix."""

    def validate(self) -> None:
        """@raise ConfigError: a setting out of range."""
        if self.clients < 2:
            raise ConfigError("--clients must be at least 2 (senders need someone to hear them)")
        if not 1 <= self.senders < self.clients:
            raise ConfigError("--senders must be at least 1 and fewer than --clients")
        if self.clients > 99999:
            raise ConfigError("--clients is at most 99999")
        if not 0 < self.duration <= 3600:
            raise ConfigError("--duration must be above 0 and at most 3600 seconds")
        if self.rate < 0:
            raise ConfigError("--rate must be 0 (unthrottled) or more")
        if self.window < 1:
            raise ConfigError("--window must be at least 1")
        if not 0 <= self.pad <= 3000:
            raise ConfigError("--pad must be between 0 and 3000 bytes")
        if not 1 <= len(self.group.strip()) <= 16:
            raise ConfigError("--group must be 1-16 characters (the server's rule)")
        if self.connect_concurrency < 1:
            raise ConfigError("--connect-concurrency must be at least 1")
        for name in ("connect_timeout", "setup_timeout", "drain", "drain_idle"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be above 0")
        if self.max_msgs < 1:
            raise ConfigError("--max-msgs must be at least 1")
        if self.run_id and not re.fullmatch(r"[a-z0-9]{1,8}", self.run_id):
            raise ConfigError("a run id is 1-8 lowercase letters or digits")

    def time_bound(self) -> float:
        """Seconds a run can take at most, every phase at its limit."""
        return (
            self.setup_timeout
            + self.connect_timeout
            + self.greet_wait
            + self.duration
            + self.drain
            + 2 * _CLOSE_WAIT
        )


class LatencyHistogram:
    """
    Latencies in microseconds, log-linear like the Go load generator's: exact
    below 128 us, then 64 buckets per power of two (under 1.6 % error).  A
    list of counts, because a busy run records millions of values.
    """

    SIZE = 128 + 28 * 64

    def __init__(self) -> None:
        self.counts = [0] * self.SIZE
        self.count = 0
        self.sum_us = 0
        self.min_ns: int | None = None
        self.max_ns = 0

    def record(self, ns: int) -> None:
        """Add one latency (the hot path in L{_Run} inlines the same steps)."""
        us = ns // 1000
        self.counts[_bucket(us)] += 1
        self.count += 1
        self.sum_us += max(us, 0)
        if ns > self.max_ns:
            self.max_ns = ns
        if self.min_ns is None or ns < self.min_ns:
            self.min_ns = ns

    def quantile(self, q: float) -> float:
        """The C{q} quantile in milliseconds (a bucket's middle, at most the maximum)."""
        if not self.count:
            return 0.0
        target = max(1, int(q * self.count + 0.5))
        seen = 0
        top = self.max_ns / 1e6
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= target:
                return min(_bucket_mid(index) / 1000, top)
        return top

    def summary(self) -> dict[str, float | int]:
        if not self.count:
            return {"count": 0}
        return {
            "count": self.count,
            "min_ms": round((self.min_ns or 0) / 1e6, 3),
            "mean_ms": round(self.sum_us / self.count / 1000, 3),
            "p50_ms": round(self.quantile(0.50), 3),
            "p90_ms": round(self.quantile(0.90), 3),
            "p99_ms": round(self.quantile(0.99), 3),
            "p999_ms": round(self.quantile(0.999), 3),
            "max_ms": round(self.max_ns / 1e6, 3),
        }


def _bucket(us: int) -> int:
    if us < 128:
        return us if us > 0 else 0
    e = us.bit_length() - 7
    return min((e << 6) + (us >> e), LatencyHistogram.SIZE - 1)


def _bucket_mid(index: int) -> float:
    if index < 128:
        return index + 0.5
    e = (index >> 6) - 1
    return ((index - (e << 6)) << e) + (1 << e) / 2


@dataclass
class BenchResult:
    """What a run measured; L{to_dict} is the C{--json} output."""

    ok: bool = False
    error: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    address: str = ""
    clients: int = 0
    connected: int = 0
    registered: int = 0
    senders: int = 0
    receivers_per_msg: int = 0
    rate_target: float = 0.0
    window: int = 0
    setup_s: float = 0.0
    connect_s: float = 0.0
    send_s: float = 0.0
    messages: int = 0
    msgs_per_s: float = 0.0
    expected_deliveries: int = 0
    delivered: int = 0
    delivered_in_window: int = 0
    deliveries_per_s: float = 0.0
    deliveries_per_s_incl_drain: float = 0.0
    lost: int = 0
    lost_pct: float = 0.0
    reordered_or_dup: int = 0
    echoes: int = 0
    clients_dropped: int = 0
    slow_down_lines: int = 0
    window_stalls: int = 0
    max_sender_lag_ms: float = 0.0
    drain_s: float = 0.0
    client_cpu_pct: float = 0.0
    latency: dict[str, float | int] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """The human report (the command line prints it on stderr)."""
        head = f"chatroom bench {self.address} run {self.run_id}: "
        out = [head + ("ok" if self.ok else f"FAILED: {self.error}")]
        out.append(
            f"  room: {self.registered} of {self.clients} clients registered in "
            f"{self.setup_s:.2f} s (connects {self.connect_s:.2f} s)"
        )
        if self.messages or self.send_s:
            pace = (
                f"{self.rate_target:g} msg/s in total (senders at most "
                f"{self.max_sender_lag_ms:g} ms late)"
                if self.rate_target
                else f"unthrottled, window {self.window} per sender"
            )
            out += [
                f"  sending: {self.senders} senders to {self.receivers_per_msg} receivers "
                f"for {self.send_s:.2f} s, {pace}",
                f"  {self.messages:,} messages ({self.msgs_per_s:,.0f}/s), "
                f"{self.delivered:,} deliveries ({self.deliveries_per_s:,.0f}/s; "
                f"{self.deliveries_per_s_incl_drain:,.0f}/s incl. drain)",
                f"  lost {self.lost:,} ({self.lost_pct:.3f} %), reordered {self.reordered_or_dup}, "
                f"echoes {self.echoes}, clients dropped {self.clients_dropped}",
            ]
            lat = self.latency
            if lat.get("count"):
                out.append(
                    f"  latency ms: p50 {lat['p50_ms']} p90 {lat['p90_ms']} p99 {lat['p99_ms']} "
                    f"p99.9 {lat['p999_ms']} max {lat['max_ms']} (n={lat['count']:,})"
                )
            cpu = f"  cpu: this tool {self.client_cpu_pct:.0f} % of a core"
            if self.server.get("cpu_pct") is not None:
                cpu += f", server {self.server['cpu_pct']:.0f} %"
                if self.server.get("deliveries_per_cpu_s"):
                    cpu += f" ({self.server['deliveries_per_cpu_s']:,.0f} deliveries per CPU-s)"
            out.append(cpu)
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  error: {e}" for e in self.errors]
        return "\n".join(out)


class BenchClient(Protocol):
    """
    One simulated user: registers on connect, hands complete lines to the run.

    Lines are processed a received chunk at a time (one regular expression
    pass), not one call per line: the client side must stay cheaper than the
    server it measures.
    """

    def __init__(self, bench: _Run, name: str) -> None:
        self.bench = bench
        self.name = name
        self.sender = -1
        self.last_seq = [-1] * bench.config.senders
        self.synced = False
        self.alive = False
        self.greeting: defer.Deferred[None] | None = None
        self.closed: defer.Deferred[None] = defer.Deferred()
        self.tail = b""
        self._buffer = b""
        self._telnet = TelnetFilter()

    def connectionMade(self) -> None:
        self.alive = True
        try:
            # Our writes must not wait for ACKs (Nagle) or the latency is ours.
            self.transport.setTcpNoDelay(True)
        except (AttributeError, OSError, NotImplementedError):
            pass
        self.transport.write(f"{self.name}\n{self.bench.config.group}\n".encode())

    def dataReceived(self, data: bytes) -> None:
        data = self._telnet.feed(data)
        if self._buffer:
            data = self._buffer + data
        end = data.rfind(b"\n") + 1
        if not end:
            self._buffer = data[-_MAX_PARTIAL:]
        else:
            if end < len(data):
                self._buffer = data[end:]
                data = data[:end]
            else:
                self._buffer = b""
            self.tail = data[-300:]
            self.bench.received(self, data)
        self._greeted()

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:
        self.alive = False
        self._greeted()
        self.bench.lost(self, reason)
        self.closed.callback(None)

    def _greeted(self) -> None:
        waiter, self.greeting = self.greeting, None
        if waiter is not None:
            waiter.callback(None)

    def last_line(self) -> str:
        """The last line the server sent (why it closed us, usually)."""
        lines = (self.tail + self._buffer).decode("utf-8", "replace").splitlines()
        lines = [line.strip() for line in lines if line.strip()]
        return lines[-1] if lines else ""


class _Run:
    """The state of one run: the room, the senders' windows, the counters."""

    def __init__(self, reactor, config: BenchConfig) -> None:
        self.reactor = reactor
        self.config = config
        self.run_id = config.run_id or "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6)
        )
        run = self.run_id.encode()
        self.marker = re.compile(rb"BENCH " + run + rb" (\d+) (\d+) (-?\d+)")
        self.sync_tag = b"BSYNC " + run
        pad = (b" " + b"x" * config.pad) if config.pad else b""
        self.line = b"BENCH " + run + b" %d %d %d" + pad + b"\n"
        self.result = BenchResult(
            run_id=self.run_id,
            address=_format_address(config.host, config.port),
            clients=config.clients,
            senders=config.senders,
            rate_target=config.rate,
            window=config.window if not config.rate else 0,
        )
        self.clients = [
            BenchClient(self, f"{self.run_id}b{i + 1:04d}") for i in range(config.clients)
        ]
        for s in range(config.senders):
            self.clients[s].sender = s
        self.tracker = self.clients[-1]
        self.hist = LatencyHistogram()
        self.phase = "setup"
        self.failure = ""
        self.synced = 0
        self.wake: defer.Deferred[None] | None = None
        s = config.senders
        self.sent = [0] * s
        self.acked = [0] * s
        self.stalled = [False] * s
        self.timers: list[Any] = [None] * s
        self.sending = False
        self.start_ns = self.end_ns = 0
        self.delivered = 0
        self.in_window = 0
        self.last_delivery_ns = 0
        self.max_lag_ns = 0

    # -- events from the clients

    def received(self, client: BenchClient, data: bytes) -> None:
        """Complete lines arrived for C{client}."""
        matches = self.marker.findall(data)
        if matches:
            self._deliveries(client, matches)
        if not client.synced and self.sync_tag in data and client is not self.clients[0]:
            client.synced = True
            self.synced += 1
            if self.synced >= len(self.clients) - 1:
                self._wake()
        if _SLOW_DOWN in data:
            self.result.slow_down_lines += data.count(_SLOW_DOWN)

    def _deliveries(self, client: BenchClient, matches: list[tuple[bytes, bytes, bytes]]) -> None:
        now = time.monotonic_ns()
        hist = self.hist
        counts = hist.counts
        size = LatencyHistogram.SIZE
        last = client.last_seq
        me = client.sender
        senders = len(last)
        n = reordered = echoes = sum_us = 0
        top = hist.max_ns
        low = now
        for s, q, t in matches:
            s = int(s)
            if s == me or s >= senders:
                echoes += s == me
                continue
            q = int(q)
            ns = now - int(t)
            us = ns // 1000
            if us < 128:
                counts[us if us > 0 else 0] += 1
                sum_us += us if us > 0 else 0
            else:
                e = us.bit_length() - 7
                i = (e << 6) + (us >> e)
                counts[i if i < size else size - 1] += 1
                sum_us += us
            if ns > top:
                top = ns
            if ns < low:
                low = ns
            if q <= last[s]:
                reordered += 1
            else:
                last[s] = q
            n += 1
        hist.max_ns = top
        if n:
            if hist.min_ns is None or low < hist.min_ns:
                hist.min_ns = low
            hist.count += n
            hist.sum_us += sum_us
            self.delivered += n
            if now <= self.end_ns:
                self.in_window += n
            self.last_delivery_ns = now
        if reordered:
            self.result.reordered_or_dup += reordered
        if echoes:
            self.result.echoes += echoes
        if client is self.tracker and self.sending and not self.config.rate:
            acked = self.acked
            for s in range(senders):
                if last[s] >= acked[s]:
                    acked[s] = last[s] + 1
                    self._pump(s)

    def lost(self, client: BenchClient, reason: Failure) -> None:
        """A connection ended: fatal while the room is built, counted later."""
        if self.phase in ("setup", "barrier"):
            if not self.failure:
                said = client.last_line()
                self.failure = f"{client.name}: the server closed the connection" + (
                    f": {said!r}{_hint(said)}" if said else ""
                )
            self._wake()
        elif self.phase in ("sending", "draining"):
            self.result.clients_dropped += 1
            if len(self.result.errors) < 5:
                said = client.last_line()
                self.result.errors.append(
                    f"{client.name} dropped by the server" + (f": {said!r}" if said else "")
                )

    def _wake(self) -> None:
        waiter, self.wake = self.wake, None
        if waiter is not None:
            waiter.callback(None)

    # -- phases

    async def execute(self) -> BenchResult:
        result = self.result
        t0 = time.monotonic()
        try:
            await self._connect_all()
            result.connect_s = round(time.monotonic() - t0, 3)
            result.connected = sum(c.alive for c in self.clients)
            if not self.failure:
                await self._barrier(t0 + self.config.setup_timeout - time.monotonic())
            result.setup_s = round(time.monotonic() - t0, 3)
            if self.failure:
                result.error = self.failure
                return result
            result.registered = len(self.clients)
            result.receivers_per_msg = len(self.clients) - 1
            await self._send_and_drain()
            self._judge()
            return result
        finally:
            self.phase = "closing"
            self.sending = False
            await self._close_all()

    async def _connect_all(self) -> None:
        config = self.config
        kind = endpoints.TCP6ClientEndpoint if ":" in config.host else endpoints.TCP4ClientEndpoint
        endpoint = kind(self.reactor, config.host, config.port, timeout=config.connect_timeout)
        deadline = time.monotonic() + config.setup_timeout

        async def connect(client: BenchClient) -> None:
            if self.failure:
                return
            if time.monotonic() > deadline:
                self.failure = (
                    f"setup timeout: {config.setup_timeout:g} s passed while connecting "
                    f"({sum(c.alive for c in self.clients)} of {config.clients} connected)"
                )
                return
            client.greeting = defer.Deferred()
            try:
                await endpoints.connectProtocol(endpoint, client)
            except Exception as e:  # any connect error ends the run: say which
                client.greeting = None
                if not self.failure:
                    self.failure = _connect_error(e, config)
                return
            # Hold the slot until the server spoke, so that at most
            # connect_concurrency connections wait in its accept queue.
            if client.greeting is not None:
                await _within(self.reactor, client.greeting, config.greet_wait)

        semaphore = defer.DeferredSemaphore(config.connect_concurrency)
        await defer.gatherResults(
            [
                semaphore.run(lambda c: defer.Deferred.fromCoroutine(connect(c)), client)
                for client in self.clients
            ]
        )

    async def _barrier(self, budget: float) -> None:
        """
        Registration is proven, whatever the server's wording, by hearing a
        public message: the first client repeats a marker until every other
        client has received one.
        """
        self.phase = "barrier"
        need = len(self.clients) - 1
        syncer = self.clients[0]
        count = iter(range(1 << 30))

        def say() -> None:
            if syncer.alive:
                syncer.transport.write(b"%s %d\n" % (self.sync_tag, next(count)))

        loop = task.LoopingCall(say)
        loop.clock = self.reactor
        loop.start(self.config.sync_every)
        deadline = time.monotonic() + max(budget, 0.0)
        try:
            while not self.failure and self.synced < need:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.failure = (
                        f"setup timeout: only {self.synced} of {need} clients heard the "
                        f"readiness marker within {self.config.setup_timeout:g} s"
                        + self._server_said()
                    )
                    break
                self.wake = defer.Deferred()
                await _within(self.reactor, self.wake, left)
                self.wake = None
        finally:
            loop.stop()

    def _server_said(self) -> str:
        """A hint from the lines of a client that never heard the marker."""
        for client in self.clients[1:]:
            if not client.synced and client.last_line():
                said = client.last_line()
                return f"; {client.name} last got {said!r}{_hint(said)}"
        return ""

    async def _send_and_drain(self) -> None:
        config, result = self.config, self.result
        before = _proc_sample(config.server_pid)
        cpu0 = _self_cpu()
        self.phase = "sending"
        self.start_ns = time.monotonic_ns()
        self.end_ns = self.start_ns + int(config.duration * 1e9)
        self.sending = True
        done: defer.Deferred[None] = defer.Deferred()
        end_timer = self.reactor.callLater(config.duration, done.callback, None)
        try:
            for s in range(config.senders):
                if config.rate:
                    self._tick(s)
                else:
                    self._pump(s)
            await done
        finally:
            self.sending = False
            if end_timer.active():
                end_timer.cancel()
            for s, timer in enumerate(self.timers):
                if timer is not None and timer.active():
                    timer.cancel()
                self.timers[s] = None
        send_s = min((time.monotonic_ns() - self.start_ns) / 1e9, config.duration)
        self.phase = "draining"
        messages = sum(self.sent)
        expected = messages * (len(self.clients) - 1)
        drain_start = time.monotonic()
        await self._drain(expected)
        result.drain_s = round(time.monotonic() - drain_start, 3)
        after = _proc_sample(config.server_pid)
        wall = (time.monotonic_ns() - self.start_ns) / 1e9
        result.client_cpu_pct = round(100 * (_self_cpu() - cpu0) / wall, 1)
        result.send_s = round(send_s, 3)
        result.messages = messages
        result.msgs_per_s = round(messages / send_s, 1) if send_s else 0.0
        result.expected_deliveries = expected
        result.delivered = self.delivered
        result.delivered_in_window = self.in_window
        result.deliveries_per_s = round(self.in_window / config.duration, 1)
        if self.last_delivery_ns > self.start_ns:
            span = (self.last_delivery_ns - self.start_ns) / 1e9
            result.deliveries_per_s_incl_drain = round(self.delivered / span, 1)
        result.lost = max(expected - self.delivered, 0)
        result.lost_pct = round(100 * result.lost / expected, 3) if expected else 0.0
        result.max_sender_lag_ms = round(self.max_lag_ns / 1e6, 3)
        result.latency = self.hist.summary()
        if before and after:
            cpu = after["cpu_s"] - before["cpu_s"]
            result.server = {
                "pid": config.server_pid,
                "before": before,
                "after": after,
                "cpu_pct": round(100 * cpu / wall, 1),
                "deliveries_per_cpu_s": round(self.delivered / cpu, 1) if cpu > 0 else None,
            }

    def _pump(self, s: int) -> None:
        """Unthrottled: fill sender C{s}'s window (sent, not yet seen by the tracker)."""
        if not self.sending:
            return
        client = self.clients[s]
        seq = self.sent[s]
        room = min(self.config.window - (seq - self.acked[s]), self.config.max_msgs - seq)
        if room <= 0:
            if not self.stalled[s]:
                self.stalled[s] = True
                self.result.window_stalls += 1
            return
        self.stalled[s] = False
        if not client.alive:
            return
        stamp = time.monotonic_ns()
        line = self.line
        client.transport.write(b"".join([line % (s, q, stamp) for q in range(seq, seq + room)]))
        self.sent[s] = seq + room

    def _tick(self, s: int) -> None:
        """
        Fixed rate: send what sender C{s} was due to send by now, stamped with
        the time it was due, so that a stalled sender is charged to the
        server's latency rather than hidden (no coordinated omission).
        """
        self.timers[s] = None
        if not self.sending:
            return
        config = self.config
        interval = config.senders * 1e9 / config.rate
        base = self.start_ns + interval * s / config.senders
        now = time.monotonic_ns()
        seq = self.sent[s]
        lines = []
        due = base + seq * interval
        while seq < config.max_msgs and due < self.end_ns and due <= now and len(lines) < 10000:
            self.max_lag_ns = max(self.max_lag_ns, now - int(due))
            lines.append(self.line % (s, seq, int(due)))
            seq += 1
            due = base + seq * interval
        client = self.clients[s]
        if lines and client.alive:
            client.transport.write(b"".join(lines))
        self.sent[s] = seq
        if seq < config.max_msgs and due < self.end_ns and client.alive:
            self.timers[s] = self.reactor.callLater(max(due - now, 0) / 1e9, self._tick, s)

    async def _drain(self, expected: int) -> None:
        """Until every expected delivery arrived, or C{drain}, or C{drain_idle} without news."""
        config = self.config
        start = last_change = time.monotonic()
        last = self.delivered

        def check() -> None:
            nonlocal last, last_change
            now = time.monotonic()
            if self.delivered != last:
                last, last_change = self.delivered, now
            if (
                self.delivered >= expected
                or now - start >= config.drain
                or now - last_change >= config.drain_idle
            ):
                loop.stop()

        loop = task.LoopingCall(check)
        loop.clock = self.reactor
        await loop.start(0.01)

    def _judge(self) -> None:
        result, config = self.result, self.config
        if result.slow_down_lines:
            result.warnings.append(
                f"the server rate-limited the senders ({result.slow_down_lines} 'Error: slow "
                "down' lines): start it with --rate 0 for throughput tests"
            )
        if result.client_cpu_pct >= _CLIENT_BOUND_PCT:
            result.warnings.append(
                f"this tool used {result.client_cpu_pct:.0f} % of a core: the figures may be "
                "its own limit rather than the server's"
            )
        anomalies = []
        if result.lost:
            anomalies.append(f"{result.lost} deliveries lost")
        if result.reordered_or_dup:
            anomalies.append(f"{result.reordered_or_dup} reordered or duplicated")
        if result.echoes:
            anomalies.append(f"{result.echoes} echoed back to their sender")
        if result.clients_dropped:
            anomalies.append(f"{result.clients_dropped} clients dropped")
        if not result.delivered:
            anomalies.append("nothing was delivered")
        if config.strict and anomalies:
            result.error = "; ".join(anomalies)
            return
        if anomalies:
            result.warnings.append("; ".join(anomalies))
        result.ok = bool(result.delivered)
        if not result.ok:
            result.error = "nothing was delivered"

    async def _close_all(self) -> None:
        live = [c for c in self.clients if c.transport is not None and not c.closed.called]
        for client in live:
            client.transport.loseConnection()
        gone = defer.DeferredList([c.closed for c in live])
        if not await _within(self.reactor, gone, _CLOSE_WAIT):
            for client in live:
                if not client.closed.called:
                    client.transport.abortConnection()
            await _within(self.reactor, gone, _CLOSE_WAIT)


def run(reactor, config: BenchConfig) -> defer.Deferred[BenchResult]:
    """
    Run one benchmark against the server at C{config.host}, C{config.port}.

    Fires with a L{BenchResult} whatever happens on the network (C{ok} is
    false and C{error} says why); every phase is bounded in time, see
    L{BenchConfig.time_bound}.  Every connection is closed when it fires.

    @raise ConfigError: at once, for settings that can't work.
    """
    config.validate()
    return defer.Deferred.fromCoroutine(_Run(reactor, config).execute())


async def _within(reactor, d: defer.Deferred[Any], timeout: float) -> bool:
    """
    Wait for C{d} at most C{timeout} seconds; whether it fired.  Unlike
    C{addTimeout}, C{d} is not cancelled: its owner still fires it later.
    """
    waiter: defer.Deferred[bool] = defer.Deferred()

    def fired(result: object) -> object:
        if not waiter.called:
            waiter.callback(True)
        return result

    d.addBoth(fired)
    if waiter.called:
        return True
    timer = reactor.callLater(max(timeout, 0.0), lambda: waiter.called or waiter.callback(False))
    try:
        return await waiter
    finally:
        if timer.active():
            timer.cancel()


def _connect_error(e: Exception, config: BenchConfig) -> str:
    where = _format_address(config.host, config.port)
    if isinstance(e, error.ConnectionRefusedError):
        return f"connection refused by {where}: is the server running and listening there?"
    if isinstance(e, error.TimeoutError):
        return f"connecting to {where} timed out after {config.connect_timeout:g} s"
    return f"connecting to {where} failed: {e}"


def _hint(line: str) -> str:
    if "room is full" in line:
        return " (start the server with a larger --max-clients)"
    if "connections from your address" in line:
        return " (start the server with --max-per-ip 0)"
    if "slow down" in line or "too fast" in line:
        return " (start the server with --rate 0)"
    return ""


def _format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_sample(pid: int) -> dict[str, Any] | None:
    """The server's CPU seconds and memory from /proc (Linux), if a PID was given."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "cpu_s": round((int(fields[11]) + int(fields[12])) / tick, 3),
        "rss_kb": int(status.get("VmRSS", "0 kB").split()[0]),
        "threads": int(status.get("Threads", "0").split()[0]),
    }


# -- the command line

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
    p.add_argument("host", metavar="HOST", help="server address or name (loopback: ::1, ...)")
    p.add_argument("port", metavar="PORT", type=int, help="server port")
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


def _config(args: argparse.Namespace) -> BenchConfig:
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
        addresses = resolve(args.host, args.allow_remote)
        raise_fd_limit(config.clients + 64)
    except ConfigError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    task.react(_main, (config, addresses, args.json))


if __name__ == "__main__":
    main()
