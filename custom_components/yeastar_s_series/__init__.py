"""The Yeastar S-Series integration: calls and extensions of a Yeastar PBX in Home Assistant."""

from collections.abc import Mapping
from typing import Any

from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.helpers.typing import ConfigType

from .api import ApiVersion, YeastarClient
from .api.names import NameBook
from .call_history import STORAGE_VERSION, CallHistory, storage_key
from .const import (
    CONF_API_VERSION,
    CONF_FINGERPRINT,
    CONF_PASSWORD_HASH,
    DOMAIN,
    MANUFACTURER,
    signal_report,
)
from .coordinator import YeastarConfigEntry, YeastarCoordinator, YeastarRuntimeData
from .devices import extension_number, pbx_device_identifier, trunk_name
from .receiver import ReportReceiver
from .recording_view import RecordingView
from .repairs import async_check_https
from .services import async_setup_services
from .sms_results import SmsResults
from .webhook import async_register_webhook, async_unregister_webhook

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the recording view, for any of the PBXs set up."""
    async_setup_services(hass)
    hass.http.register_view(RecordingView(hass))
    return True


def async_create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> YeastarClient:
    """Build the API client for an entry's data on Home Assistant's shared session."""
    return YeastarClient(
        async_get_clientsession(hass),
        data[CONF_HOST],
        username=data[CONF_USERNAME],
        password_hash=data[CONF_PASSWORD_HASH],
        port=data[CONF_PORT],
        https=data[CONF_SSL],
        verify_tls=data[CONF_VERIFY_SSL],
        api_version=ApiVersion(data[CONF_API_VERSION]),
        fingerprint=data.get(CONF_FINGERPRINT),
    )


async def async_setup_entry(hass: HomeAssistant, entry: YeastarConfigEntry) -> bool:
    """Open the session, listen for reports, and add the entities."""
    assert entry.unique_id is not None
    client = async_create_client(hass, entry.data)
    names = NameBook()
    receiver = ReportReceiver(
        hass,
        entry.entry_id,
        entry.unique_id,
        client.api_version.report_format,
        names.name,
    )
    coordinator = YeastarCoordinator(hass, entry, client, receiver, names)
    history = CallHistory(hass, entry.entry_id)
    await history.async_load()
    entry.async_on_unload(history.async_flush)
    sms_results = SmsResults()
    entry.runtime_data = YeastarRuntimeData(
        coordinator=coordinator,
        receiver=receiver,
        history=history,
        sms_results=sms_results,
    )
    # Run last when the entry unloads, or when its setup fails after a login.
    entry.async_on_unload(coordinator.async_logout)
    entry.async_on_unload(coordinator.async_stop_event_link)
    # Before the first login, so that no report of the new session is lost.
    async_register_webhook(hass, entry)
    for handle_report in (
        coordinator.async_handle_report,
        history.async_handle_report,
        sms_results.async_handle_report,
    ):
        entry.async_on_unload(
            async_dispatcher_connect(hass, signal_report(entry.entry_id), handle_report)
        )
    await coordinator.async_config_entry_first_refresh()

    device = coordinator.data.device
    pbx = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={pbx_device_identifier(coordinator.serial)},
        manufacturer=MANUFACTURER,
        name=device.model,
        model=device.model,
        serial_number=device.serial,
        sw_version=device.firmware_version,
        hw_version=device.hardware_version,
        configuration_url=client.base_url,
    )
    coordinator.device_id = receiver.device_id = pbx.id

    async def _async_stop(_: Event) -> None:
        """Stop listening and release the token (entries are not unloaded at a stop)."""
        async_unregister_webhook(hass, entry)
        await coordinator.async_stop_event_link()
        await coordinator.async_logout()

    # Not listen_once: unloading after the stop event would remove a spent listener.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop))
    async_check_https(hass)
    # The logbook words its entries with these, without waiting.
    for language in {"en", hass.config.language}:
        await async_get_translations(hass, language, "common", {DOMAIN})
    # Before the entities: the first one to listen starts the heartbeat schedule.
    coordinator.async_offset_heartbeats()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: YeastarConfigEntry) -> bool:
    """Remove the entities; the webhook and the token go with the entry's unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: YeastarConfigEntry) -> None:
    """Delete the call history kept for the entry."""
    await Store[list[dict[str, Any]]](
        hass, STORAGE_VERSION, storage_key(entry.entry_id)
    ).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: YeastarConfigEntry, device: dr.AnyDeviceEntry
) -> bool:
    """Let the user delete the device of an extension or trunk the PBX no longer has."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    number = extension_number(device, coordinator.serial)
    trunk = trunk_name(device, coordinator.serial)
    return (number is not None and number not in data.extensions) or (
        trunk is not None and trunk not in data.trunks
    )
