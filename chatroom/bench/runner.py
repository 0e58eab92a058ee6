"""
One run against a server, phase by phase: connect the room, prove it is
ready (the barrier), send, drain, close.  The run also keeps the counters the
clients' lines feed, since only it sees every client.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from typing import Any

from twisted.internet import defer, endpoints, error, task
from twisted.python.failure import Failure

from chatroom.bench.client import BenchClient
from chatroom.bench.config import CLOSE_WAIT, BenchConfig
from chatroom.bench.histogram import LatencyHistogram
from chatroom.bench.result import BenchResult, judge
from chatroom.bench.usage import proc_sample, self_cpu
from chatroom.bench.webclient import WebBenchClient

# Lines a server sends when its flood control drops a line (see messages.py).
_SLOW_DOWN = b"Error: slow down"


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
        names = [f"{self.run_id}b{i + 1:04d}" for i in range(config.clients)]
        if config.ws_path:
            host = _format_address(config.host, config.port)
            self.clients = [WebBenchClient(self, n, host, config.ws_path) for n in names]
        else:
            self.clients = [BenchClient(self, name) for name in names]
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
            judge(result, self.config.strict)
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
        before = proc_sample(config.server_pid)
        cpu0 = self_cpu()
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
        after = proc_sample(config.server_pid)
        wall = (time.monotonic_ns() - self.start_ns) / 1e9
        result.client_cpu_pct = round(100 * (self_cpu() - cpu0) / wall, 1)
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

    async def _close_all(self) -> None:
        live = [c for c in self.clients if c.transport is not None and not c.closed.called]
        for client in live:
            client.transport.loseConnection()
        gone = defer.DeferredList([c.closed for c in live])
        if not await _within(self.reactor, gone, CLOSE_WAIT):
            for client in live:
                if not client.closed.called:
                    client.transport.abortConnection()
            await _within(self.reactor, gone, CLOSE_WAIT)


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
