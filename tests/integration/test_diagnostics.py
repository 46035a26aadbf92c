"""Diagnostics: everything needed to debug missing reports, and no secret."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.yeastar_s_series.api import hash_password
from custom_components.yeastar_s_series.const import DOMAIN
from simulator import Scenario, SimulatedPBX
from tests.common import PASSWORD, SERIAL, WEBHOOK_ID, setup_entry


async def test_diagnostics(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    hass_client: Any,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    ha_port: int,
) -> None:
    """Entry and device diagnostics hold the session, PBX and report counters."""
    await setup_entry(hass, config_entry)
    await pbx.play(Scenario.MISSED_CALL, extension="1002")
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    entry_diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, config_entry
    )
    assert entry_diagnostics == snapshot(
        name="entry",
        exclude=props(
            "token_expires", "last_received", "port", "callback_port", "report_address"
        ),
    )
    assert entry_diagnostics["session"]["report_address"] == f"127.0.0.1:{ha_port}"
    assert entry_diagnostics["session"]["token_expires"]
    assert entry_diagnostics["reports"]["last_received"]
    text = str(entry_diagnostics)
    token = pbx.sessions[0].token
    for secret in (PASSWORD, hash_password(PASSWORD), WEBHOOK_ID, token):
        assert secret not in text

    extension = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{SERIAL}_1002"), config_entry.entry_id
    )
    assert extension is not None
    assert await get_diagnostics_for_device(
        hass, hass_client, config_entry, extension
    ) == snapshot(name="extension")
    pbx_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), config_entry.entry_id
    )
    assert pbx_device is not None
    assert (
        await get_diagnostics_for_device(hass, hass_client, config_entry, pbx_device)
        == entry_diagnostics
    )
