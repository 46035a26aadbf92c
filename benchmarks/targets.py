"""The targets a run is checked against, each PASS or FAIL."""

from dataclasses import dataclass

from .webhook_load import MemoryResults, ReportResults


@dataclass(slots=True, frozen=True)
class Target:
    """One target: what it asks, what the run measured, whether that meets it."""

    name: str
    measured: str
    passed: bool


def evaluate(reports: ReportResults, memory: MemoryResults) -> list[Target]:
    """Check the issue's targets: each PASS or FAIL (the floor is compared in the table)."""
    ratio = reports.rate_ratio
    added = reports.paced.added_p99_ms
    delivery = reports.delivery
    return [
        Target(
            "Reports per second ≥ 0.8 × baseline",
            f"{ratio:.2f} × ({reports.integration_rate:,.0f} vs {reports.baseline_rate:,.0f} /s)",
            ratio >= 0.8,
        ),
        Target(
            f"Added p99 latency < 2 ms (at {reports.paced_rate:,.0f} reports/s)",
            f"{added:+.2f} ms (p50 {reports.paced.added_p50_ms:+.2f} ms)",
            added < 2.0,
        ),
        Target(
            "Every report delivered exactly once",
            f"{delivery.reports:,} reports, {delivery.resends} re-sent copies dropped; "
            f"memory phase {memory.delivery.reports:,}",
            delivery.exactly_once and memory.delivery.exactly_once,
        ),
        Target(
            f"Memory growth < 5 MB over {memory.reports:,} reports",
            f"{memory.growth_mb:+.1f} MB",
            memory.growth_mb < 5.0,
        ),
    ]
