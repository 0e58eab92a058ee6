"""
One run's settings, checked before anything touches the network, so that a
setting that can't work is a clear error (exit status 2) rather than a
confusing run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# How long closing every connection may take before the rest are aborted.
CLOSE_WAIT = 5.0


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
    ws_path: str = ""
    """Through the browser door: the WebSocket's path (C{--ws}); empty: the line door."""
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
            + 2 * CLOSE_WAIT
        )
