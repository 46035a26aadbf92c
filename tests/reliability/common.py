"""Helpers of the fault suite: probes, time travel, report posting and shared checks."""

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
import logging
import sys
import threading
import time
import traceback
from typing import Any, Final

import aiohttp
from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.api import YeastarClient, hash_password
from custom_components.yeastar_s_series.const import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DOMAIN,
    EVENT_YEASTAR,
    LOGGER,
)
from simulator import BootUp, Scenario, SimulatedPBX, render

HEARTBEAT: Final = timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL)
# Worst tolerated delay of a callback on Home Assistant's event loop. A blocking call
# (sync I/O, a busy loop) shows as hundreds of milliseconds; a loaded 2-core CI machine
# adds tens of milliseconds of scheduling noise.
MAX_LOOP_LATENESS: Final = 0.25

CONNECTION: Final = "sensor.yeastar_s100_connection"
CALLS: Final = "event.yeastar_s100_calls"
JAYSON: Final = "sensor.jayson_1000_status"
FRONT_DESK: Final = "sensor.front_desk_1001_status"
# The registered extensions (1003 is "Unavailable" on the PBX, which reads like an
# unavailable entity).
EXTENSIONS: Final = (JAYSON, FRONT_DESK, "sensor.kitchen_1002_status")
UNAVAILABLE: Final = "unavailable"


def _real_monotonic() -> float:
    """Read the monotonic clock freezegun leaves alone (`freezer` stops time.monotonic)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class LoopLagProbe:
    """Measure how late Home Assistant's event loop runs a callback due every 10 ms.

    With `freezer` the loop's own clock stands still, so `asyncio.sleep` never wakes:
    the beat comes from a thread on the real monotonic clock, which posts a callback
    to the loop every `period` seconds. The callback's delay is the time the loop
    took to get to it: a blocked loop shows as one large delay. When a beat waits
    longer than `STALL`, the thread records what the loop thread is doing, so a
    failure names the blocking code.
    """

    STALL: Final = 0.1

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = 0.01) -> None:
        """Watch `loop`, which runs in the calling thread; nothing runs until `start`."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name="loop-lag-probe", daemon=True
        )
        self._posted: dict[int, float] = {}
        self._arrived = 0
        self.worst = 0.0
        self.beats = 0
        self.stalls: list[tuple[float, str]] = []

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and wait for the thread."""
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        """Post one callback per period until stopped; note what a stalled loop does."""
        sequence = 0
        noted = 0
        while not self._stop.wait(self._period):
            now = _real_monotonic()
            waiting = self._arrived + 1
            if waiting <= sequence and waiting > noted:
                if now - self._posted[waiting] > self.STALL:
                    noted = waiting
                    self._note_stall(now - self._posted[waiting])
            sequence += 1
            self._posted[sequence] = now
            try:
                self._loop.call_soon_threadsafe(self._arrive, sequence)
            except RuntimeError:  # the loop is closed
                return

    def _note_stall(self, waited: float) -> None:
        """Record the loop thread's stack while it keeps a beat waiting.

        Only the frames of the callback the loop runs: those below its `_run`.
        """
        frame = sys._current_frames().get(self._loop_thread)
        frames = traceback.extract_stack(frame) if frame else traceback.StackSummary()
        starts = [
            index + 1
            for index, summary in enumerate(frames)
            if summary.name == "_run" and summary.filename.endswith("events.py")
        ]
        callback = frames[starts[-1] if starts else 0 :]
        self.stalls.append((waited, "".join(traceback.format_list(callback))))

    def reset(self) -> None:
        """Forget what was measured so far (after a set-up done inside the test)."""
        self.worst = 0.0
        self.stalls.clear()

    def _arrive(self, sequence: int) -> None:
        """Record how long the beat waited (runs on the loop)."""
        self.beats += 1
        self._arrived = sequence
        self.worst = max(self.worst, _real_monotonic() - self._posted.pop(sequence))

    def assert_responsive(self) -> None:
        """Fail unless the loop ran every callback within MAX_LOOP_LATENESS."""
        assert self.beats > 0, "the probe never ran"
        stalls = "\n".join(
            f"--- loop busy for {waited * 1000:.0f} ms so far in:\n{stack}"
            for waited, stack in self.stalls
        )
        assert self.worst < MAX_LOOP_LATENESS, (
            f"the event loop was blocked for {self.worst * 1000:.0f} ms\n{stalls}"
        )


class InstrumentedPBX(SimulatedPBX):
    """The simulated PBX, counting API requests as they arrive and while in progress.

    `stats.requests` counts a request only once it is answered; a request the
    client gives up on while the PBX is slow is counted here only.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Configure the PBX as SimulatedPBX does."""
        super().__init__(**kwargs)
        self.arrivals: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Count the request while the PBX works on it (cancelled ones included)."""
        self.arrivals[request.match_info["endpoint"]] += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await super()._handle_api(request)
        finally:
            self.in_flight -= 1


@dataclass(slots=True)
class RequestLog:
    """The API requests the integration's clients made, as the clients saw them."""

    calls: Counter[str] = field(default_factory=Counter)
    clients: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0

    @property
    def total(self) -> int:
        """Requests of any kind so far."""
        return self.calls.total()

    def watch(self, client: YeastarClient, monkeypatch: pytest.MonkeyPatch) -> None:
        """Count every request `client` makes from now on."""
        self.clients += 1
        request = client._request

        async def _counted(
            endpoint: str, body: Mapping[str, Any], *, with_token: bool = True
        ) -> dict[str, Any]:
            self.calls[endpoint] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await request(endpoint, body, with_token=with_token)
            finally:
                self.in_flight -= 1

        monkeypatch.setattr(client, "_request", _counted)


# Time


async def settle(hass: HomeAssistant) -> None:
    """Wait for Home Assistant, background tasks included: the heartbeat runs as one."""
    await hass.async_block_till_done(wait_background_tasks=True)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the frozen clock by `delta`, fire what is due, and wait for it."""
    freezer.tick(delta)
    async_fire_time_changed(hass, dt_util.utcnow())
    await settle(hass)


async def heartbeats(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    count: int,
    interval: timedelta = HEARTBEAT,
) -> None:
    """Let `count` heartbeat intervals pass, one at a time."""
    for _ in range(count):
        await advance(hass, freezer, interval)


# What the user sees


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; the entity must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    """Return one attribute of an entity's state."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.attributes.get(name)


def extension_states(hass: HomeAssistant) -> set[str]:
    """States of the registered extensions' status sensors."""
    return {state(hass, entity_id) for entity_id in EXTENSIONS}


def entity_id_of(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """Find an entity by unique id (for a second PBX, whose ids get other names)."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """Reauth flows in progress for `entry`."""
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


def log_records(caplog: pytest.LogCaptureFixture, text: str, level: int) -> int:
    """Count the integration's log records at `level` that contain `text`."""
    return sum(
        1
        for record in caplog.records
        if record.name.startswith(LOGGER.name)
        and record.levelno == level
        and text in record.getMessage()
    )


def problems_logged(caplog: pytest.LogCaptureFixture) -> int:
    """Count the integration's log records at warning level or above."""
    return sum(
        1
        for record in caplog.records
        if record.name.startswith(LOGGER.name) and record.levelno >= logging.WARNING
    )


# The PBX


def assert_no_lockout(pbx: SimulatedPBX, failed_by_test: int = 0) -> None:
    """Check that no lockout and no more failed logins than the test caused happened."""
    assert not pbx.is_locked()
    assert pbx.locked_ips == []
    assert pbx.stats.failed_logins <= failed_by_test


async def lock_out(pbx: SimulatedPBX) -> None:
    """Someone else at 127.0.0.1 tries five wrong passwords: the PBX locks the address."""
    url = f"{pbx.base_url}/api/v2.0.0/login"
    body = {"username": "api", "password": hash_password("guess"), "port": "8260"}
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            async with session.post(url, json=body) as response:
                assert (await response.json())["errno"] == "20003"
    assert pbx.is_locked()


def report_body(name: str, serial: str) -> bytes:
    """Render a v2.0.0 report without fields of its own (BootUp, ConfigChange)."""
    if name == "BootUp":
        (body,) = render(BootUp(), "2.0.0", serial)
        return body
    return f'{{"event":"{name}","sn":"{serial}"}}'.encode()


async def post_report(ha_port: int, webhook_id: str, body: bytes) -> int:
    """POST a report to a webhook from 127.0.0.1, as the PBX would; return the status."""
    url = f"http://127.0.0.1:{ha_port}/api/webhook/{webhook_id}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "WebAPI"},
        ) as response,
    ):
        return response.status


async def play(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    scenario: Scenario = Scenario.MISSED_CALL,
    **params: str,
) -> list[Event[dict[str, Any]]]:
    """Play a scenario at the PBX and return the `yeastar_s_series_event`s it caused."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    await pbx.play(scenario, **params)
    await pbx.wait_delivered()
    await settle(hass)
    return events


async def assert_events_resume(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    entry: MockConfigEntry,
    *,
    extension: str = "1000",
    calls: str = CALLS,
) -> None:
    """Play a missed call at the PBX and check it arrives in full: bus, call entity."""
    deliveries = len(pbx.deliveries)
    events = await play(hass, pbx, Scenario.MISSED_CALL, extension=extension)

    assert [event.data["event"] for event in events] == [
        "ExtensionStatus",
        "CallStatus",
        "CallStatus",
        "ExtensionStatus",
        "NewCdr",
    ]
    assert {event.data["config_entry_id"] for event in events} == {entry.entry_id}
    assert {delivery.status for delivery in pbx.deliveries[deliveries:]} == {200}
    assert attribute(hass, calls, "event_type") == "call_record"
    assert attribute(hass, calls, "callto") == extension
