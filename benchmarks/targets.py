"""The targets a run is checked against, each PASS or FAIL.

The integration is held against the floor, the least an integration does to show a
report in an entity; the empty baseline is in the tables for context only.
"""

from dataclasses import dataclass

from .stats import median
from .webhook_load import MemoryResults, ReportResults

MIN_FLOOR_CPU_RATIO = 0.75
MAX_ADDED_P99_MS = 1.0
MAX_MEMORY_GROWTH_MB = 5.0


@dataclass(slots=True, frozen=True)
class Target:
    """One target: what it asks, what the run measured, whether that meets it."""

    name: str
    measured: str
    passed: bool


def evaluate(reports: ReportResults, memory: MemoryResults) -> list[Target]:
    """Check throughput and latency against the floor, delivery and memory."""
    cpu_ratio = reports.floor_cpu_ratio
    added = reports.paced.added_p99_ms
    delivery = reports.delivery
    return [
        Target(
            f"Throughput ≥ {MIN_FLOOR_CPU_RATIO} × the floor's, by Home Assistant's CPU "
            "per report (floor ÷ integration)",
            f"{cpu_ratio:.2f} (floor {median(reports.floor_cpu_us):.0f} µs, integration "
            f"{median(reports.integration_cpu_us):.0f} µs per report)",
            cpu_ratio >= MIN_FLOOR_CPU_RATIO,
        ),
        Target(
            f"Added p99 latency over the floor < {MAX_ADDED_P99_MS:g} ms (paced, "
            f"{reports.paced_rate:,.0f} reports/s)",
            f"{added:+.2f} ms (p50 {reports.paced.added_p50_ms:+.2f} ms)",
            added < MAX_ADDED_P99_MS,
        ),
        Target(
            "Every report delivered exactly once",
            f"{delivery.reports:,} reports, {delivery.resends} re-sent copies dropped; "
            f"memory phase {memory.delivery.reports:,}",
            delivery.exactly_once and memory.delivery.exactly_once,
        ),
        Target(
            f"Memory growth < {MAX_MEMORY_GROWTH_MB:g} MB over {memory.reports:,} reports",
            f"{memory.growth_mb:+.1f} MB",
            memory.growth_mb < MAX_MEMORY_GROWTH_MB,
        ),
    ]
