"""Report throughput, latency, exactly-once delivery and memory, against two references.

The load generator (another process) posts reports to three webhooks in rounds: the
integration's, the baseline (does nothing) and the floor (one bus event, one event
entity; see ``home.register_floor``). Each round starts with another side. Home
Assistant's side notes, per callid, when the integration's `yeastar_s_series_event`
fired and its call event entity's state changed, and the same for the floor.
"""

from collections import defaultdict
from dataclasses import dataclass, field
import gc
import os
from pathlib import Path
import time
from typing import Any, Self

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from custom_components.yeastar_s_series.const import EVENT_YEASTAR

from .home import (
    BASELINE_WEBHOOK_ID,
    FLOOR_ENTITY_ID,
    FLOOR_EVENT,
    FLOOR_WEBHOOK_ID,
    Entry,
    call_entity_id,
    webhook_url,
)
from .loadgen import Job, JobResult, LoadGenerator, callid
from .stats import Percentiles, median

CONCURRENCY = 4
RESEND_EVERY = 100  # one report in a hundred is re-sent, as a PBX that missed the 200

INTEGRATION = "integration"
BASELINE = "baseline"
FLOOR = "floor"
SIDES = (INTEGRATION, BASELINE, FLOOR)


def rss_mb() -> float:
    """Return this process's resident memory in MB (/proc/self/statm)."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(slots=True)
class GcPauses:
    """Garbage collections that ran during one side's batches, and how long they took."""

    by_generation: list[int] = field(default_factory=lambda: [0, 0, 0])
    total_ms: float = 0.0
    longest_ms: float = 0.0


class GcWatch:
    """Time the cyclic garbage collector's runs, per side, while a batch runs.

    Before each batch the benchmark collects fully (outside the timed window), so that
    neither side pays for garbage the other side or the benchmark left behind; the
    collections that still happen during a batch are the side's own, and noted here.
    """

    def __init__(self) -> None:
        """Watch nothing until ``side`` is set."""
        self.sides: dict[str, GcPauses] = {}
        self.side: str | None = None
        self._started = 0.0

    def __enter__(self) -> Self:
        """Install the gc callback."""
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Remove the gc callback."""
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self.side is None:
            return
        pauses = self.sides.setdefault(self.side, GcPauses())
        elapsed = (time.perf_counter() - self._started) * 1000
        pauses.by_generation[min(2, info["generation"])] += 1
        pauses.total_ms += elapsed
        pauses.longest_ms = max(pauses.longest_ms, elapsed)


@dataclass(slots=True)
class Tracker:
    """When each report (by callid) reached the bus and an entity's state.

    The integration's tracker and the floor's listen the same way (one bus listener,
    one state-change listener for one entity), so they cost their sides the same.
    """

    event_type: str
    entity_id: str
    events: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    states: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unsubscribe: list[Any] = field(default_factory=list)

    def attach(self, hass: HomeAssistant) -> None:
        """Listen to the bus event and the entity's state changes."""

        @callback
        def _on_event(event: Event[dict[str, Any]]) -> None:
            self.events[str(event.data["callid"])].append(time.monotonic())

        @callback
        def _on_state(event: Event[EventStateChangedData]) -> None:
            if (state := event.data["new_state"]) is not None:
                self.states[str(state.attributes.get("callid"))].append(
                    time.monotonic()
                )

        self.unsubscribe.append(hass.bus.async_listen(self.event_type, _on_event))
        self.unsubscribe.append(
            async_track_state_change_event(hass, [self.entity_id], _on_state)
        )

    def detach(self) -> None:
        """Stop listening."""
        for unsubscribe in self.unsubscribe:
            unsubscribe()
        self.unsubscribe.clear()


@dataclass(slots=True)
class Delivery:
    """Exactly-once check of the integration's reports."""

    reports: int = 0  # unique reports posted
    resends: int = 0  # extra copies posted (must be dropped)
    events_missing: int = 0
    events_repeated: int = 0
    events_unexpected: int = 0
    states_missing: int = 0
    states_repeated: int = 0
    non_200: int = 0
    duplicates_dropped: int = 0  # the receiver's own counter

    @property
    def exactly_once(self) -> bool:
        """Every report fired one bus event and one state change, copies none."""
        return (
            self.events_missing
            == self.events_repeated
            == self.events_unexpected
            == self.states_missing
            == self.states_repeated
            == self.non_200
            == 0
            and self.duplicates_dropped == self.resends
        )


@dataclass(slots=True)
class LatencySet:
    """Latencies of one load pattern: integration and floor (3 end points), baseline."""

    integration_event: Percentiles
    integration_state: Percentiles
    integration_response: Percentiles
    baseline_response: Percentiles
    floor_event: Percentiles
    floor_state: Percentiles
    floor_response: Percentiles

    @property
    def added_p99_ms(self) -> float:
        """The integration's p99 over the floor's, each at its later end point (200 or state)."""
        integration = max(self.integration_state.p99, self.integration_response.p99)
        return integration - max(self.floor_state.p99, self.floor_response.p99)

    @property
    def added_p50_ms(self) -> float:
        """The same at the median: the steadier view of what a report costs."""
        integration = max(self.integration_state.p50, self.integration_response.p50)
        return integration - max(self.floor_state.p50, self.floor_response.p50)


@dataclass(slots=True)
class Batch:
    """One batch of reports to one side, and Home Assistant's CPU time meanwhile."""

    job: Job
    result: JobResult
    cpu: float  # process CPU seconds of Home Assistant's process

    @property
    def rate(self) -> float:
        """Reports per second (re-sent copies not counted)."""
        return self.job.count / self.result.elapsed

    @property
    def cpu_us(self) -> float:
        """Home Assistant's CPU microseconds per report, its re-sent copies included."""
        return self.cpu / self.job.count * 1e6


@dataclass(slots=True)
class ReportResults:
    """Throughput and latency of the integration's webhook, the baseline's, the floor's."""

    reports: int
    rounds: int
    concurrency: int
    integration_rates: list[float]
    baseline_rates: list[float]
    floor_rates: list[float]
    integration_cpu_us: list[float]  # HA's CPU per report, per round
    baseline_cpu_us: list[float]
    floor_cpu_us: list[float]
    saturated: LatencySet
    paced_rate: float
    paced_reports: int
    paced: LatencySet
    delivery: Delivery
    gc_integration: GcPauses
    gc_baseline: GcPauses
    gc_floor: GcPauses

    @property
    def integration_rate(self) -> float:
        """Median reports per second over the rounds."""
        return median(self.integration_rates)

    @property
    def baseline_rate(self) -> float:
        """Median reports per second over the rounds."""
        return median(self.baseline_rates)

    @property
    def cpu_ratio(self) -> float:
        """Median of the rounds' baseline ÷ integration CPU per report (1 = as cheap)."""
        return _median_ratio(self.baseline_cpu_us, self.integration_cpu_us)

    @property
    def rate_ratio(self) -> float:
        """Median of the rounds' integration ÷ baseline reports per second."""
        return _median_ratio(self.integration_rates, self.baseline_rates)

    @property
    def floor_rate(self) -> float:
        """Median reports per second over the rounds."""
        return median(self.floor_rates)

    @property
    def floor_rate_ratio(self) -> float:
        """Median of the rounds' integration ÷ floor reports per second."""
        return _median_ratio(self.integration_rates, self.floor_rates)

    @property
    def floor_cpu_ratio(self) -> float:
        """Median of the rounds' floor ÷ integration CPU per report (1 = as cheap)."""
        return _median_ratio(self.floor_cpu_us, self.integration_cpu_us)


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios: each round's batches run back to back."""
    return median([n / d for n, d in zip(numerators, denominators, strict=True)])


@dataclass(slots=True)
class MemoryResults:
    """Resident memory over many reports, after a warm-up."""

    reports: int
    warmup: int
    rss_before_mb: float
    rss_after_mb: float
    samples: list[tuple[int, float]]  # (reports so far, RSS in MB)
    delivery: Delivery

    @property
    def growth_mb(self) -> float:
        """RSS after minus RSS before."""
        return self.rss_after_mb - self.rss_before_mb

    @property
    def second_half_growth_mb(self) -> float:
        """Growth over the second half of the reports: ~0 when memory is bounded."""
        middle = self.samples[(len(self.samples) - 1) // 2][1]
        return self.rss_after_mb - middle


class ReportBench:
    """Runs the report phases against one loaded entry, the baseline and the floor."""

    def __init__(
        self, hass: HomeAssistant, port: int, entry: Entry, loadgen: LoadGenerator
    ) -> None:
        """Bind to a running Home Assistant with the entry loaded."""
        self.hass = hass
        self.entry = entry
        self.loadgen = loadgen
        self.integration_url = webhook_url(port, entry.webhook_id)
        self.baseline_url = webhook_url(port, BASELINE_WEBHOOK_ID)
        self.floor_url = webhook_url(port, FLOOR_WEBHOOK_ID)
        self.urls = {
            INTEGRATION: self.integration_url,
            BASELINE: self.baseline_url,
            FLOOR: self.floor_url,
        }
        self.entity_id = call_entity_id(hass, entry.entry)
        self.tracker = Tracker(EVENT_YEASTAR, self.entity_id)
        self.floor_tracker = Tracker(FLOOR_EVENT, FLOOR_ENTITY_ID)
        self.delivery = Delivery()
        self._sent: list[tuple[str, int]] = []  # (tag, count) posted to the integration
        self._resends = 0
        self._batch = 0
        self.gc_watch = GcWatch()

    def _job(self, side: str, count: int, **kwargs: Any) -> Job:
        self._batch += 1
        return Job(
            url=self.urls[side],
            serial=self.entry.pbx.serial,
            tag=f"{side[0]}{self._batch}",
            count=count,
            concurrency=CONCURRENCY,
            resend_every=RESEND_EVERY,
            **kwargs,
        )

    async def _post(self, side: str, job: Job) -> Batch:
        gc.collect()
        self.gc_watch.side = side
        cpu = time.process_time()
        result = await self.loadgen.run(job)
        await self.hass.async_block_till_done()
        cpu = time.process_time() - cpu
        self.gc_watch.side = None
        if side == INTEGRATION:
            self._sent.append((job.tag, job.count))
            self._resends += result.resends
            self.delivery.non_200 += sum(
                n for status, n in result.statuses.items() if status != "200"
            )
        return Batch(job, result, cpu)

    @staticmethod
    def _tracked(
        batches: list[Batch], tracker: Tracker
    ) -> tuple[Percentiles, Percentiles, Percentiles]:
        """POST → bus event, POST → state change and POST → 200 of a side's batches."""
        event: list[float] = []
        state: list[float] = []
        response: list[float] = []
        for batch in batches:
            for seq, sent, answered in batch.result.timings:
                key = callid(batch.job.tag, seq)
                response.append(answered - sent)
                if times := tracker.events.get(key):
                    event.append(times[0] - sent)
                if times := tracker.states.get(key):
                    state.append(times[0] - sent)
        return Percentiles.of(event), Percentiles.of(state), Percentiles.of(response)

    def _latencies(self, batches: dict[str, list[Batch]]) -> LatencySet:
        event, state, response = self._tracked(batches[INTEGRATION], self.tracker)
        floor_event, floor_state, floor_response = self._tracked(
            batches[FLOOR], self.floor_tracker
        )
        base = [
            answered - sent
            for batch in batches[BASELINE]
            for _, sent, answered in batch.result.timings
        ]
        return LatencySet(
            integration_event=event,
            integration_state=state,
            integration_response=response,
            baseline_response=Percentiles.of(base),
            floor_event=floor_event,
            floor_state=floor_state,
            floor_response=floor_response,
        )

    async def _alternate(
        self, count: int, rounds: int, **kwargs: Any
    ) -> dict[str, list[Batch]]:
        """Run ``rounds`` rounds of one batch per side; round i starts with side i % 3.

        Rotating the first side puts each side first, middle and last equally often
        (over a multiple of 3 rounds), so no side always runs right after the same one.
        """
        batches: dict[str, list[Batch]] = {side: [] for side in SIDES}
        per_round = max(1, count // rounds)
        for index in range(rounds):
            first = index % len(SIDES)
            for side in SIDES[first:] + SIDES[:first]:
                job = self._job(side, per_round, **kwargs)
                batches[side].append(await self._post(side, job))
        return batches

    async def run(
        self, reports: int, rounds: int, paced_rate: float, paced_reports: int
    ) -> ReportResults:
        """Warm up, then the saturated rounds, then the paced rounds; check delivery."""
        receiver = self.entry.entry.runtime_data.receiver
        duplicates_before = receiver.stats.duplicates
        self.tracker.attach(self.hass)
        self.floor_tracker.attach(self.hass)
        try:
            with self.gc_watch:
                warmup = max(50, reports // 20)
                for side in SIDES:
                    await self._post(side, self._job(side, warmup, timings=False))
                self.gc_watch.sides.clear()
                saturated = await self._alternate(reports, rounds)
                paced = await self._alternate(paced_reports, rounds, rate=paced_rate)
        finally:
            self.tracker.detach()
            self.floor_tracker.detach()
        self.delivery.duplicates_dropped = receiver.stats.duplicates - duplicates_before
        self._check_delivery()
        gc_sides = self.gc_watch.sides
        return ReportResults(
            reports=sum(b.job.count for b in saturated[INTEGRATION]),
            rounds=rounds,
            concurrency=CONCURRENCY,
            integration_rates=[b.rate for b in saturated[INTEGRATION]],
            baseline_rates=[b.rate for b in saturated[BASELINE]],
            floor_rates=[b.rate for b in saturated[FLOOR]],
            integration_cpu_us=[b.cpu_us for b in saturated[INTEGRATION]],
            baseline_cpu_us=[b.cpu_us for b in saturated[BASELINE]],
            floor_cpu_us=[b.cpu_us for b in saturated[FLOOR]],
            saturated=self._latencies(saturated),
            paced_rate=paced_rate,
            paced_reports=sum(b.job.count for b in paced[INTEGRATION]),
            paced=self._latencies(paced),
            delivery=self.delivery,
            gc_integration=gc_sides.get(INTEGRATION, GcPauses()),
            gc_baseline=gc_sides.get(BASELINE, GcPauses()),
            gc_floor=gc_sides.get(FLOOR, GcPauses()),
        )

    def _check_delivery(self) -> None:
        """Count bus events and state changes per report posted to the integration."""
        delivery = self.delivery
        delivery.resends = self._resends
        expected: set[str] = set()
        for tag, count in self._sent:
            expected.update(callid(tag, seq) for seq in range(count))
        delivery.reports = len(expected)
        for key in expected:
            events = len(self.tracker.events.get(key, ()))
            states = len(self.tracker.states.get(key, ()))
            delivery.events_missing += events == 0
            delivery.events_repeated += events > 1
            delivery.states_missing += states == 0
            delivery.states_repeated += states > 1
        delivery.events_unexpected = len(set(self.tracker.events) - expected)

    async def memory(self, reports: int, samples: int = 10) -> MemoryResults:
        """RSS growth over ``reports`` reports after a warm-up, counted without a dict."""
        receiver = self.entry.entry.runtime_data.receiver
        warmup = max(100, min(5000, reports // 20))
        await self._post(INTEGRATION, self._job(INTEGRATION, warmup, timings=False))
        delivery = Delivery()
        batch = max(1, reports // samples)
        total = batch * samples
        seen_events = bytearray(total)
        seen_states = bytearray(total)
        tag = "mem"
        prefix = f"{tag}."

        @callback
        def _on_event(event: Event[dict[str, Any]]) -> None:
            key = str(event.data["callid"])
            if key.startswith(prefix):
                index = int(key[len(prefix) :])
                seen_events[index] = min(255, seen_events[index] + 1)
            else:
                delivery.events_unexpected += 1

        @callback
        def _on_state(event: Event[EventStateChangedData]) -> None:
            if (state := event.data["new_state"]) is not None:
                key = str(state.attributes.get("callid"))
                if key.startswith(prefix):
                    index = int(key[len(prefix) :])
                    seen_states[index] = min(255, seen_states[index] + 1)

        unsubscribe = [
            self.hass.bus.async_listen(EVENT_YEASTAR, _on_event),
            async_track_state_change_event(self.hass, [self.entity_id], _on_state),
        ]
        duplicates_before = receiver.stats.duplicates
        gc.collect()
        before = rss_mb()
        points: list[tuple[int, float]] = []
        try:
            for index in range(samples):
                # One batch per sample; seq numbers continue across batches.
                job = Job(
                    url=self.integration_url,
                    serial=self.entry.pbx.serial,
                    tag=tag,
                    count=batch,
                    concurrency=CONCURRENCY,
                    resend_every=RESEND_EVERY,
                    timings=False,
                    first=index * batch,
                )
                result = await self.loadgen.run(job)
                await self.hass.async_block_till_done()
                delivery.resends += result.resends
                delivery.non_200 += sum(
                    n for status, n in result.statuses.items() if status != "200"
                )
                gc.collect()
                points.append(((index + 1) * batch, rss_mb()))
        finally:
            for unsub in unsubscribe:
                unsub()
        delivery.reports = total
        delivery.duplicates_dropped = receiver.stats.duplicates - duplicates_before
        delivery.events_missing = seen_events.count(0)
        delivery.states_missing = seen_states.count(0)
        delivery.events_repeated = total - seen_events.count(0) - seen_events.count(1)
        delivery.states_repeated = total - seen_states.count(0) - seen_states.count(1)
        return MemoryResults(
            reports=total,
            warmup=warmup,
            rss_before_mb=before,
            rss_after_mb=points[-1][1],
            samples=points,
            delivery=delivery,
        )
