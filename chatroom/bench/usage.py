"""
CPU and memory readings, this process's and the server's: they tell whether
the tool or the server was the limit, and give deliveries per server CPU-second.
"""

from __future__ import annotations

import os
import resource
from typing import Any


def self_cpu() -> float:
    """This process's CPU seconds, user and system together."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_sample(pid: int) -> dict[str, Any] | None:
    """The server's CPU seconds and memory from /proc (Linux), if a PID was given."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "cpu_s": round((int(fields[11]) + int(fields[12])) / tick, 3),
        "rss_kb": int(status.get("VmRSS", "0 kB").split()[0]),
        "threads": int(status.get("Threads", "0").split()[0]),
    }
