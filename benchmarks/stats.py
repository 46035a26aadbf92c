"""Small statistics helpers: medians and percentiles of latencies."""

from collections.abc import Sequence
from dataclasses import dataclass
import math
import statistics


@dataclass(slots=True, frozen=True)
class Percentiles:
    """Latency percentiles in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Percentiles:
        """Percentiles of latencies given in seconds (nearest-rank)."""
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        ordered = sorted(seconds)
        return cls(
            count=len(ordered),
            p50=_rank(ordered, 0.50) * 1000,
            p90=_rank(ordered, 0.90) * 1000,
            p99=_rank(ordered, 0.99) * 1000,
            max=ordered[-1] * 1000,
        )


def _rank(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    index = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """Median, NaN when there are no values."""
    return statistics.median(values) if values else math.nan
