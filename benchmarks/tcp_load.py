"""The TCP report path: a PBX that writes its reports to the event link Home Assistant keeps.

With the TCP report method Home Assistant connects out to the PBX's event port and
reads the reports there, into the same receiver as the webhook's. The simulated PBX
runs in Home Assistant's process and event loop, so a report is timed in-process,
from the simulator's write to the `yeastar_s_series_event` bus event (and to the call
event entity's state change); Home Assistant's CPU includes the simulator's writes.
"""

import asyncio
from dataclasses import dataclass
import gc
import time

from homeassistant.core import HomeAssistant

from custom_components.yeastar_s_series.const import EVENT_YEASTAR

from .home import Entry, call_entity_id
from .loadgen import callid, report_body
from .stats import Percentiles, median
from .webhook_load import Tracker

# How long the reports of one batch may take to reach the bus after the last write.
_DRAIN_TIMEOUT = 30.0


@dataclass(slots=True)
class TcpReportResults:
    """Throughput and latency of the TCP report path."""

    reports: int  # saturated, over every round
    rounds: int
    rates: list[float]  # reports per second, per round
    cpu_us: list[float]  # the process's CPU per report, per round (simulator included)
    saturated_event: Percentiles  # write → bus event
    saturated_state: Percentiles  # write → state change
    paced_rate: float
    paced_reports: int
    paced_event: Percentiles
    paced_state: Percentiles
    missing: int  # reports written that fired no bus event
    repeated: int  # reports that fired more than one

    @property
    def rate(self) -> float:
        """Median reports per second over the rounds."""
        return median(self.rates)


class TcpBench:
    """Write reports to a loaded TCP entry's event link and note when each reaches the bus."""

    def __init__(self, hass: HomeAssistant, entry: Entry) -> None:
        """Bind to a loaded entry whose PBX reports over TCP."""
        self.hass = hass
        self.entry = entry
        self.tracker = Tracker(EVENT_YEASTAR, call_entity_id(hass, entry.entry))
        self._batch = 0
        self._written: list[tuple[str, float]] = []  # (callid, write time)

    async def linked(self, timeout: float = 30.0) -> None:
        """Wait until the integration's event link is logged in at the PBX."""
        async with asyncio.timeout(timeout):
            while self.entry.pbx.event_clients < 1:
                await asyncio.sleep(0.05)

    async def _batch_of(self, count: int, rate: float | None) -> tuple[float, float]:
        """Write one batch (as fast as the link takes it, or paced); return (elapsed, CPU)."""
        self._batch += 1
        tag = f"t{self._batch}"
        bodies = [
            report_body(self.entry.pbx.serial, callid(tag, i)) for i in range(count)
        ]
        gc.collect()
        cpu = time.process_time()
        start = time.monotonic()
        for index, body in enumerate(bodies):
            if rate is not None:
                delay = start + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            written = await self.entry.pbx.write_event(body)
            self._written.append((callid(tag, index), written))
        last = callid(tag, count - 1)
        async with asyncio.timeout(_DRAIN_TIMEOUT):
            while last not in self.tracker.states:
                await asyncio.sleep(0.001)
        await self.hass.async_block_till_done()
        return time.monotonic() - start, time.process_time() - cpu

    def _latencies(self, first: int) -> tuple[Percentiles, Percentiles]:
        """Write → bus event and write → state change of the reports written since ``first``."""
        event: list[float] = []
        state: list[float] = []
        for key, written in self._written[first:]:
            if times := self.tracker.events.get(key):
                event.append(times[0] - written)
            if times := self.tracker.states.get(key):
                state.append(times[0] - written)
        return Percentiles.of(event), Percentiles.of(state)

    async def run(
        self, reports: int, rounds: int, paced_rate: float, paced_reports: int
    ) -> TcpReportResults:
        """Warm up, then saturated rounds, then one paced batch; check every report fired once."""
        await self.linked()
        self.tracker.attach(self.hass)
        try:
            await self._batch_of(max(50, reports // 20), None)
            self._written.clear()
            per_round = max(1, reports // rounds)
            rates: list[float] = []
            cpu_us: list[float] = []
            for _ in range(rounds):
                elapsed, cpu = await self._batch_of(per_round, None)
                rates.append(per_round / elapsed)
                cpu_us.append(cpu / per_round * 1e6)
            saturated_event, saturated_state = self._latencies(0)
            paced_first = len(self._written)
            await self._batch_of(paced_reports, paced_rate)
            paced_event, paced_state = self._latencies(paced_first)
        finally:
            self.tracker.detach()
        counts = [len(self.tracker.events.get(key, ())) for key, _ in self._written]
        return TcpReportResults(
            reports=per_round * rounds,
            rounds=rounds,
            rates=rates,
            cpu_us=cpu_us,
            saturated_event=saturated_event,
            saturated_state=saturated_state,
            paced_rate=paced_rate,
            paced_reports=paced_reports,
            paced_event=paced_event,
            paced_state=paced_state,
            missing=counts.count(0),
            repeated=sum(count > 1 for count in counts),
        )
