"""The nodes' messages: the room's events in versioned JSON, and nothing else."""

from __future__ import annotations

import json

import pytest

from chatroom import messages
from chatroom.cluster.link import Address, parse_url
from chatroom.cluster.wire import VERSION, BadMessage, Op, decode, encode
from chatroom.events import Left, Notice, Public, Renamed, Text


@pytest.mark.parametrize(
    "op",
    [
        Op("say", "n1", "n1.4", Public(1.5, "żaneta", "GL3", "zażółć gęślą jaźń")),
        Op("rename", "n1", "n1.4", Renamed(2.0, "ala", "ola")),
        Op("leave", "n2", "n2.1", Left(3.0, "bob", "GL1", 0, 0, "ala", "spam", 5)),
        Op("state", "n3", members=[("n3.1", "cyd", "GL2")], hello=True, max=50),
        Op("gone", "n3"),
        Op("whisper", "n1", "n2.9", Notice(Text(messages.NAME_TAKEN, name="x"))),
    ],
)
def test_roundTrip(op):
    assert decode(encode(op)) == op


def test_textIsUtf8NotEscaped():
    data = encode(Op("say", "n", "n.1", Public(0.0, "ola", "g", "żółw")))
    assert "żółw" in data and json.loads(data)["v"] == VERSION


def test_goneAsTheLuaScriptWritesIt():
    """claims.BEAT writes this by hand: it must stay readable."""
    assert decode('{"v":1,"op":"gone","node":"host-12-ab"}') == Op("gone", "host-12-ab")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"v":2,"op":"say","node":"n"}',
        '{"v":1,"op":"explode","node":"n"}',
        '{"v":1,"node":"n"}',
        '{"v":1,"op":"say","node":"n","event":{"type":"nope"}}',
        '{"v":1,"op":"say","node":"n","event":{"type":"public","time":1,"nam":"x"}}',
        '{"v":1,"op":"state","node":"n","members":[["a","b"]]}',
    ],
)
def test_badMessagesRefusedClearly(text):
    with pytest.raises(BadMessage):
        decode(text)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6380/2", Address("127.0.0.1", 6380, db=2)),
        ("redis://:s%40cret@redis.lan", Address("redis.lan", password="s@cret")),
        ("redis://ala:pw@[::1]:7000", Address("::1", 7000, username="ala", password="pw")),
        ("unix:/run/redis/redis.sock?db=3", Address(path="/run/redis/redis.sock", db=3)),
        ("unix:///tmp/r.sock", Address(path="/tmp/r.sock")),
    ],
)
def test_redisUrls(url, address):
    assert parse_url(url) == address


@pytest.mark.parametrize(
    "url", ["http://x", "redis://x:port", "redis://x/db", "unix:relative.sock", "localhost:6379"]
)
def test_badRedisUrls(url):
    with pytest.raises(ValueError, match="redis|UNIX|port|database"):
        parse_url(url)


def test_addressNeverShowsThePassword():
    assert "pw" not in str(parse_url("redis://:pw@h:1/0"))
