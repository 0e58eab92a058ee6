"""The browser door's rules: which origins may open the socket, whose X-Forwarded-For counts."""

import pytest
from twisted.python import usage

from chatroom.limits import parse_network
from chatroom.tap import Options
from chatroom.web.site import Origins, Proxies


def test_defaultOriginIsThePagesOwnHost():
    origins = Origins()
    assert origins.allows(b"http://chat.example.org:8080", b"chat.example.org:8080")
    assert origins.allows(b"https://Chat.Example.org", b"chat.example.org")
    assert not origins.allows(b"http://evil.example", b"chat.example.org:8080")
    assert not origins.allows(b"http://chat.example.org", b"chat.example.org:8080")
    assert not origins.allows(b"null", b"chat.example.org")
    assert not origins.allows(b"http://x", None)


def test_noOriginIsNotABrowserAndIsLetIn():
    assert Origins().allows(None, b"chat.example.org")
    assert Origins(["https://a.example"]).allows(None, None)


def test_givenOriginsAddToThePagesOwn():
    origins = Origins(["https://chat.example.org/", "http://lab.example"])
    assert origins.allows(b"https://chat.example.org", b"[::1]:8080")
    assert origins.allows(b"http://LAB.example/", b"x")
    assert origins.allows(b"http://[::1]:8080", b"[::1]:8080")  # the page's own, still
    assert not origins.allows(b"http://evil.example", b"[::1]:8080")
    assert not origins.allows(b"http://[::1]:8080", None)


def test_forwardedForOnlyFromTrustedProxies():
    proxies = Proxies([parse_network("10.0.0.0/8"), parse_network("::1")])
    chain = [b"198.51.100.9, 203.0.113.7", b"10.1.2.3"]
    assert proxies.client("10.0.0.1", chain) == "203.0.113.7"
    assert proxies.client("::ffff:10.0.0.1", [b"203.0.113.7"]) == "203.0.113.7"
    assert proxies.client("192.0.2.1", chain) is None  # not a proxy: header ignored
    assert proxies.client("::1", []) is None
    assert proxies.client("::1", [b"not-an-address"]) is None
    assert Proxies().client("::1", [b"203.0.113.7"]) is None


def test_webOptions():
    options = Options()
    options.parseOptions(
        ["--web", "tcp6:8080", "--web-origin", "https://a.example", "--web-origin",
         "https://b.example", "--trusted-proxy", "10.0.0.0/8", "--web-ping", "5"]
    )  # fmt: skip
    assert options["web"] == "tcp6:8080"
    assert options["web-origin"] == ["https://a.example", "https://b.example"]
    assert options["trusted-proxy"] == [parse_network("10.0.0.0/8")]
    assert options.settings().web_ping == 5
    assert Options()["web"] is None
    with pytest.raises(usage.UsageError):
        Options().parseOptions(["--trusted-proxy", "nonsense"])
