"""Recovery: the PBX unreachable for a while, then back; how long until reports work again.

Real wall time, with the integration's own retry schedule (tests/reliability times
the same schedule on a frozen clock). Right after the PBX goes down the bench asks
for a heartbeat, as a report would, so that the outage is noticed at once instead of
up to one interval later; the outage is timed from then.
"""

import asyncio
from dataclasses import dataclass
import time

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from custom_components.yeastar_s_series.const import EVENT_YEASTAR, ConnectionState

from .home import Entry, connection_entity_id
from .loadgen import call_report

# How long the integration may take to notice the outage, or to recover, at most.
_WAIT_LIMIT = 120.0


@dataclass(slots=True)
class RecoveryResults:
    """Seconds from the PBX's return until the Connection sensor and a report say so."""

    outage_s: float  # from going down to coming back
    noticed_s: float  # from going down until the sensor said disconnected
    connected_s: float  # from the return until the sensor said connected
    report_s: float  # from the return until a report sent then reached the bus
    heartbeat_interval: int


async def _until_state(hass: HomeAssistant, entity_id: str, value: str) -> float:
    """Wait until the entity's state is ``value``; return when it became so (monotonic)."""
    if (state := hass.states.get(entity_id)) is not None and state.state == value:
        return time.monotonic()
    reached: asyncio.Future[float] = hass.loop.create_future()

    @callback
    def _on_state(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state == value and not reached.done():
            reached.set_result(time.monotonic())

    unsubscribe = async_track_state_change_event(hass, [entity_id], _on_state)
    try:
        async with asyncio.timeout(_WAIT_LIMIT):
            return await reached
    finally:
        unsubscribe()


async def _report_arrives(hass: HomeAssistant, entry: Entry, key: str) -> float:
    """Have the PBX send one report; return when its bus event fired (monotonic)."""
    fired: asyncio.Future[float] = hass.loop.create_future()

    @callback
    def _on_event(event: Event) -> None:
        if event.data.get("callid") == key and not fired.done():
            fired.set_result(time.monotonic())

    unsubscribe = hass.bus.async_listen(EVENT_YEASTAR, _on_event)
    try:
        await entry.pbx.send_report(call_report(key))
        async with asyncio.timeout(_WAIT_LIMIT):
            return await fired
    finally:
        unsubscribe()


async def measure_recovery(
    hass: HomeAssistant, entry: Entry, outage: float, heartbeat_interval: int
) -> RecoveryResults:
    """Take the PBX away for ``outage`` seconds, bring it back, time the recovery."""
    sensor = connection_entity_id(hass, entry.entry)
    coordinator = entry.entry.runtime_data.coordinator
    await _until_state(hass, sensor, ConnectionState.CONNECTED)
    await entry.pbx.go_down()
    down = time.monotonic()
    await coordinator.async_request_refresh()
    noticed = await _until_state(hass, sensor, ConnectionState.DISCONNECTED)
    await asyncio.sleep(max(0.0, down + outage - time.monotonic()))
    await entry.pbx.come_up()
    back = time.monotonic()
    connected = await _until_state(hass, sensor, ConnectionState.CONNECTED)
    arrived = await _report_arrives(hass, entry, "recovery.0")
    return RecoveryResults(
        outage_s=back - down,
        noticed_s=noticed - down,
        connected_s=connected - back,
        report_s=arrived - back,
        heartbeat_interval=heartbeat_interval,
    )
