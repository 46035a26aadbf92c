"""Set-up time, many PBXs in one Home Assistant, heartbeat spread and idle cost."""

import asyncio
import bisect
from collections import Counter
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import time
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import event as event_helper
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles

from custom_components.yeastar_s_series.const import CONF_HEARTBEAT_INTERVAL

from .home import BenchPBX, Entry, make_entry, make_pbx, time_it
from .stats import median

_MONOTONIC_RESOLUTION = time.get_clock_info("monotonic").resolution
# HA's coordinators fire up to 0.5 s after the whole second (update_coordinator).
_TIMER_SLACK = event_helper.RANDOM_MICROSECOND_MAX / 10**6


def requests_seen(pbx: BenchPBX) -> Counter[str]:
    """Return a copy of the PBX's request counters by endpoint."""
    return Counter(pbx.stats.requests)


@dataclass(slots=True)
class SetupResults:
    """Time to set up entries and what each PBX saw meanwhile."""

    single_cold_ms: float  # the first entry: imports the integration and its platforms
    single_warm_ms: list[float]
    single_requests: dict[str, int]
    fleet_pbxs: int
    fleet_total_s: float
    fleet_requests_min: int
    fleet_requests_max: int
    fleet_requests: dict[str, int]  # by endpoint, of the busiest PBX
    fleet_loaded: int

    @property
    def single_warm_median_ms(self) -> float:
        """Median set-up time of an entry once the integration is imported."""
        return median(self.single_warm_ms)


@dataclass(slots=True)
class IdleResults:
    """Idle cost per PBX over a simulated hour of Home Assistant's clock."""

    pbxs: int
    heartbeat_interval: int
    requests_per_pbx_hour_min: int
    requests_per_pbx_hour_max: int
    requests_by_endpoint: dict[str, int]  # of one PBX
    cpu_s_per_hour_total: float  # 20 PBXs, harness subtracted
    cpu_s_harness: float  # the same hour with no entries

    @property
    def cpu_s_per_pbx_hour(self) -> float:
        """CPU seconds per PBX per hour."""
        return self.cpu_s_per_hour_total / self.pbxs


@dataclass(slots=True)
class SpreadResults:
    """When the PBXs' heartbeats arrive, in real time, once their phases are settled."""

    pbxs: int
    interval_s: float
    intervals: int  # watched after the first interval (which moves the phases)
    heartbeats_per_pbx: list[int]  # in the watched intervals
    phases_s: list[float]  # when each heartbeat came in the first watched interval
    busiest_second: int  # most heartbeats within any 1 s

    @property
    def width_s(self) -> float:
        """From the first to the last PBX's heartbeat within an interval."""
        return self.phases_s[-1] - self.phases_s[0] if self.phases_s else 0.0

    @property
    def even_per_second(self) -> float:
        """Heartbeats per second if the PBXs were spread evenly over the interval."""
        return self.pbxs / self.interval_s

    @property
    def spread(self) -> bool:
        """No second busier than an even spread allows (rounded up, plus one)."""
        return self.busiest_second <= math.ceil(self.even_per_second) + 1


async def measure_single_setup(
    hass: HomeAssistant, ha_port: int, repeats: int, first_index: int
) -> SetupResults:
    """Set up one entry ``repeats`` times (removing it after each); time each."""
    times: list[float] = []
    requests: Counter[str] = Counter()
    for index in range(repeats):
        pbx = make_pbx(first_index + index)
        await pbx.start()
        try:
            entry = make_entry(pbx, ha_port)
            elapsed = time_it()
            await hass.config_entries.async_add(entry)
            await hass.async_block_till_done()
            times.append(elapsed() * 1000)
            if entry.state is not ConfigEntryState.LOADED:
                raise RuntimeError(f"entry did not load: {entry.state}")
            requests = requests_seen(pbx)
            await hass.config_entries.async_remove(entry.entry_id)
            await hass.async_block_till_done()
        finally:
            await pbx.stop()
    return SetupResults(
        single_cold_ms=times[0],
        single_warm_ms=times[1:],
        single_requests=dict(requests),
        fleet_pbxs=0,
        fleet_total_s=0.0,
        fleet_requests_min=0,
        fleet_requests_max=0,
        fleet_requests={},
        fleet_loaded=0,
    )


async def start_fleet(count: int, first_index: int) -> list[BenchPBX]:
    """Start ``count`` PBXs with distinct serials on loopback."""
    pbxs = [make_pbx(first_index + index) for index in range(count)]
    await asyncio.gather(*(pbx.start() for pbx in pbxs))
    return pbxs


async def set_up_fleet(
    hass: HomeAssistant,
    ha_port: int,
    pbxs: list[BenchPBX],
    results: SetupResults,
    heartbeat_interval: int | None = None,
) -> list[Entry]:
    """Add one entry per PBX at once (as Home Assistant does at start); time it."""
    before = [requests_seen(pbx) for pbx in pbxs]
    entries = [
        Entry(make_entry(pbx, ha_port, heartbeat_interval=heartbeat_interval), pbx)
        for pbx in pbxs
    ]
    elapsed = time_it()
    await asyncio.gather(*(hass.config_entries.async_add(e.entry) for e in entries))
    await hass.async_block_till_done()
    results.fleet_total_s = elapsed()
    seen = [
        requests_seen(pbx) - previous
        for pbx, previous in zip(pbxs, before, strict=True)
    ]
    totals = [seen_one.total() for seen_one in seen]
    results.fleet_pbxs = len(pbxs)
    results.fleet_requests_min = min(totals)
    results.fleet_requests_max = max(totals)
    results.fleet_requests = dict(seen[totals.index(max(totals))])
    results.fleet_loaded = sum(
        e.entry.state is ConfigEntryState.LOADED for e in entries
    )
    return entries


def _fire_due_timers(hass: HomeAssistant, due_by: float) -> None:
    """Run every loop timer due by loop time ``due_by`` now (async_fire_time_changed).

    Time trackers are told the shifted clock's time, plus the timers' slack.
    """
    utc = dt_util.utcnow() + timedelta(seconds=_TIMER_SLACK)
    timestamp = utc.timestamp()
    for handle in list(get_scheduled_timer_handles(hass.loop)):
        if not isinstance(handle, asyncio.TimerHandle) or handle.cancelled():
            continue
        if handle.when() <= due_by + _MONOTONIC_RESOLUTION:
            with (
                patch.object(event_helper, "time_tracker_utcnow", return_value=utc),
                patch.object(
                    event_helper, "time_tracker_timestamp", return_value=timestamp
                ),
            ):
                handle._run()  # noqa: SLF001
                handle.cancel()


@contextlib.contextmanager
def _shifted_clock(offset: list[float]) -> Iterator[None]:
    """Make dt_util.utcnow run ``offset[0]`` seconds ahead of the real clock."""
    real_utcnow = dt_util.utcnow

    def _utcnow() -> datetime:
        return real_utcnow() + timedelta(seconds=offset[0])

    with patch.object(dt_util, "utcnow", _utcnow):
        yield


async def simulated_hour(
    hass: HomeAssistant, pbxs: list[BenchPBX], interval: int
) -> tuple[float, list[Counter[str]]]:
    """Move HA's clock (and the PBXs') through one hour in heartbeat-interval steps.

    Return the process CPU seconds it took and the requests each PBX saw.
    """
    before = [requests_seen(pbx) for pbx in pbxs]
    offset = [0.0]
    steps = 3600 // interval
    start = hass.loop.time()
    cpu = time.process_time()
    with _shifted_clock(offset):
        for _ in range(steps):
            offset[0] += interval
            for pbx in pbxs:
                pbx.clock.advance(interval)
            # Timers rescheduled from the real loop clock are due by the simulated time.
            _fire_due_timers(hass, start + offset[0] + _TIMER_SLACK)
            await hass.async_block_till_done(wait_background_tasks=True)
    cpu = time.process_time() - cpu
    after = [requests_seen(pbx) for pbx in pbxs]
    return cpu, [a - b for a, b in zip(after, before, strict=True)]


async def measure_idle(
    hass: HomeAssistant, pbxs: list[BenchPBX], interval: int, harness_cpu: float
) -> IdleResults:
    """One simulated hour with every entry loaded at the given heartbeat interval."""
    cpu, seen = await simulated_hour(hass, pbxs, interval)
    totals = [counter.total() for counter in seen]
    return IdleResults(
        pbxs=len(pbxs),
        heartbeat_interval=interval,
        requests_per_pbx_hour_min=min(totals),
        requests_per_pbx_hour_max=max(totals),
        requests_by_endpoint=dict(seen[0]),
        cpu_s_per_hour_total=max(0.0, cpu - harness_cpu),
        cpu_s_harness=harness_cpu,
    )


async def set_heartbeat_interval(
    hass: HomeAssistant, entries: list[Entry], interval: int
) -> None:
    """Change the entries' heartbeat interval and reload them all at once."""
    for entry in entries:
        hass.config_entries.async_update_entry(
            entry.entry,
            options={**entry.entry.options, CONF_HEARTBEAT_INTERVAL: interval},
        )
    await asyncio.gather(
        *(hass.config_entries.async_reload(e.entry.entry_id) for e in entries)
    )
    await hass.async_block_till_done()


async def measure_spread(
    entries: list[Entry], interval: int, intervals: int
) -> SpreadResults:
    """Note when heartbeats arrive at the PBXs, in real time, for a few intervals.

    The first two intervals after set-up are skipped: each entry's first heartbeat
    comes up to an interval late, at its share of the interval.
    """
    await asyncio.sleep(2 * interval + _TIMER_SLACK)
    for entry in entries:
        entry.pbx.heartbeat_times.clear()
    window_start = time.monotonic()
    window_end = window_start + interval * intervals
    await asyncio.sleep(interval * intervals)
    seen = [
        [moment for moment in entry.pbx.heartbeat_times if moment < window_end]
        for entry in entries
    ]
    times = sorted(moment for pbx_times in seen for moment in pbx_times)
    busiest = max(
        (
            bisect.bisect_left(times, moment + 1.0) - index
            for index, moment in enumerate(times)
        ),
        default=0,
    )
    return SpreadResults(
        pbxs=len(entries),
        interval_s=interval,
        intervals=intervals,
        heartbeats_per_pbx=[len(pbx_times) for pbx_times in seen],
        phases_s=[
            moment - window_start
            for moment in times
            if moment < window_start + interval
        ],
        busiest_second=busiest,
    )
