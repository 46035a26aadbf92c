"""The TCP report method end to end: Home Assistant connects out to the PBX's event port.

The PBX's answer to the event-port login is not documented; each of the three
readings (an AMI-style response, a JSON status, silence then events) is played.
"""

import asyncio
from collections.abc import AsyncGenerator
import json
import logging

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_TCP_PORT,
    DOMAIN,
    EVENT_YEASTAR,
)
from custom_components.yeastar_s_series.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator import LoginAnswer, Scenario, SimulatedPBX
from tests.common import ENTRY_ID, PASSWORD, SERIAL, entry_data, setup_entry

CONNECTION = "sensor.yeastar_s100_connection"


@pytest.fixture(params=list(LoginAnswer), ids=str)
async def tcp_pbx(request: pytest.FixtureRequest) -> AsyncGenerator[SimulatedPBX]:
    """Run a PBX whose Report Method is TCP, answering logins in each documented style."""
    async with SimulatedPBX(
        password=PASSWORD, serial=SERIAL, report_method="tcp", tcp_answer=request.param
    ) as simulated:
        yield simulated


def _entry(
    pbx: SimulatedPBX, ha_port: int, password: str = PASSWORD
) -> MockConfigEntry:
    """Return an entry as the config flow stores it for a TCP PBX (the password kept)."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Yeastar S100",
        unique_id=SERIAL,
        data={**entry_data(pbx), CONF_PASSWORD: password},
        options={
            CONF_CALLBACK_HOST: "127.0.0.1",
            CONF_CALLBACK_PORT: ha_port,
            CONF_TCP_PORT: pbx.tcp_port,
        },
    )


async def _linked(hass: HomeAssistant, pbx: SimulatedPBX, clients: int = 1) -> None:
    """Wait until the event link is up at the PBX."""
    async with asyncio.timeout(10):
        while pbx.event_clients < clients:
            await asyncio.sleep(0.02)
    await hass.async_block_till_done()


async def _deliver(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Let the PBX write its events and Home Assistant read them."""
    await pbx.wait_delivered()
    for _ in range(5):
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()


def _attributes(hass: HomeAssistant) -> dict[str, object]:
    """Return the Connection sensor's attributes."""
    state = hass.states.get(CONNECTION)
    assert state is not None
    return dict(state.attributes)


async def test_a_call_over_tcp_as_over_http(
    hass: HomeAssistant,
    tcp_pbx: SimulatedPBX,
    ha_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every report arrives once over the event link; the sensor names the method."""
    caplog.set_level(logging.DEBUG)
    entry = _entry(tcp_pbx, ha_port)
    await setup_entry(hass, entry)
    await _linked(hass, tcp_pbx)
    events = async_capture_events(hass, EVENT_YEASTAR)

    reports = await tcp_pbx.play(Scenario.INBOUND_ANSWERED)
    await _deliver(hass, tcp_pbx)

    assert [event.data["event"] for event in events] == [
        type(report).__name__ for report in reports
    ]
    assert hass.states.get("sensor.front_desk_1001_missed_calls").state == "0"  # type: ignore[union-attr]
    attributes = _attributes(hass)
    assert (attributes["report_method"], attributes["event_link"]) == (
        "tcp",
        "connected",
    )
    assert tcp_pbx.stats.failed_logins == 0
    # The plaintext password is a secret like the others.
    diagnostics = json.dumps(
        await async_get_config_entry_diagnostics(hass, entry), default=str
    )
    assert PASSWORD not in diagnostics
    assert PASSWORD not in caplog.text


async def test_link_back_after_a_reboot(
    hass: HomeAssistant, tcp_pbx: SimulatedPBX, ha_port: int
) -> None:
    """The PBX reboots: the link drops, comes back by itself, and events flow again."""
    await setup_entry(hass, _entry(tcp_pbx, ha_port))
    await _linked(hass, tcp_pbx)
    logins = tcp_pbx.stats.successful_logins

    await tcp_pbx.reboot()
    await _linked(hass, tcp_pbx)
    events = async_capture_events(hass, EVENT_YEASTAR)
    await tcp_pbx.set_extension_status("1001", "Busy")
    await _deliver(hass, tcp_pbx)

    assert [event.data["event"] for event in events] == ["ExtensionStatus"]
    assert hass.states.get("sensor.front_desk_1001_status").state == "busy"  # type: ignore[union-attr]
    assert tcp_pbx.stats.failed_logins == 0
    assert tcp_pbx.stats.successful_logins > logins


async def test_refused_event_port_login_asks_the_user(
    hass: HomeAssistant, tcp_pbx: SimulatedPBX, ha_port: int
) -> None:
    """A wrong stored password: the event port refuses it, and no login follows on its own.

    A PBX that hangs up silently is believed only after three such logins in a row.
    """
    entry = _entry(tcp_pbx, ha_port, password="not the password")
    await setup_entry(hass, entry)
    async with asyncio.timeout(30):
        while not any(
            flow["context"]["source"] == SOURCE_REAUTH
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        ):
            await asyncio.sleep(0.05)
    failed = tcp_pbx.stats.failed_logins
    await asyncio.sleep(1)
    await hass.async_block_till_done()

    assert tcp_pbx.stats.failed_logins == failed
    expected = 3 if tcp_pbx.tcp_answer is LoginAnswer.SILENT else 1
    assert failed == expected
    assert _attributes(hass)["event_link"] == "refused"


async def test_pbx_switched_to_tcp_asks_for_the_password(
    hass: HomeAssistant, ha_port: int
) -> None:
    """An entry made for HTTP reports, the PBX now on TCP: one question, then events."""
    async with SimulatedPBX(
        password=PASSWORD, serial=SERIAL, report_method="tcp"
    ) as pbx:
        entry = _entry(pbx, ha_port)
        entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            entry, data={k: v for k, v in entry.data.items() if k != CONF_PASSWORD}
        )
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        [flow] = [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
        ]
        assert flow["step_id"] == "reauth_tcp"
        assert _attributes(hass)["event_link"] == "password_needed"

        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"username": "api", CONF_PASSWORD: PASSWORD}
        )
        await hass.async_block_till_done()

        assert result["reason"] == "reauth_successful"
        assert entry.data[CONF_PASSWORD] == PASSWORD
        await _linked(hass, pbx)
        events = async_capture_events(hass, EVENT_YEASTAR)
        await pbx.play(Scenario.MISSED_CALL, extension="1001")
        await _deliver(hass, pbx)
        assert [event.data["event"] for event in events][-1] == "NewCdr"


async def test_options_change_the_event_port(hass: HomeAssistant, ha_port: int) -> None:
    """A PBX reporting over TCP: its event port is an option, and the link follows it."""
    async with (
        SimulatedPBX(password=PASSWORD, serial=SERIAL, report_method="tcp") as pbx,
        SimulatedPBX(password=PASSWORD, serial=SERIAL, report_method="tcp") as moved,
    ):
        entry = _entry(pbx, ha_port)
        await setup_entry(hass, entry)
        await _linked(hass, pbx)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        schema = result["data_schema"]
        assert schema is not None
        assert CONF_TCP_PORT in schema.schema

        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"heartbeat_interval": 30, CONF_TCP_PORT: float(moved.tcp_port)},
        )
        await hass.async_block_till_done()

        assert entry.options[CONF_TCP_PORT] == moved.tcp_port
        await _linked(hass, moved)
