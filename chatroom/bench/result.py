"""
What a run measured, and the verdict on it: the figures, the warnings a reader
needs to trust them, and the human and C{--json} forms of the report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Above this share of one core, the tool itself is probably the bottleneck.
CLIENT_BOUND_PCT = 90.0


@dataclass
class BenchResult:
    """What a run measured; L{to_dict} is the C{--json} output."""

    ok: bool = False
    error: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    address: str = ""
    clients: int = 0
    connected: int = 0
    registered: int = 0
    senders: int = 0
    receivers_per_msg: int = 0
    rate_target: float = 0.0
    window: int = 0
    setup_s: float = 0.0
    connect_s: float = 0.0
    send_s: float = 0.0
    messages: int = 0
    msgs_per_s: float = 0.0
    expected_deliveries: int = 0
    delivered: int = 0
    delivered_in_window: int = 0
    deliveries_per_s: float = 0.0
    deliveries_per_s_incl_drain: float = 0.0
    lost: int = 0
    lost_pct: float = 0.0
    reordered_or_dup: int = 0
    echoes: int = 0
    clients_dropped: int = 0
    slow_down_lines: int = 0
    window_stalls: int = 0
    max_sender_lag_ms: float = 0.0
    drain_s: float = 0.0
    client_cpu_pct: float = 0.0
    latency: dict[str, float | int] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Every field, plain types only: what C{--json} prints."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """The human report (the command line prints it on stderr)."""
        head = f"chatroom bench {self.address} run {self.run_id}: "
        out = [head + ("ok" if self.ok else f"FAILED: {self.error}")]
        out.append(
            f"  room: {self.registered} of {self.clients} clients registered in "
            f"{self.setup_s:.2f} s (connects {self.connect_s:.2f} s)"
        )
        if self.messages or self.send_s:
            pace = (
                f"{self.rate_target:g} msg/s in total (senders at most "
                f"{self.max_sender_lag_ms:g} ms late)"
                if self.rate_target
                else f"unthrottled, window {self.window} per sender"
            )
            out += [
                f"  sending: {self.senders} senders to {self.receivers_per_msg} receivers "
                f"for {self.send_s:.2f} s, {pace}",
                f"  {self.messages:,} messages ({self.msgs_per_s:,.0f}/s), "
                f"{self.delivered:,} deliveries ({self.deliveries_per_s:,.0f}/s; "
                f"{self.deliveries_per_s_incl_drain:,.0f}/s incl. drain)",
                f"  lost {self.lost:,} ({self.lost_pct:.3f} %), reordered {self.reordered_or_dup}, "
                f"echoes {self.echoes}, clients dropped {self.clients_dropped}",
            ]
            lat = self.latency
            if lat.get("count"):
                out.append(
                    f"  latency ms: p50 {lat['p50_ms']} p90 {lat['p90_ms']} p99 {lat['p99_ms']} "
                    f"p99.9 {lat['p999_ms']} max {lat['max_ms']} (n={lat['count']:,})"
                )
            cpu = f"  cpu: this tool {self.client_cpu_pct:.0f} % of a core"
            if self.server.get("cpu_pct") is not None:
                cpu += f", server {self.server['cpu_pct']:.0f} %"
                if self.server.get("deliveries_per_cpu_s"):
                    cpu += f" ({self.server['deliveries_per_cpu_s']:,.0f} deliveries per CPU-s)"
            out.append(cpu)
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  error: {e}" for e in self.errors]
        return "\n".join(out)


def judge(result: BenchResult, strict: bool) -> None:
    """
    Set C{ok} and C{error} on a finished run, and add the warnings that
    qualify its figures: losses are a warning by default (a server under
    load may drop), a failure with C{strict}.
    """
    if result.slow_down_lines:
        result.warnings.append(
            f"the server rate-limited the senders ({result.slow_down_lines} 'Error: slow "
            "down' lines): start it with --rate 0 for throughput tests"
        )
    if result.client_cpu_pct >= CLIENT_BOUND_PCT:
        result.warnings.append(
            f"this tool used {result.client_cpu_pct:.0f} % of a core: the figures may be "
            "its own limit rather than the server's"
        )
    anomalies = []
    if result.lost:
        anomalies.append(f"{result.lost} deliveries lost")
    if result.reordered_or_dup:
        anomalies.append(f"{result.reordered_or_dup} reordered or duplicated")
    if result.echoes:
        anomalies.append(f"{result.echoes} echoed back to their sender")
    if result.clients_dropped:
        anomalies.append(f"{result.clients_dropped} clients dropped")
    if not result.delivered:
        anomalies.append("nothing was delivered")
    if strict and anomalies:
        result.error = "; ".join(anomalies)
        return
    if anomalies:
        result.warnings.append("; ".join(anomalies))
    result.ok = bool(result.delivered)
    if not result.ok:
        result.error = "nothing was delivered"
