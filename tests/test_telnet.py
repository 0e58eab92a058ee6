from chatroom.telnet import (
    BINARY,
    DO,
    DONT,
    ECHO,
    IAC,
    MAX_SUBNEGOTIATION,
    OFFER,
    SB,
    SE,
    SGA,
    WILL,
    WONT,
    TelnetFilter,
)


def make(offered=True):
    answers = []
    return TelnetFilter(answers.append, offered=offered), answers


def test_plainDataPassesUntouched():
    telnet, answers = make()
    data = "zażółć\n".encode()
    assert telnet.feed(data) is data
    assert answers == []


def test_acknowledgementsOfOurOfferAreSwallowedSilently():
    # What Debian's telnet answers to OFFER.
    telnet, answers = make()
    assert telnet.feed(bytes((IAC, DO, BINARY, IAC, WILL, BINARY)) + b"hi\n") == b"hi\n"
    assert answers == []


def test_unsupportedOptionsRefusedOnce():
    telnet, answers = make()
    request = bytes((IAC, DO, ECHO, IAC, WILL, 31))  # echo, window size
    assert telnet.feed(request + request) == b""
    assert answers == [bytes((IAC, WONT, ECHO)), bytes((IAC, DONT, 31))]


def test_suppressGoAheadAccepted():
    telnet, answers = make()
    telnet.feed(bytes((IAC, DO, SGA)))
    telnet.feed(bytes((IAC, DO, SGA)))
    assert answers == [bytes((IAC, WILL, SGA))]


def test_binaryRequestedByThePeerWithoutOurOffer():
    telnet, answers = make(offered=False)
    telnet.feed(bytes((IAC, WILL, BINARY)))
    assert answers == [bytes((IAC, DO, BINARY))]


def test_disablingAnEnabledOptionIsAcknowledged():
    telnet, answers = make()
    telnet.feed(bytes((IAC, WONT, BINARY, IAC, WONT, BINARY)))
    assert answers == [bytes((IAC, DONT, BINARY))]


def test_commandSplitAcrossChunks():
    telnet, answers = make()
    out = b"".join(telnet.feed(bytes([b])) for b in b"a" + bytes((IAC, DO, ECHO)) + b"b")
    assert out == b"ab"
    assert answers == [bytes((IAC, WONT, ECHO))]


def test_escapedFF():
    telnet, _ = make()
    assert telnet.feed(b"a\xff\xffb") == b"a\xffb"


def test_subnegotiationSkipped():
    telnet, _ = make()
    data = b"x" + bytes((IAC, SB, 24, 0)) + b"xterm" + bytes((IAC, SE)) + b"y"
    assert telnet.feed(data) == b"xy"


def test_subnegotiationWithEscapedIAC():
    telnet, _ = make()
    data = bytes((IAC, SB, 24, IAC, IAC, 1, IAC, SE)) + b"ok"
    assert telnet.feed(data) == b"ok"


def test_endlessSubnegotiationIsBounded():
    telnet, _ = make()
    telnet.feed(bytes((IAC, SB)))
    telnet.feed(b"z" * (MAX_SUBNEGOTIATION + 10))
    assert telnet.idle
    assert telnet.feed(b"data") == b"data"


def test_twoByteCommandsDropped():
    telnet, answers = make()
    # NOP, interrupt process, are-you-there, go ahead
    assert telnet.feed(bytes((IAC, 241, IAC, 244, IAC, 246, IAC, 249)) + b"z") == b"z"
    assert answers == []


def test_stripOnlyFilterNeverAnswers():
    telnet = TelnetFilter()
    assert telnet.feed(OFFER + b"Welcome") == b"Welcome"
