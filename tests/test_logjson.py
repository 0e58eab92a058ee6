"""JSON lines for log shippers: one object a line, one line per journal entry."""

import io
import json

from twisted.logger import Logger, LogPublisher

from chatroom import journal
from chatroom.logjson import JSONLinesObserver


def published():
    stream = io.StringIO()
    publisher = LogPublisher(JSONLinesObserver(stream))
    return stream, publisher


def test_aBatchBecomesOneLinePerEntry(monkeypatch):
    stream, publisher = published()
    monkeypatch.setattr(journal, "_log", Logger(namespace="chatroom", observer=publisher))
    batch = journal.Journal(schedule=lambda flush: None)
    batch.info("joined: {name} ({group}) from {peer}", name="ala", group="GL3", peer="[::1]:5")
    batch.info("public {name}: {text}", name="ala", text="zażółć\n{peer} {0}")
    batch.flush()

    joined, public = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert joined["text"] == "joined: ala (GL3) from [::1]:5"
    assert joined["fields"] == {"name": "ala", "group": "GL3", "peer": "[::1]:5"}
    assert (joined["level"], joined["namespace"]) == ("info", "chatroom")
    assert joined["time"].endswith("+00:00") and joined["time"] == public["time"]
    # User text only in fields, never interpreted as a format.
    assert public["text"] == "public ala: zażółć\n{peer} {0}"
    assert public["fields"]["text"] == "zażółć\n{peer} {0}"


def test_anErrorCarriesItsTraceback():
    stream, publisher = published()
    log = Logger(namespace="chatroom.test", observer=publisher)
    try:
        int("not a number")
    except ValueError:
        log.failure("while handling {what}", what=object())
    (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert record["level"] == "critical"
    assert record["text"].startswith("while handling <object object")
    assert record["fields"]["what"].startswith("<object object")  # repr for the unserialisable
    assert "ValueError: invalid literal" in record["traceback"]
