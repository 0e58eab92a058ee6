import pytest

from chatroom.limits import AddressLimiter, FloodGuard, address_key, in_networks, parse_network


def test_burstThenDropped():
    guard = FloodGuard(rate=5, burst=10, kick=100, now=0.0)
    verdicts = [guard.check(0.0) for _ in range(12)]
    assert verdicts[:10] == [FloodGuard.PASS] * 10
    assert verdicts[10:] == [FloodGuard.WARN, FloodGuard.DROP]


def test_tokensRefillAtTheRate():
    guard = FloodGuard(rate=5, burst=10, kick=100, now=0.0)
    for _ in range(10):
        guard.check(0.0)
    assert guard.check(0.1) == FloodGuard.WARN  # half a token
    assert guard.check(0.2) == FloodGuard.PASS  # one token
    assert guard.check(0.2) == FloodGuard.DROP


def test_steadyRateUnderTheLimitNeverDropped():
    guard = FloodGuard(rate=5, burst=10, kick=100, now=0.0)
    assert all(guard.check(i * 0.2) == FloodGuard.PASS for i in range(1000))


def test_persistentFloodIsKicked():
    guard = FloodGuard(rate=5, burst=10, kick=20, now=0.0)
    verdicts = [guard.check(i * 0.01) for i in range(100)]
    assert FloodGuard.KICK in verdicts
    assert verdicts.index(FloodGuard.KICK) < 40


def test_quietPeriodForgivesEarlierDrops():
    guard = FloodGuard(rate=5, burst=10, kick=15, now=0.0)
    for _ in range(20):  # 10 pass, 10 dropped
        guard.check(0.0)
    # Two quiet seconds refill the bucket: a new episode, a new notice.
    for _ in range(10):
        assert guard.check(2.0) == FloodGuard.PASS
    verdicts = [guard.check(2.0) for _ in range(15)]
    assert verdicts[0] == FloodGuard.WARN
    assert FloodGuard.KICK not in verdicts


def test_kickZeroNeverKicks():
    guard = FloodGuard(rate=1, burst=1, kick=0, now=0.0)
    assert FloodGuard.KICK not in [guard.check(0.0) for _ in range(10_000)]


@pytest.mark.parametrize(
    "host, key",
    [
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("/run/chat.sock", "/run/chat.sock"),
    ],
)
def test_addressKey(host, key):
    assert address_key(host) == key


def test_limitPerAddress():
    limiter = AddressLimiter(limit=2)
    assert limiter.acquire("192.0.2.7")
    assert limiter.acquire("192.0.2.7")
    assert not limiter.acquire("192.0.2.7")
    assert limiter.acquire("192.0.2.8")
    limiter.release("192.0.2.7")
    assert limiter.acquire("192.0.2.7")


def test_loopbackExemptUnlessAsked():
    assert all(AddressLimiter(limit=1).acquire("::1") for _ in range(5))
    assert all(AddressLimiter(limit=1).acquire("127.0.0.9") for _ in range(5))
    strict = AddressLimiter(limit=1, exempt_loopback=False)
    assert strict.acquire("::1")
    assert not strict.acquire("::1")


def test_exemptNetworks():
    limiter = AddressLimiter(limit=1, exempt=[parse_network("192.0.2.0/24")])
    assert all(limiter.acquire("192.0.2.99") for _ in range(5))
    assert limiter.acquire("198.51.100.1")
    assert not limiter.acquire("198.51.100.1")


def test_limitZeroIsOff():
    limiter = AddressLimiter(limit=0, exempt_loopback=False)
    assert all(limiter.acquire("192.0.2.7") for _ in range(100))


def test_releaseForgetsEmptyCounts():
    limiter = AddressLimiter(limit=3)
    limiter.acquire("192.0.2.7")
    limiter.release("192.0.2.7")
    assert limiter.count("192.0.2.7") == 0
    assert limiter._counts == {}


def test_inNetworksCountsMappedAddressesAsIPv4AndLeavesNonIPToTheCaller():
    lab = [parse_network("10.0.0.0/8")]
    assert in_networks("::ffff:10.1.2.3", lab, not_ip=False)
    assert not in_networks("192.0.2.7", lab, not_ip=True)
    assert in_networks("unix", lab, not_ip=True)
    assert not in_networks("unix", lab, not_ip=False)
