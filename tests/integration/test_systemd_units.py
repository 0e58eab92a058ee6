"""
contrib/systemd: the units are valid for systemd (C{systemd-analyze verify},
a real process, where it is installed), and their ExecStart is a command line
twistd accepts, with every CHATROOM_OPTS the example file offers.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_twisted
from twisted.scripts.twistd import ServerOptions

from tests.integration.process import spawn

UNITS = Path(__file__).resolve().parents[2] / "contrib" / "systemd"
TWISTD = str(Path(sys.executable).with_name("twistd"))


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((UNITS / name).read_text())
    return parser


def example_options() -> list[str]:
    """Every CHATROOM_OPTS in the example file, commented out or not."""
    lines = (UNITS / "chatroom.env.example").read_text().splitlines()
    return [
        line.lstrip("#").partition("=")[2]
        for line in lines
        if line.lstrip("#").startswith("CHATROOM_OPTS=")
    ]


CREDENTIALS = "/run/credentials/chatroom.service/"


def credentials_in(directory: Path) -> Callable[[str], str]:
    """The example's credential paths moved to C{directory}, holding an op-password."""
    (directory / "op-password").write_text("a long passphrase\n")
    return lambda options: options.replace(CREDENTIALS, f"{directory}/")


def twistd_options(exec_start: str, chatroom_opts: str) -> ServerOptions:
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/chatroom/venv/bin/twistd"
    assert argv[-1] == "$CHATROOM_OPTS"  # split into words by systemd, as here
    options = ServerOptions()
    options.parseOptions(argv[1:-1] + chatroom_opts.split())
    return options


@pytest.mark.parametrize("name", ["chatroom.service", "chatroom@.service"])
def test_execStartIsTwistdChatroomInTheForeground(name, tmp_path):
    service = unit(name)["Service"]
    offered = example_options()
    assert len(offered) == 3
    if "Environment" in service:
        offered.append(service["Environment"].partition("CHATROOM_OPTS=")[2])
    offered = list(map(credentials_in(tmp_path), offered))
    for chatroom_opts in offered:
        options = twistd_options(service["ExecStart"], chatroom_opts)
        assert options.subCommand == "chatroom"
        assert options["nodaemon"] and options["pidfile"] == "" and options["logfile"] == "-"
        assert options.subOptions["port"].startswith(("tcp6:5000", "ssl:5001", "reuseport:5000"))
        assert options.subOptions["max-clients"] in (50, 200)
    # The JSON alternative the unit's comment offers parses too.
    json_start = service["ExecStart"].replace("--logfile=-", "--logger=chatroom.logjson.observer")
    from chatroom import logjson

    assert twistd_options(json_start, offered[0])["logger"] is logjson.observer


def test_credentialsTheExampleUsesAreLoadedByTheUnits():
    """Each /run/credentials/... file in the example has its LoadCredential= in both units."""
    used = set()
    for options in example_options():
        used.update(re.findall(re.escape(CREDENTIALS) + r"([\w.-]+)", options))
    assert used == {"key.pem", "cert.pem", "op-password"}
    for name in ("chatroom.service", "chatroom@.service"):
        text = (UNITS / name).read_text()
        for credential in used:
            assert f"#LoadCredential={credential}:/etc/chatroom/{credential}\n" in text
    # Debian's Redis has its socket off, and a DynamicUser is not in group redis.
    assert not [options for options in example_options() if "--redis=unix:" in options]


def test_templateTakesItsOptionsFromTheInstanceFile():
    service = unit("chatroom@.service")["Service"]
    assert service["EnvironmentFile"] == "/etc/chatroom/%i.env"
    assert "Environment" not in service  # no default port shared by accident


@pytest.mark.parametrize("name", ["chatroom.service", "chatroom@.service"])
def test_hardened(name):
    service = unit(name)["Service"]
    assert service["DynamicUser"] == "yes" and service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == "" and service["AmbientCapabilities"] == ""
    assert service["RestrictAddressFamilies"].split() == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert service["ProtectSystem"] == "strict" and service["Restart"] == "on-failure"
    assert service["LimitNOFILE"] == "65536"


@pytest.mark.parametrize(
    "name, instance",
    [("chatroom.service", "chatroom.service"), ("chatroom@.service", "chatroom@1.service")],
)
@pytest_twisted.ensureDeferred
async def test_systemdAnalyzeVerify(reactor, tmp_path, name, instance):
    """systemd checks the ExecStart binary exists: point it at this twistd."""
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is not installed (Debian: apt-get install systemd)")
    text = (UNITS / name).read_text().replace("/opt/chatroom/venv/bin/twistd", TWISTD)
    (tmp_path / name).write_text(text)
    check = spawn(reactor, ["systemd-analyze", "verify", str(tmp_path / instance)])
    status = await check.wait()
    # It warns (an unknown key, a bad value) and still exits 0: nothing must be said.
    assert (status, check.output, check.errors) == (0, "", "")
