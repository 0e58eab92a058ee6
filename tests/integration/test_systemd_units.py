"""
contrib/systemd: the units are valid for systemd (C{systemd-analyze verify},
a real process, where it is installed), and their ExecStart is a command line
twistd accepts, with every CHATROOM_OPTS the example file offers.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import sys
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


def twistd_options(exec_start: str, chatroom_opts: str) -> ServerOptions:
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/chatroom/venv/bin/twistd"
    assert argv[-1] == "$CHATROOM_OPTS"  # split into words by systemd, as here
    options = ServerOptions()
    options.parseOptions(argv[1:-1] + chatroom_opts.split())
    return options


@pytest.mark.parametrize("name", ["chatroom.service", "chatroom@.service"])
def test_execStartIsTwistdChatroomInTheForeground(name):
    service = unit(name)["Service"]
    offered = example_options()
    assert len(offered) == 3
    if "Environment" in service:
        offered.append(service["Environment"].partition("CHATROOM_OPTS=")[2])
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


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize(
    "name, instance",
    [("chatroom.service", "chatroom.service"), ("chatroom@.service", "chatroom@1.service")],
)
@pytest_twisted.ensureDeferred
async def test_systemdAnalyzeVerify(reactor, tmp_path, name, instance):
    """systemd checks the ExecStart binary exists: point it at this twistd."""
    text = (UNITS / name).read_text().replace("/opt/chatroom/venv/bin/twistd", TWISTD)
    (tmp_path / name).write_text(text)
    check = spawn(reactor, ["systemd-analyze", "verify", str(tmp_path / instance)])
    status = await check.wait()
    # It warns (an unknown key, a bad value) and still exits 0: nothing must be said.
    assert (status, check.output, check.errors) == (0, "", "")
