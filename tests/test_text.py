import pytest

from chatroom.text import clean


def test_plainTextUnchanged():
    text = "zażółć gęślą jaźń 😀 <b>&amp; 'quotes'"
    assert clean(text) is text


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[2Jcleared", "[2Jcleared"),
        ("bell\x07", "bell"),
        ("nul\x00byte", "nulbyte"),
        ("tab\there", "tab here"),
        ("del\x7f", "del"),
        ("c1\x9b31m", "c131m"),
        ("line\u2028break", "line break"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("iso\u2066late\u2069", "isolate"),
    ],
)
def test_terminalControlsRemoved(raw, shown):
    assert clean(raw) == shown


def test_nonBreakingSpaceAndZeroWidthJoinerKept():
    # Not printable by str.isprintable(), but harmless: they must survive.
    assert clean("a\u00a0b") == "a\u00a0b"
    assert clean("👩\u200d💻") == "👩\u200d💻"
