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

The modules, top down: C{cli} (the command line) -> C{runner} (one run's
phases) -> C{client} (one simulated user) -> C{result}, C{histogram},
C{usage}, C{config} (plain data and readings, no network).
"""

from chatroom.bench.cli import main, pick_address, raise_fd_limit, resolve
from chatroom.bench.client import BenchClient
from chatroom.bench.config import BenchConfig, ConfigError
from chatroom.bench.histogram import LatencyHistogram
from chatroom.bench.result import BenchResult
from chatroom.bench.runner import run

__all__ = [
    "BenchClient",
    "BenchConfig",
    "BenchResult",
    "ConfigError",
    "LatencyHistogram",
    "main",
    "pick_address",
    "raise_fd_limit",
    "resolve",
    "run",
]
