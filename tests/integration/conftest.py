"""Fixtures for the tests with real processes."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.integration.redis import RedisServer


@pytest.fixture
def redis(reactor, tmp_path):
    """A fresh redis-server of our own for one test (fails if it isn't installed)."""
    server = RedisServer(reactor, tmp_path)
    pytest_twisted.blockon(defer.ensureDeferred(server.start()))
    yield server
    pytest_twisted.blockon(defer.ensureDeferred(server.stop()))
