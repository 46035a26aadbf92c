"""The Yeastar S-Series integration: calls and extensions of a Yeastar PBX in Home Assistant."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SSL,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_ID,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import ApiVersion, YeastarClient
from .const import CONF_API_VERSION, CONF_FINGERPRINT, DOMAIN, MANUFACTURER
from .coordinator import YeastarCoordinator, extension_number
from .reports import ReportReceiver

PLATFORMS = [Platform.EVENT, Platform.SENSOR]

HTTPS_ISSUE_ID = "https_webhook"


@dataclass(slots=True)
class YeastarRuntimeData:
    """What a loaded entry holds: the session and the report receiver."""

    coordinator: YeastarCoordinator
    receiver: ReportReceiver


type YeastarConfigEntry = ConfigEntry[YeastarRuntimeData]


def async_create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> YeastarClient:
    """Build the API client for an entry's data on Home Assistant's shared session."""
    return YeastarClient(
        async_get_clientsession(hass),
        data[CONF_HOST],
        port=data[CONF_PORT],
        https=data[CONF_SSL],
        verify_tls=data[CONF_VERIFY_SSL],
        api_version=ApiVersion(data[CONF_API_VERSION]),
        fingerprint=data.get(CONF_FINGERPRINT),
    )


async def async_setup_entry(hass: HomeAssistant, entry: YeastarConfigEntry) -> bool:
    """Open the session, listen for reports, and add the entities."""
    coordinator = YeastarCoordinator(hass, entry, async_create_client(hass, entry.data))
    receiver = ReportReceiver(hass, coordinator)
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    # Registered before the first login so that no report of the new session is lost.
    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        receiver.async_handle,
        local_only=True,
        allowed_methods=["POST"],
    )
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        webhook.async_unregister(hass, webhook_id)
        await (
            coordinator.async_logout()
        )  # in case the login worked and a later step failed
        raise
    entry.runtime_data = YeastarRuntimeData(coordinator=coordinator, receiver=receiver)

    device = coordinator.data.device
    pbx = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, coordinator.serial)},
        manufacturer=MANUFACTURER,
        name=device.model,
        model=device.model,
        serial_number=device.serial,
        sw_version=device.firmware_version,
        hw_version=device.hardware_version,
        configuration_url=coordinator.client.base_url,
    )
    coordinator.device_id = pbx.id

    async def _async_unregister_and_logout(_: Event | None = None) -> None:
        webhook.async_unregister(hass, webhook_id)
        await coordinator.async_logout()

    # Not listen_once: unloading after the stop event would remove a spent listener.
    entry.async_on_unload(
        hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_unregister_and_logout)
    )
    _async_check_https(hass)
    # Before the entities: the first one to listen starts the heartbeat schedule.
    coordinator.async_offset_heartbeats()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: YeastarConfigEntry) -> bool:
    """Remove the entities, stop listening for reports, and release the token."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        webhook.async_unregister(hass, entry.data[CONF_WEBHOOK_ID])
        await entry.runtime_data.coordinator.async_logout()
    return unloaded


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: YeastarConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete the device of an extension the PBX no longer has."""
    number = extension_number(device, entry.runtime_data.coordinator.serial)
    return (
        number is not None
        and number not in entry.runtime_data.coordinator.data.extensions
    )


def _async_check_https(hass: HomeAssistant) -> None:
    """Raise a repair issue when HA serves only HTTPS: the PBX posts reports in plain HTTP."""
    if hass.config.api is not None and hass.config.api.use_ssl:
        ir.async_create_issue(
            hass,
            DOMAIN,
            HTTPS_ISSUE_ID,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=HTTPS_ISSUE_ID,
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, HTTPS_ISSUE_ID)
