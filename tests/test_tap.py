"""twistd chatroom's command line: what it turns into, and how a mistake ends."""

import pytest
from twisted.python import usage

from chatroom.tap import Options


def test_writeThroughByDefault():
    options = Options()
    options.parseOptions([])
    assert options.settings().write_through
    options = Options()
    options.parseOptions(["--no-write-through"])
    assert not options.settings().write_through


def test_aMistakeOnItsOwnIsAUsageError():
    with pytest.raises(usage.UsageError, match="'zero' is not a whole number"):
        Options().parseOptions(["--max-clients", "zero"])


def test_aMistakeUnderTwistdEndsWithStatus1():
    """twistd before 26.10 would print the error and exit 0 (see Options.parseOptions)."""
    options = Options()
    options.parent = usage.Options()  # as twistd's ServerOptions sets it for a subcommand
    with pytest.raises(SystemExit) as exited:
        options.parseOptions(["--max-clients", "zero"])
    assert "twistd chatroom: " in str(exited.value.code)
    assert "'zero' is not a whole number of at least 1" in str(exited.value.code)
