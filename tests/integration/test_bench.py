"""
C{chatroom.bench} against a real server on loopback: the core in this
reactor (the server runs in it too), and the command line as a subprocess.
"""

import json
import os
import sys

import pytest
import pytest_twisted
from twisted.internet import utils

from chatroom import bench
from chatroom.settings import Settings
from chatroom.testing import listen

# Enough room for the tests; flood control and the per-address limit off, as
# the tool's help asks of a server under test.
OPEN = Settings(max_clients=100, rate=0, max_per_ip=0)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest_twisted.async_yield_fixture
async def server(reactor):
    handle = await listen(reactor, OPEN)
    yield handle
    await handle.stop()


async def closed_port(reactor) -> int:
    """A loopback port nobody listens on any more (connecting is refused)."""
    handle = await listen(reactor)
    await handle.stop()
    return handle.port


def assert_clean(result: bench.BenchResult) -> None:
    assert result.ok, result.summary()
    assert result.delivered > 0
    assert result.delivered == result.expected_deliveries
    assert (result.lost, result.reordered_or_dup, result.echoes) == (0, 0, 0)
    assert result.clients_dropped == 0
    latency = result.latency
    assert latency["count"] == result.delivered
    order = ["min_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"]
    values = [latency[key] for key in order]
    assert values == sorted(values), latency


@pytest_twisted.ensureDeferred
async def test_unthrottledRunDeliversEverythingInOrder(reactor, server):
    config = bench.BenchConfig("::1", server.port, clients=20, senders=2, duration=1.0)
    result = await bench.run(reactor, config)
    assert_clean(result)
    assert (result.registered, result.receivers_per_msg) == (20, 19)
    assert result.expected_deliveries == result.messages * 19
    assert result.deliveries_per_s > 0 and result.msgs_per_s > 0


@pytest_twisted.ensureDeferred
async def test_fixedRateSendsWhatWasDue(reactor, server):
    # 50 msg/s over 2 senders for 0.5 s: due times 0, 20, 40 ... 480 ms.
    config = bench.BenchConfig("::1", server.port, clients=6, senders=2, duration=0.5, rate=50)
    result = await bench.run(reactor, config)
    assert_clean(result)
    assert 20 <= result.messages <= 25
    assert result.window == 0 and result.window_stalls == 0


@pytest_twisted.ensureDeferred
async def test_floodControlIsReportedAsLossWithAHint(reactor):
    handle = await listen(reactor, Settings(max_clients=10))  # default flood control
    try:
        config = bench.BenchConfig(
            "::1", handle.port, clients=4, senders=1, duration=0.3, drain_idle=0.3, strict=True
        )
        result = await bench.run(reactor, config)
    finally:
        await handle.stop()
    assert not result.ok
    assert result.lost > 0 and "lost" in result.error
    assert result.slow_down_lines > 0
    assert any("--rate 0" in warning for warning in result.warnings)


@pytest_twisted.ensureDeferred
async def test_roomTooSmallFailsWithAHint(reactor):
    handle = await listen(reactor, Settings(max_clients=3, rate=0))
    try:
        result = await bench.run(
            reactor, bench.BenchConfig("::1", handle.port, clients=5, senders=1)
        )
    finally:
        await handle.stop()
    assert not result.ok
    assert "room is full" in result.error and "--max-clients" in result.error


@pytest_twisted.ensureDeferred
async def test_connectionRefusedIsOneClearError(reactor):
    port = await closed_port(reactor)
    result = await bench.run(reactor, bench.BenchConfig("::1", port, clients=3, senders=1))
    assert not result.ok
    assert result.error.startswith("connection refused by [::1]:")


@pytest_twisted.ensureDeferred
async def test_pickAddressSkipsOneThatRefuses(reactor, server):
    # "localhost" may stand for 127.0.0.1 and ::1; the server listens on ::1 only.
    address = await bench.pick_address(reactor, ["127.0.0.1", "::1"], server.port, 5)
    assert address == "::1"


def test_resolveAcceptsOnlyLoopbackUnlessAllowed():
    assert bench.resolve("::1") == ["::1"]
    assert bench.resolve("127.0.0.1") == ["127.0.0.1"]
    with pytest.raises(bench.ConfigError, match="--allow-remote"):
        bench.resolve("192.0.2.1")
    assert bench.resolve("192.0.2.1", allow_remote=True) == ["192.0.2.1"]


def test_configRefusesWhatCannotWork():
    with pytest.raises(bench.ConfigError, match="--senders"):
        bench.BenchConfig("::1", 1, clients=5, senders=5).validate()
    with pytest.raises(bench.ConfigError, match="--window"):
        bench.BenchConfig("::1", 1, window=0).validate()


def test_histogramQuantilesWithinBucketError():
    histogram = bench.LatencyHistogram()
    for us in range(1, 10001):
        histogram.record(us * 1000)
    assert histogram.count == 10000
    for q, expected_ms in ((0.5, 5.0), (0.9, 9.0), (0.99, 9.9)):
        assert abs(histogram.quantile(q) - expected_ms) / expected_ms < 0.016
    assert histogram.quantile(0.999) <= histogram.summary()["max_ms"] == 10.0


@pytest_twisted.ensureDeferred
async def test_helpExplainsHowToStartTheServer():
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, ["-m", "chatroom.bench", "--help"], env=os.environ, path=ROOT
    )
    assert code == 0, err
    assert b"--rate 0 --max-per-ip 0" in out
    assert b"--allow-remote" in out


@pytest_twisted.ensureDeferred
async def test_commandLineRunPrintsJSONAndExitsZero(reactor, server):
    args = ["-m", "chatroom.bench", "::1", str(server.port), "--json"]
    args += ["--clients", "5", "--senders", "1", "--duration", "0.3", "--setup-timeout", "10"]
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, args, env=os.environ, path=ROOT
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["ok"] and result["delivered"] == result["expected_deliveries"] > 0
    assert b"deliveries" in err and b"Traceback" not in err


@pytest_twisted.ensureDeferred
async def test_commandLineRefusedConnectionExitsOneWithoutTraceback(reactor):
    port = await closed_port(reactor)
    args = ["-m", "chatroom.bench", "::1", str(port), "--clients", "3", "--senders", "1"]
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, args, env=os.environ, path=ROOT
    )
    assert code == 1
    assert b"connection refused" in err and b"Traceback" not in err
