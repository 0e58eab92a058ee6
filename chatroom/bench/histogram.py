"""
The latency histogram: fixed buckets rather than a list of samples, because a
busy run records millions of latencies.
"""

from __future__ import annotations


class LatencyHistogram:
    """
    Latencies in microseconds, log-linear like the Go load generator's: exact
    below 128 us, then 64 buckets per power of two (under 1.6 % error).  A
    list of counts, because a busy run records millions of values.
    """

    SIZE = 128 + 28 * 64

    def __init__(self) -> None:
        self.counts = [0] * self.SIZE
        self.count = 0
        self.sum_us = 0
        self.min_ns: int | None = None
        self.max_ns = 0

    def record(self, ns: int) -> None:
        """Add one latency (the hot path in C{runner._Run} inlines the same steps)."""
        us = ns // 1000
        self.counts[_bucket(us)] += 1
        self.count += 1
        self.sum_us += max(us, 0)
        if ns > self.max_ns:
            self.max_ns = ns
        if self.min_ns is None or ns < self.min_ns:
            self.min_ns = ns

    def quantile(self, q: float) -> float:
        """The C{q} quantile in milliseconds (a bucket's middle, at most the maximum)."""
        if not self.count:
            return 0.0
        target = max(1, int(q * self.count + 0.5))
        seen = 0
        top = self.max_ns / 1e6
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= target:
                return min(_bucket_mid(index) / 1000, top)
        return top

    def summary(self) -> dict[str, float | int]:
        """The figures a result reports, rounded to microseconds."""
        if not self.count:
            return {"count": 0}
        return {
            "count": self.count,
            "min_ms": round((self.min_ns or 0) / 1e6, 3),
            "mean_ms": round(self.sum_us / self.count / 1000, 3),
            "p50_ms": round(self.quantile(0.50), 3),
            "p90_ms": round(self.quantile(0.90), 3),
            "p99_ms": round(self.quantile(0.99), 3),
            "p999_ms": round(self.quantile(0.999), 3),
            "max_ms": round(self.max_ns / 1e6, 3),
        }


def _bucket(us: int) -> int:
    if us < 128:
        return us if us > 0 else 0
    e = us.bit_length() - 7
    return min((e << 6) + (us >> e), LatencyHistogram.SIZE - 1)


def _bucket_mid(index: int) -> float:
    if index < 128:
        return index + 0.5
    e = (index >> 6) - 1
    return ((index - (e << 6)) << e) + (1 << e) / 2
