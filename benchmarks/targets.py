"""The targets a run is checked against, each PASS or FAIL.

The integration is held against the floor, the least an integration does to show a
report in an entity; the empty baseline is in the tables for context only.
"""

from dataclasses import dataclass

from custom_components.yeastar_s_series.const import DEFAULT_HEARTBEAT_INTERVAL

from .fleet import IdleResults
from .recovery import RecoveryResults
from .stats import median
from .tcp_load import TcpReportResults
from .webhook_load import MemoryResults, ReportResults

MIN_FLOOR_CPU_RATIO = 0.75
MAX_ADDED_P99_MS = 1.0
MAX_MEMORY_GROWTH_MB = 5.0
# From the PBX's return until a report it sends fires its bus event, the sensor connected.
MAX_RECOVERY_S = 10.0
# A quiet PBX at the default heartbeat, trunk states included.
MAX_IDLE_REQUESTS_PER_MINUTE = 2


@dataclass(slots=True, frozen=True)
class Target:
    """One target: what it asks, what the run measured, whether that meets it."""

    name: str
    measured: str
    passed: bool


def evaluate(
    reports: ReportResults,
    memory: MemoryResults,
    idle: list[IdleResults],
    tcp: TcpReportResults,
    recovery: RecoveryResults,
) -> list[Target]:
    """Check throughput and latency against the floor, delivery, memory, idle, recovery."""
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
            f"memory phase {memory.delivery.reports:,}; over TCP "
            f"{tcp.reports + tcp.paced_reports:,} ({tcp.missing} missing, "
            f"{tcp.repeated} fired twice)",
            delivery.exactly_once
            and memory.delivery.exactly_once
            and tcp.missing == tcp.repeated == 0,
        ),
        Target(
            f"Memory growth < {MAX_MEMORY_GROWTH_MB:g} MB over {memory.reports:,} reports",
            f"{memory.growth_mb:+.1f} MB",
            memory.growth_mb < MAX_MEMORY_GROWTH_MB,
        ),
        Target(
            f"Back within {MAX_RECOVERY_S:g} s of the PBX's return after "
            f"{recovery.outage_s:.0f} s unreachable: Connection sensor `connected` and "
            "a report on the bus",
            f"{recovery.report_s:.1f} s (connected after {recovery.connected_s:.1f} s)",
            recovery.report_s <= MAX_RECOVERY_S,
        ),
        *(
            Target(
                f"Idle requests ≤ {MAX_IDLE_REQUESTS_PER_MINUTE} a minute per PBX at the "
                f"default {one.heartbeat_interval} s heartbeat, trunk states included",
                f"{one.requests_per_pbx_hour_max / 60:.2f} a minute "
                f"({one.requests_by_endpoint.get('trunk/list', 0)} trunk list reads an hour)",
                one.requests_per_pbx_hour_max <= MAX_IDLE_REQUESTS_PER_MINUTE * 60,
            )
            for one in idle
            if one.heartbeat_interval == DEFAULT_HEARTBEAT_INTERVAL
        ),
    ]
