"""The browser door's check of Twisted's WebSocket internals; --web refused when they differ."""

from __future__ import annotations

import pytest
from twisted.python import usage

from chatroom import tap
from chatroom.web import twistedws


def test_thisTwistedPasses():
    assert twistedws.problem() is None


class _Elsewhere:
    """A wire protocol of a hypothetical Twisted that names its state differently."""

    def __init__(self, connection, bootstrap, protocol):
        self.connection = connection
        self.protocol = protocol


class _OtherSignature:
    def __init__(self, connection):
        pass


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("_WebSocketWireProtocol", _Elsewhere, "keeps its connection elsewhere"),
        ("_WebSocketWireProtocol", _OtherSignature, "requires"),
        ("_handleEvent", None, "_handleEvent"),
        ("_IMPORT_ERROR", "cannot import name '_handleEvent'", "cannot import"),
    ],
)
def test_aChangedTwistedIsNamed(monkeypatch, name, value, says):
    monkeypatch.setattr(twistedws, name, value)
    trouble = twistedws.problem()
    assert trouble is not None and says in trouble


def test_webRefusedAtStartupWhenTheInternalsDiffer(monkeypatch):
    monkeypatch.setattr(twistedws, "_WebSocketWireProtocol", _Elsewhere)
    options = tap.Options()
    with pytest.raises(usage.UsageError, match="--web: Twisted .* differ.*without --web"):
        options.parseOptions(["--web", "tcp6:0"])
    # The line door alone still starts.
    tap.Options().parseOptions([])
