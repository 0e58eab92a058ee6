from twisted.internet import task
from twisted.logger import formatEventAsClassicLogText

from chatroom.journal import Journal, entries


def test_immediateWithoutSchedule(log_events):
    Journal().info("joined: {name} ({group})", name="ala", group="GL3")
    (event,) = log_events
    assert event["log_format"] == "joined: {name} ({group})"
    assert (event["name"], event["group"]) == ("ala", "GL3")


def test_oneEntryInATurnIsAnOrdinaryEvent(log_events):
    clock = task.Clock()
    journal = Journal(lambda f: clock.callLater(0, f))
    journal.info("public {name}: {text}", name="ala", text="hi")
    assert log_events == []
    clock.advance(0)
    (event,) = log_events
    assert event["log_format"] == "public {name}: {text}"
    assert event["text"] == "hi"


def test_aBusyTurnIsOneEventWithEveryEntryInOrder(log_events):
    clock = task.Clock()
    journal = Journal(lambda f: clock.callLater(0, f))
    for i in range(50):
        journal.info("public {name}: {text}", name=f"u{i}", text="{not.a.field} " + str(i))
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0)
    (event,) = log_events
    text = formatEventAsClassicLogText(event)
    lines = text.rstrip("\n").split("\n")
    assert lines[0].endswith("public u0: {not.a.field} 0")
    assert lines[1:] == [f"\tpublic u{i}: {{not.a.field}} {i}" for i in range(1, 50)]
    assert [e["name"] for e in entries(log_events)] == [f"u{i}" for i in range(50)]
    assert all(e["log_format"] == "public {name}: {text}" for e in entries(log_events))


def test_nextTurnStartsAfresh(log_events):
    clock = task.Clock()
    journal = Journal(lambda f: clock.callLater(0, f))
    journal.info("a {x}", x=1)
    clock.advance(0)
    journal.info("b {x}", x=2)
    journal.info("c {x}", x=3)
    clock.advance(0)
    assert [e["x"] for e in entries(log_events)] == [1, 2, 3]
    assert len(log_events) == 2


def test_explicitFlushCancelsTheTimer(log_events):
    clock = task.Clock()
    journal = Journal(lambda f: clock.callLater(0.1, f))
    journal.info("left: {name}", name="ala")
    journal.flush()  # the server stopping
    assert [e["name"] for e in entries(log_events)] == ["ala"]
    assert clock.getDelayedCalls() == []


def test_namespaceIsChatroom(log_events):
    Journal().info("x")
    assert log_events[0]["log_namespace"] == "chatroom"
