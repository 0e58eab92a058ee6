"""
A real C{redis-server} for the cluster tests: on a free loopback port, in a
temporary directory, saving nothing; stopped (and startable again on the same
port) by the test.  Nothing assumes a Redis already running, and a missing
C{redis-server} fails the test (CI installs Debian's package).
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import txredisapi

from tests.integration.process import ChildProcess, spawn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, reactor, directory: Path) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
        self.reactor = reactor
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    async def start(self) -> None:
        argv = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory)]  # fmt: skip
        self.process = spawn(self.reactor, argv)
        await self.process.expect("Ready to accept connections")

    async def stop(self) -> None:
        if self.process is not None and self.process.running:
            self.process.kill()
            await self.process.wait()

    async def client(self) -> txredisapi.RedisProtocol:
        """A plain command connection, for a test to look inside or meddle."""
        return await txredisapi.Connection("127.0.0.1", self.port, reconnect=False)
