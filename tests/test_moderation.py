"""The rules of moderation (no sockets, time passed in), and their wording."""

import ipaddress

import pytest
from twisted.logger import formatEvent

from chatroom import i18n, messages
from chatroom.events import Text
from chatroom.journal import entries
from chatroom.moderation import (
    ADDRESS_LIMIT,
    ADDRESS_WINDOW,
    LOOPBACK,
    Ban,
    Moderation,
    minutes_left,
)
from chatroom.settings import Settings
from chatroom.testing import FakePeer, en, make_factory

NOW = 1_000_000.0


def test_noPasswordNoOperators():
    assert Moderation().login("", "192.0.2.7", NOW) == (Moderation.DISABLED, 0.0)
    assert not Moderation().enabled


def test_wrongPasswordsWaitLongerAndLongerPerSession():
    moderation = Moderation("sesame")
    now = NOW
    for failures in range(1, 6):
        assert moderation.login("guess", "192.0.2.7", now, "bob") == (Moderation.WRONG, 0.0)
        wait = 2.0 ** (failures - 1)
        # Until the wait is over even the right password is not compared.
        assert moderation.login("sesame", "192.0.2.7", now + wait - 0.5, "bob") == (
            Moderation.WAIT,
            0.5,
        )
        now += wait
    assert moderation.failures("bob") == 5
    assert moderation.recent_failures("192.0.2.7", now) == 5
    # Someone else behind the same address (a lab's NAT) is not slowed down.
    assert moderation.login(" sesame\n", "192.0.2.7", now - 1, "teacher")[0] == Moderation.OK
    assert moderation.login("sesame", "192.0.2.7", now, "bob")[0] == Moderation.OK
    assert moderation.failures("bob") == 0


def test_aStreakFollowsRenamesAndEndsWithTheSession():
    moderation = Moderation("sesame")
    moderation.login("guess", "192.0.2.7", NOW, "bob")
    moderation.renamed("bob", "robert")
    assert moderation.login("sesame", "192.0.2.7", NOW + 0.5, "robert")[0] == Moderation.WAIT
    moderation.left("robert")
    assert moderation.failures("robert") == 0


def test_theAddressCapIsGenerousAndTheMemoryBounded():
    moderation = Moderation("sesame")
    now = NOW
    # A session's wait is capped at ten minutes.
    for _ in range(15):
        moderation.login("guess", "192.0.2.9", now, "eve")
        now += 600
    assert moderation.login("guess", "192.0.2.9", now - 1, "eve")[0] == Moderation.WAIT
    # Reconnecting starts a new session: ADDRESS_LIMIT of them within the
    # window, and the address waits until the oldest failure is old enough.
    for n in range(ADDRESS_LIMIT):
        assert moderation.login("guess", "192.0.2.7", NOW + n, f"s{n}")[0] == Moderation.WRONG
    last = NOW + ADDRESS_LIMIT
    assert moderation.login("sesame", "192.0.2.7", last, "teacher") == (
        Moderation.WAIT,
        ADDRESS_WINDOW - ADDRESS_LIMIT,
    )
    assert moderation.login("sesame", "192.0.2.8", last, "teacher")[0] == Moderation.OK
    assert moderation.login("sesame", "192.0.2.7", NOW + ADDRESS_WINDOW, "teacher")[0] == (
        Moderation.OK
    )
    for i in range(5000):
        moderation.login("guess", f"10.0.{i // 256}.{i % 256}", NOW, f"x{i}")
    assert len(moderation._failures) <= 4096


def test_opThroughTheSession(log_events):
    """A student guessing doesn't lock the teacher out; /op alone is a usage error."""
    factory = make_factory(Settings(rate=0))
    factory.clock.advance(NOW)
    factory.room.moderation = Moderation("sesame")
    bob = FakePeer(factory, host="192.0.2.7")
    bob.register("bob")
    teacher = FakePeer(factory, host="192.0.2.7")
    teacher.register("teacher")
    bob.say("/op", "/oper  ")
    assert bob.lines()[-2:] == [
        "Error: usage: /op PASSWORD (or /oper PASSWORD).",
        "Error: usage: /op PASSWORD (or /oper PASSWORD).",
    ]
    bob.say("/op guess", "/op again")
    assert bob.lines()[-2:] == [
        "Error: wrong password.",
        "Error: too many wrong passwords; try again in 1 second.",
    ]
    factory.clock.advance(1)
    bob.say("/op guess")
    assert bob.lines()[-1] == "Error: wrong password."
    teacher.say("/op sesame")
    assert teacher.lines()[-1].startswith("You are an operator now")
    factory.room.journal.flush()
    log = [formatEvent(entry) for entry in entries(log_events)]
    assert any(
        line.startswith("moderation: wrong operator password from 192.0.2.7:")
        and line.endswith("(bob), 2 in a row, 2 from that address in 10 minutes")
        for line in log
    ), log
    assert any(line.endswith("(bob) not checked: 1 s to wait after wrong ones") for line in log)
    assert not any("guess" in line or "sesame" in line for line in log)


def test_bansExpireAndAreByAddress():
    moderation = Moderation("sesame")
    moderation.ban(Ban("192.0.2.7", NOW + 120, "bob", "ala", "spam"))
    moderation.ban(Ban("2001:db8::1", NOW + 60, "eve", "ala"))
    assert moderation.banned("::ffff:192.0.2.7", NOW).name == "bob"  # IPv4 seen through tcp6
    assert moderation.banned("192.0.2.8", NOW) is None
    assert [b.name for b in moderation.active_bans(NOW)] == ["eve", "bob"]
    assert [b.name for b in moderation.active_bans(NOW + 60)] == ["bob"]
    assert moderation.banned("192.0.2.7", NOW + 120) is None
    assert moderation.bans == {}
    moderation.ban(Ban("2001:db8::1", NOW + 60, "eve", "ala"))
    assert moderation.unban("[2001:db8::1]").name == "eve"
    assert moderation.unban("2001:db8::1") is None


@pytest.mark.parametrize(
    "address, protected",
    [("::1", True), ("127.0.0.5", True), ("::ffff:127.0.0.1", True), ("unix", True)]
    + [("192.0.2.7", False), ("2001:db8::1", False)],
)
def test_loopbackIsProtected(address, protected):
    assert Moderation().is_protected(address) is protected


def test_mutesExpireAndFollowRenames():
    moderation = Moderation("sesame")
    moderation.operators.add("ala")
    moderation.mute("bob", NOW + 90)
    assert moderation.muted("bob", NOW) == 90
    moderation.renamed("bob", "bobby")
    moderation.renamed("ala", "alicja")
    assert moderation.muted("bob", NOW) == 0 and moderation.muted("bobby", NOW) == 90
    assert moderation.operators == {"alicja"}
    moderation.left("alicja")
    moderation.left("bobby")  # a mute outlives the session
    assert moderation.operators == set() and moderation.muted("bobby", NOW + 89) == 1
    assert moderation.muted("bobby", NOW + 90) == 0 and not moderation.mutes
    assert minutes_left(NOW + 10, NOW) == 1 and minutes_left(NOW + 61, NOW) == 2


def test_aBannedAddressIsRefusedAtTheDoorWithTheTimeLeft(log_events):
    factory = make_factory()
    factory.clock.advance(NOW)
    factory.room.moderation.ban(Ban("192.0.2.7", NOW + 150, "bob", "ala", "spam"))
    peer = FakePeer(factory, host="::ffff:192.0.2.7")
    assert peer.lines() == ["Sorry, your address is banned for 3 more minutes. Try again later."]
    assert peer.closing and not factory.connections
    assert FakePeer(factory, host="192.0.2.8").lines()[0].startswith("Welcome")


def test_polishCountsMinutes():
    polish = i18n.catalog("pl")
    said = [
        polish.format(messages.BANNED_REFUSAL, minutes=n).split(" Spróbuj")[0]
        for n in (1, 2, 5, 22)
    ]
    assert said == [
        "Przepraszamy, twój adres ma bana jeszcze przez 1 minutę.",
        "Przepraszamy, twój adres ma bana jeszcze przez 2 minuty.",
        "Przepraszamy, twój adres ma bana jeszcze przez 5 minut.",
        "Przepraszamy, twój adres ma bana jeszcze przez 22 minuty.",
    ]
    text = Text(messages.YOU_ARE_MUTED, by="ala", duration=Text(messages.FOR_MINUTES, minutes=5))
    assert polish.text(text).startswith("ala wycisza cię na 5 minut:")


def test_aMemberOfAnotherNodeIsRemovedThroughTheBus():
    """In a cluster, the target's own node removes them; decisions go to every node."""
    from chatroom.bus import LocalBus
    from chatroom.room import Member

    class Recording(LocalBus):
        def __init__(self):
            super().__init__()
            self.calls = []

        def remove(self, target, by, now, why, minutes):
            self.calls.append(("remove", target.name, by, why, minutes))

        def share(self, kind, data):
            self.calls.append((kind, data.get("key")))

    factory = make_factory()
    bus = Recording()
    bus.attach(factory.room)
    factory.room.bus = bus
    factory.room.moderation = Moderation("sesame")
    factory.room.show(Member.remote("node-b", "b:1", "zenon", "GL9"))
    ala = FakePeer(factory)
    ala.register("ala")
    ala.say("/op sesame", "/kick zenon spam", "/mute zenon 5", "/ban zenon 10 again")
    assert bus.calls == [
        ("remove", "zenon", "ala", "spam", 0),
        ("mute", "zenon"),
        ("remove", "zenon", "ala", "again", 10),
    ]
    assert ala.lines()[-1] == en(
        messages.MUTE_DONE, name="zenon", duration=en(messages.FOR_MINUTES, minutes=5)
    )


def test_passwordFileIsReadOnceAndNeverEmpty(tmp_path):
    from twisted.python import usage

    from chatroom.tap import Options

    secret = tmp_path / "op"
    secret.write_text("  two words \n second line ignored\n", encoding="utf-8")
    options = Options()
    options.parseOptions(["--op-password-file", str(secret)])
    assert options["op-password"] == "two words"
    assert Options()["op-password"] is None
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    for path, said in (
        (tmp_path / "empty", "holds no password"),
        (tmp_path / "nope", "cannot read"),
    ):
        with pytest.raises(usage.UsageError, match=said):
            Options().parseOptions(["--op-password-file", str(path)])
    assert "--op-password-file" in str(Options()) and "--metrics" in str(Options())


def test_anIPv6BanCoversItsSlash64():
    moderation = Moderation("sesame")
    moderation.ban(Ban("2001:db8:1:2::5", NOW + 60, "eve", "ala"))
    moderation.ban(Ban("::ffff:192.0.2.7", NOW + 60, "bob", "ala"))
    assert moderation.banned("2001:db8:1:2:abcd:ef01:2345:6789", NOW).name == "eve"
    assert moderation.banned("2001:db8:1:3::5", NOW) is None
    assert moderation.banned("192.0.2.7", NOW).name == "bob"
    assert moderation.banned("192.0.2.8", NOW) is None  # IPv4 stays one address
    assert [ban.address for ban in moderation.active_bans(NOW)] == [
        "2001:db8:1:2::/64",
        "192.0.2.7",
    ]
    assert moderation.unban("2001:db8:1:2::/64").name == "eve"
    moderation.ban(Ban("2001:db8:1:2::5", NOW + 60, "eve", "ala"))
    assert moderation.unban("[2001:db8:1:2::77]").name == "eve"
    assert moderation.unban("2001:db8:1:2::/64") is None
    assert moderation.unban("192.0.2.7/32").name == "bob"


def test_aSlash64HoldingAProtectedAddressIsNotBannedWhole():
    admin = ipaddress.ip_network("2001:db8:1:2::10/128")
    moderation = Moderation("sesame", (*LOOPBACK, admin))
    moderation.ban(Ban("2001:db8:1:2::5", NOW + 60, "eve", "ala"))
    assert moderation.banned("2001:db8:1:2::10", NOW) is None
    assert moderation.banned("2001:db8:1:2::5", NOW).address == "2001:db8:1:2::5"
    assert moderation.unban("2001:db8:1:2::5").name == "eve"


def test_slashBansShowTheSlash64():
    factory = make_factory(Settings(rate=0))
    factory.clock.advance(NOW)
    factory.room.moderation = Moderation("sesame")
    ala = FakePeer(factory, host="2001:db8:9::1")
    ala.register("ala")
    eve = FakePeer(factory, host="2001:db8:1:2::5")
    eve.register("eve")
    ala.say("/op sesame", "/ban eve 5 spam", "/bans")
    assert eve.closing
    assert ala.lines()[-1] == "  2001:db8:1:2::/64 (eve): 5 more minutes, by ala (spam)"
    assert (
        FakePeer(factory, host="2001:db8:1:2::99")
        .lines()[0]
        .startswith("Sorry, your address is banned for 5 more minutes")
    )
    ala.say("/unban 2001:db8:1:2::/64")
    assert "2001:db8:1:2::/64" in ala.lines()[-1]
    assert FakePeer(factory, host="2001:db8:1:2::99").lines()[0].startswith("Welcome")


def test_slashBanBansOneAddressWhenItsSlash64HoldsAProtectedOne():
    """/ban decides the scope where a cluster node does: in Moderation.ban, once."""
    factory = make_factory(Settings(rate=0))
    factory.clock.advance(NOW)
    admin = ipaddress.ip_network("2001:db8::1/128")
    factory.room.moderation = Moderation("sesame", (*LOOPBACK, admin))
    ala = FakePeer(factory, host="2001:db8:9::1")
    ala.register("ala")
    eve = FakePeer(factory, host="2001:db8::5")
    eve.register("eve")
    ala.say("/op sesame", "/ban eve 5 spam", "/bans")
    assert eve.closing
    assert ala.lines()[-1] == "  2001:db8::5 (eve): 5 more minutes, by ala (spam)"
    assert list(factory.room.moderation.bans) == ["2001:db8::5"]
    assert FakePeer(factory, host="2001:db8::6").lines()[0].startswith("Welcome")


def test_banAddressRefusesProtectedAddresses():
    moderation = Moderation("sesame")
    assert moderation.ban_address("::1", NOW + 60, "ala", "ola", "") is None
    assert moderation.bans == {}
    banned = moderation.ban_address("::ffff:192.0.2.7", NOW + 60, "bob", "ala", "spam")
    assert banned == Ban("192.0.2.7", NOW + 60, "bob", "ala", "spam")


def test_aBannedPersonsLinesLeaveTheHistory():
    factory = make_factory(Settings(rate=0, history=10))
    factory.clock.advance(NOW)
    factory.room.moderation = Moderation("sesame")
    ala = FakePeer(factory, host="192.0.2.1")
    ala.register("ala")
    spam = FakePeer(factory, host="192.0.2.7")
    spam.register("spam")
    spam.say("buy pills")
    ala.say("hello", "/op sesame")
    latecomer = FakePeer(factory, host="192.0.2.8")
    assert any(line.endswith("spam (GL1): buy pills") for line in latecomer.register("ola"))
    ala.say("/ban spam 5 spam")
    assert spam.closing
    newcomer = FakePeer(factory, host="192.0.2.9")
    history = [line for line in newcomer.register("eve") if "[history]" in line]
    assert [line[11:] for line in history] == ["[history] ala (GL1): hello"]
