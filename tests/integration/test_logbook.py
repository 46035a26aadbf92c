"""The logbook a user reads: calls, not the session's bookkeeping."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.yeastar_s_series.const import DEFAULT_HEARTBEAT_INTERVAL
from simulator import Scenario, SimulatedPBX
from tests.common import setup_entry


async def logbook_entries(hass: HomeAssistant, since: datetime) -> list[dict[str, Any]]:
    """Return the logbook's entries since a time, as its websocket API reads them."""
    await async_wait_recording_done(hass)
    processor = EventProcessor(hass, async_determine_event_types(hass, None, None))
    entries: list[dict[str, Any]] = await get_instance(hass).async_add_executor_job(
        processor.get_events, since, dt_util.utcnow() + timedelta(seconds=1)
    )
    return entries


@pytest.fixture
async def logbook(hass: HomeAssistant, recorder_mock: Any) -> None:
    """Set up the logbook (with the recorder), before the test's HTTP server starts."""
    assert await async_setup_component(hass, "logbook", {})


async def test_an_idle_hour_adds_nothing_to_the_logbook(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    logbook: None,
    config_entry: MockConfigEntry,
) -> None:
    """An hour of heartbeats writes no entry; the call after it does."""
    await setup_entry(hass, config_entry)
    await async_wait_recording_done(hass)
    since = dt_util.utcnow()

    for _ in range(3600 // DEFAULT_HEARTBEAT_INTERVAL):
        freezer.tick(timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)

    assert pbx.stats.heartbeats > 100
    assert await logbook_entries(hass, since) == []

    await pbx.play(Scenario.MISSED_CALL, extension="1001")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    assert await logbook_entries(hass, since) != []
