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

    assert pbx.stats.requests.total() > 100  # the hour kept the session busy
    assert await logbook_entries(hass, since) == []

    await pbx.play(Scenario.MISSED_CALL, extension="1001")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    assert await logbook_entries(hass, since) != []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Front Desk (1001) is now Ringing",
                "Call from 13800000000 to Front Desk (1001): ringing",
                "Call from 13800000000 to Front Desk (1001): answered",
                "Front Desk (1001) is now Busy",
                "Call from 13800000000 to Front Desk (1001): hung up",
                "Front Desk (1001) is now Registered",
                "Call record: 13800000000 to Front Desk (1001), ANSWERED, 30 s talking",
            ],
        ),
        (
            "zh-Hans",
            [
                "Front Desk (1001) 现在为振铃",
                "13800000000 呼叫 Front Desk (1001)：振铃",
                "13800000000 呼叫 Front Desk (1001)：已接听",
                "Front Desk (1001) 现在为忙碌",
                "13800000000 呼叫 Front Desk (1001)：已挂断",
                "Front Desk (1001) 现在为已注册",
                "通话记录：13800000000 至 Front Desk (1001)，ANSWERED，通话 30 秒",
            ],
        ),
    ],
)
async def test_a_call_reads_in_words(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    logbook: None,
    config_entry: MockConfigEntry,
    language: str,
    expected: list[str],
) -> None:
    """Each report of a call is one logbook line that says who called whom, in words."""
    hass.config.language = language
    await setup_entry(hass, config_entry)
    since = dt_util.utcnow()

    await pbx.play(Scenario.INBOUND_ANSWERED, extension="1001")
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    entries = await logbook_entries(hass, since)
    described = [
        entry for entry in entries if entry.get("domain") == "yeastar_s_series"
    ]
    assert [entry["message"] for entry in described] == expected
    assert {entry["name"] for entry in described} == {config_entry.title}


async def test_calls_between_extensions_and_a_reboot_read_in_words(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    logbook: None,
    config_entry: MockConfigEntry,
) -> None:
    """An internal call, a failed outside call and a reboot: who, whom, why, in words."""
    await setup_entry(hass, config_entry)
    since = dt_util.utcnow()
    for scenario in (Scenario.INTERNAL_CALL, Scenario.FAILED_CALL, Scenario.REBOOT):
        await pbx.play(scenario)
        await pbx.wait_delivered()
        await hass.async_block_till_done()

    entries = await logbook_entries(hass, since)
    described = [
        entry["message"]
        for entry in entries
        if entry.get("domain") == "yeastar_s_series"
        and "is now" not in entry["message"]
    ]
    assert described == [
        "Call from Jayson (1000) to Front Desk (1001): ringing",
        "Call from Jayson (1000) to Front Desk (1001): answered",
        "Call from Jayson (1000) to Front Desk (1001): hung up",
        "Call record: Jayson (1000) to Front Desk (1001), ANSWERED, 10 s talking",
        "Call from Kitchen (1002) to 41000 failed: 486 Busy here",
        "Call record: Kitchen (1002) to 41000, BUSY, 0 s talking",
        "The PBX has started",
    ]


async def test_reports_of_an_unloaded_pbx_still_read(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    logbook: None,
    config_entry: MockConfigEntry,
) -> None:
    """Once the PBX is unloaded, its past entries still read, under a generic name."""
    await setup_entry(hass, config_entry)
    since = dt_util.utcnow()
    await pbx.play(Scenario.EXTENSION_STATUS, extension="1003", status="Unavailable")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(config_entry.entry_id)

    [entry] = [
        entry
        for entry in await logbook_entries(hass, since)
        if entry.get("domain") == "yeastar_s_series"
    ]
    assert (entry["name"], entry["message"]) == (
        "Yeastar PBX",
        "1003 is now No phone registered",
    )
