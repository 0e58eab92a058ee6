import pytest

from chatroom.names import (
    InvalidGroup,
    InvalidName,
    name_key,
    normalize_group,
    normalize_name,
)


@pytest.mark.parametrize(
    "name",
    ["ala", "Żaneta", "ŁUKASZ_2", "zażółć-gęślą", "a", "x" * 20, "Ярослава", "Νίκος", "user_1-2"],
)
def test_validNames(name):
    assert normalize_name(name) == name


def test_surroundingBlanksIgnored():
    assert normalize_name("  ala \t") == "ala"


def test_decomposedLettersAreComposed():
    # "ó" typed as o + combining acute (macOS keyboards do this) is the same name.
    assert normalize_name("zo\u0301lw") == "zólw"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 21, "at most 20"),
        ("ala ma", "only letters"),
        ("ala!", "only letters"),
        ("a\x1b[2J", "only letters"),
        ("ala\u200b", "only letters"),  # zero-width space
        ("😀", "only letters"),
        ("аla", "mix"),  # Cyrillic а + Latin la
    ],
)
def test_invalidNamesSayWhy(name, reason):
    with pytest.raises(InvalidName, match=reason):
        normalize_name(name)


def test_keysIgnoreCaseAndWidth():
    assert name_key("Ala") == name_key("ALA") == name_key("ａｌａ")
    assert name_key("Łukasz") == name_key("łUKASZ")
    assert name_key("ala") != name_key("ola")


def test_germanSharpSCasefolds():
    assert name_key("STRASSE") == name_key("straße")


@pytest.mark.parametrize("group", ["GL3", "3", "GL 3", "Inf-2024/A", "x" * 16, "grupa ą"])
def test_validGroups(group):
    assert normalize_group(group) == group


@pytest.mark.parametrize(
    "group, reason",
    [("", "empty"), ("  ", "empty"), ("x" * 17, "at most 16"), ("GL\x07", "printable")],
)
def test_invalidGroupsSayWhy(group, reason):
    with pytest.raises(InvalidGroup, match=reason):
        normalize_group(group)
