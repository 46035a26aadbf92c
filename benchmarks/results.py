"""What one run measured, and on which machine."""

from dataclasses import asdict, dataclass
import os
from pathlib import Path
import platform
from typing import Any

from homeassistant.const import __version__ as HA_VERSION

from .fleet import IdleResults, SetupResults, SpreadResults
from .recorder_memory import RecorderMemoryResults
from .recovery import RecoveryResults
from .targets import Target
from .tcp_load import TcpReportResults
from .webhook_load import MemoryResults, ReportResults


@dataclass(slots=True)
class Machine:
    """Where the benchmark ran."""

    nproc: int
    cpu: str
    ram_gib: float
    python: str
    home_assistant: str
    # 1, 5 and 15-minute load averages when the run started and ended: a load above
    # the CPUs Home Assistant and the load generator use means other work ran too.
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def detect(cls) -> Machine:
        """Read the machine's facts from /proc and the interpreter."""
        cpu = "unknown"
        ram = 0.0
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    ram = int(line.split()[1]) / 2**20
                    break
        except OSError:
            pass
        return cls(
            nproc=len(os.sched_getaffinity(0)),
            cpu=cpu,
            ram_gib=ram,
            python=platform.python_version(),
            home_assistant=HA_VERSION,
            load_before=os.getloadavg(),
        )


@dataclass(slots=True)
class Results:
    """Everything one run measured."""

    date: str
    command: str
    note: str | None  # the --note of the run
    machine: Machine
    duration_s: float
    reports: ReportResults
    memory: MemoryResults
    setup: SetupResults
    idle: list[IdleResults]  # one per heartbeat interval measured
    spread: SpreadResults
    tcp: TcpReportResults
    recovery: RecoveryResults
    recorder: RecorderMemoryResults
    targets: list[Target]

    def as_json(self) -> dict[str, Any]:
        """Return the results as JSON-able data, derived figures included."""
        data = asdict(self)
        data["reports"].update(
            integration_rate=self.reports.integration_rate,
            baseline_rate=self.reports.baseline_rate,
            rate_ratio=self.reports.rate_ratio,
            cpu_ratio=self.reports.cpu_ratio,
            floor_rate=self.reports.floor_rate,
            floor_rate_ratio=self.reports.floor_rate_ratio,
            floor_cpu_ratio=self.reports.floor_cpu_ratio,
            added_p99_ms=self.reports.paced.added_p99_ms,
            added_p50_ms=self.reports.paced.added_p50_ms,
            saturated_added_p99_ms=self.reports.saturated.added_p99_ms,
            exactly_once=self.reports.delivery.exactly_once,
        )
        data["memory"].update(
            growth_mb=self.memory.growth_mb,
            second_half_growth_mb=self.memory.second_half_growth_mb,
            exactly_once=self.memory.delivery.exactly_once,
        )
        data["setup"]["single_warm_median_ms"] = self.setup.single_warm_median_ms
        for idle_data, idle in zip(data["idle"], self.idle, strict=True):
            idle_data["cpu_s_per_pbx_hour"] = idle.cpu_s_per_pbx_hour
        data["spread"].update(
            width_s=self.spread.width_s,
            even_per_second=self.spread.even_per_second,
            spread=self.spread.spread,
        )
        data["tcp"]["rate"] = self.tcp.rate
        data["recorder"]["growth_mb"] = self.recorder.growth_mb
        return data
