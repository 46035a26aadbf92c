"""Entities and devices a user sees after setup, as snapshots, plus the PBX device."""

from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    DOMAIN,
)
from simulator import SimulatedPBX
from tests.common import SERIAL, setup_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.EVENT])
async def test_entities(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
    platform: Platform,
) -> None:
    """Names, unique ids, device classes, categories and states of every entity."""
    freezer.move_to("2026-11-28 12:00:00+00:00")
    # A fixed report port (Home Assistant's test server takes a random one): no
    # report is needed here, and the Connection sensor shows the address.
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={CONF_CALLBACK_HOST: "127.0.0.1", CONF_CALLBACK_PORT: 8123},
    )
    with patch("custom_components.yeastar_s_series.PLATFORMS", [platform]):
        await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


async def test_devices(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The PBX is a device with its model, serial and versions; extensions hang off it."""
    await setup_entry(hass, config_entry)

    pbx_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), config_entry.entry_id
    )
    assert pbx_device is not None
    assert pbx_device.manufacturer == "Yeastar"
    assert pbx_device.model == "Yeastar S100"
    assert pbx_device.serial_number == SERIAL
    assert pbx_device.sw_version == pbx.firmware
    assert pbx_device.hw_version == pbx.hardware
    assert pbx_device.configuration_url == pbx.base_url

    extensions = [
        device
        for device in dr.async_entries_for_config_entry(
            device_registry, config_entry.entry_id
        )
        if device.id != pbx_device.id
    ]
    assert sorted(device.name or "" for device in extensions) == [
        "Front Desk (1001)",
        "Garage (1003)",
        "Jayson (1000)",
        "Kitchen (1002)",
    ]
    assert all(device.via_device_id == pbx_device.id for device in extensions)
    reports_received = entity_registry.async_get("sensor.yeastar_s100_reports_received")
    assert reports_received is not None
    assert reports_received.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_remove_devices(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: object,
) -> None:
    """A user may delete the device of a deleted extension, not of a live one or the PBX."""
    await setup_entry(hass, config_entry)
    client = await hass_ws_client(hass)  # type: ignore[operator]

    async def remove(identifier: str) -> bool:
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, identifier), config_entry.entry_id
        )
        assert device is not None
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": config_entry.entry_id,
                "device_id": device.id,
            }
        )
        return bool((await client.receive_json())["success"])

    assert not await remove(SERIAL)
    assert not await remove(f"{SERIAL}_1001")
    # The PBX dropped 1001 but the periodic list refresh has not run yet.
    config_entry.runtime_data.coordinator.data.extensions.pop("1001")
    assert await remove(f"{SERIAL}_1001")


async def test_the_old_session_expiry_sensor_goes_away(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Earlier versions had a Session expiry sensor with a new state every heartbeat."""
    config_entry.add_to_hass(hass)
    old = entity_registry.async_get_or_create(
        Platform.SENSOR, DOMAIN, f"{SERIAL}_token_expiry", config_entry=config_entry
    )

    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert entity_registry.async_get(old.entity_id) is None
    assert hass.states.get(old.entity_id) is None
