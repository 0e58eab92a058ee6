"""
The operator's features in a real C{twistd chatroom} process: --metrics
serves Prometheus text and /healthz, --op-password-file makes operators,
and the password shows up neither on the command line nor in the log.
"""

from __future__ import annotations

import pytest_twisted

from chatroom.testing import join, quit_all
from tests.integration.test_metrics_tcp import fetch, scrape
from tests.integration.test_twistd import processes, start_server  # noqa: F401 (a fixture)

PASSWORD = "correct horse battery"


@pytest_twisted.ensureDeferred
async def test_twistdWithMetricsAndOperators(reactor, processes, tmp_path):  # noqa: F811
    password_file = tmp_path / "op-password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    server, port = await start_server(
        reactor,
        processes,
        tmp_path,
        "--metrics",
        r"tcp6:0:interface=\:\:1",
        "--op-password-file",
        str(password_file),
        "--history",
        "5",
    )
    metrics_port = int((await server.expect(r"MetricsSite starting on (\d+)")).group(1))
    assert await fetch(reactor, metrics_port, "/healthz") == (200, "ok\n")

    ala = await join(reactor, port, "ala", "GL3")
    ala.say(f"/op {PASSWORD}")
    await ala.expect("^You are an operator now")
    bob = await join(reactor, port, "bob", "GL1")
    bob.say("/op wrong guess")
    await bob.expect("^Error: wrong password\\.$")
    await server.expect(r"moderation: wrong operator password from \[::1\]:\d+ \(bob\), 1 in a row")
    bob.say("hello")
    ala.say("/announce quiz at noon")
    await bob.expect(r"\[announcement\] ala: quiz at noon$")
    await ala.expect(r"bob \(GL1\): hello$")
    samples = await scrape(reactor, metrics_port)
    assert samples["chatroom_members", ()] == 2
    assert samples["chatroom_operators", ()] == 1
    assert samples["chatroom_registrations_total", ()] == 2
    assert samples["chatroom_messages_received_total", (("kind", "public"),)] == 1
    assert samples["chatroom_messages_received_total", (("kind", "command"),)] == 3
    await quit_all(ala, bob)
    server.signal("TERM")
    await server.wait()
    assert PASSWORD not in "\n".join(server.lines) and "wrong guess" not in "\n".join(server.lines)
