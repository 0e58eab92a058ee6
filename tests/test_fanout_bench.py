"""
A micro-benchmark of the fan-out path: C{Room.say} -> L{Fanout} -> C{member.send}.

Under pytest (CI) nothing is timed: a bounded number of reactor turns runs and
the tests check what the speed rests on, deterministically -- every member
gets every message once, in order; one write per recipient per turn, however
many messages the turn holds; and the same bytes object for every recipient
that needs no special batch (format and encode once).  A change that breaks
the coalescing fails here, on any machine, without a flaky timing threshold.

For timings, run the module itself (no extra dependency)::

    python tests/test_fanout_bench.py                      # the default table
    python tests/test_fanout_bench.py --members 1000 --per-turn 64 --seconds 2
    python tests/test_fanout_bench.py --profile            # cProfile of one case

Members here are sinks that count, so the figures are the room's and the fan-out's
own cost (no sockets): ns per delivery and deliveries per second of one core.
Compare before and after a change on the same machine, in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import deque

import pytest
from twisted.internet import task

from chatroom.fanout import Fanout
from chatroom.lines import ENGLISH_LINES
from chatroom.room import Member, Room


class Sink:
    """A member's C{send} that keeps every write, for the checks."""

    __slots__ = ("writes", "chunks")

    def __init__(self) -> None:
        self.writes = 0
        self.chunks: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.writes += 1
        self.chunks.append(data)

    def close(self) -> None:
        pass

    def reset(self) -> None:
        self.writes = 0
        self.chunks = []


def build_room(
    members: int, keep: bool = True
) -> tuple[Room, task.Clock, list[Member], list[Sink]]:
    """
    A room of C{members} joined members on a fake clock, fan-out batched per
    turn (C{clock.advance(0)} is the end of a reactor turn), as in the server.
    """
    clock = task.Clock()
    room = Room(members, Fanout(lambda flush: clock.callLater(0, flush)))
    sinks = [Sink() for _ in range(members)]
    people = []
    for i, sink in enumerate(sinks):
        # For timing, the cheapest possible send (a C call, bounded memory),
        # so that what is measured is the room's and the fan-out's own work.
        send = sink.send if keep else deque(maxlen=1).append
        member = room.reserve(f"m{i:05d}", send, sink.close, f"[::1]:{10000 + i}", ENGLISH_LINES)
        room.join(member, "bench", 0.0)
        people.append(member)
    clock.advance(0)
    for sink in sinks:
        sink.reset()
    return room, clock, people, sinks


def run_turns(
    room: Room, clock: task.Clock, senders: list[Member], per_turn: int, turns: int
) -> None:
    """C{turns} reactor turns, each with C{per_turn} public messages from the senders in turn."""
    count = len(senders)
    for turn in range(turns):
        for k in range(per_turn):
            room.say(senders[k % count], f"t{turn} k{k}", 1.0)
        clock.advance(0)


def expected_texts(member: Member, senders: list[Member], per_turn: int, turns: int) -> list[str]:
    count = len(senders)
    return [
        f"{senders[k % count].name} (bench): t{turn} k{k}"
        for turn in range(turns)
        for k in range(per_turn)
        if senders[k % count] is not member
    ]


@pytest.mark.parametrize("per_turn", [1, 7, 64])
def test_everyMemberGetsEveryOtherMessageOnceInOrder(per_turn):
    room, clock, people, sinks = build_room(30)
    senders = people[:3]
    run_turns(room, clock, senders, per_turn, turns=5)
    for member, sink in zip(people, sinks, strict=True):
        lines = b"".join(sink.chunks).decode("utf-8").split("\r\n")
        assert lines.pop() == ""
        # Strip the "[HH:MM:SS] " stamp: the clock is not what is checked here.
        assert [line[11:] for line in lines] == expected_texts(member, senders, per_turn, 5)


@pytest.mark.parametrize("per_turn", [1, 10, 64])
def test_oneWritePerRecipientPerTurn(per_turn):
    """The coalescing itself: writes depend on turns and members, not on messages."""
    members, turns = 50, 4
    room, clock, people, sinks = build_room(members)
    run_turns(room, clock, people[:5], per_turn, turns)
    writes = sum(sink.writes for sink in sinks)
    # With one message a turn its sender gets nothing; with more, every sender
    # hears the others, so everyone gets exactly one write.
    assert writes == turns * (members - 1 if per_turn == 1 else members)


def test_plainRecipientsShareOneEncodedBatch():
    """Format and encode once: members who are not senders get the very same bytes."""
    room, clock, people, sinks = build_room(40)
    run_turns(room, clock, people[:4], per_turn=10, turns=1)
    shared = {id(sink.chunks[0]) for sink in sinks[4:]}
    assert len(shared) == 1
    assert all(len(sink.chunks) == 1 for sink in sinks)


# -- timings, when run as a script


def measure(members: int, senders: int, per_turn: int, seconds: float) -> dict[str, float]:
    """Run turns for about C{seconds} (at most 10**6 turns); deliveries per second."""
    room, clock, people, _ = build_room(members, keep=False)
    speakers = people[:senders]
    run_turns(room, clock, speakers, per_turn, 3)  # warm up
    turns = done = 0
    start = time.perf_counter()
    deadline = start + seconds
    batch = 1
    while time.perf_counter() < deadline and done < 10**6:
        run_turns(room, clock, speakers, per_turn, batch)
        done += batch
        batch = min(batch * 2, 256)
    elapsed = time.perf_counter() - start
    turns = done
    messages = turns * per_turn
    deliveries = messages * (members - 1)
    return {
        "members": members,
        "senders": senders,
        "per_turn": per_turn,
        "messages": messages,
        "deliveries_per_s": deliveries / elapsed,
        "ns_per_delivery": elapsed * 1e9 / deliveries,
        "us_per_message": elapsed * 1e6 / messages,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Time the fan-out path (see the docstring).")
    parser.add_argument("--members", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--per-turn", type=int, nargs="*", default=[1, 10, 64])
    parser.add_argument("--seconds", type=float, default=1.0, help="per case")
    parser.add_argument("--profile", action="store_true", help="cProfile the first case")
    args = parser.parse_args(argv)
    cases = [(m, n) for m in args.members for n in args.per_turn]
    if args.profile:
        members, per_turn = cases[0]
        profiler = cProfile.Profile()
        profiler.runcall(measure, members, args.senders, per_turn, args.seconds)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return
    print(f"{'members':>8} {'per turn':>8} {'deliveries/s':>14} {'ns/delivery':>12} {'us/msg':>8}")
    for members, per_turn in cases:
        r = measure(members, min(args.senders, members - 1), per_turn, args.seconds)
        print(
            f"{members:>8} {per_turn:>8} {r['deliveries_per_s']:>14,.0f} "
            f"{r['ns_per_delivery']:>12.1f} {r['us_per_message']:>8.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
