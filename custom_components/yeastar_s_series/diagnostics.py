"""Diagnostics: what a user or maintainer needs when calls stop showing up; no secrets."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .api.settings import ExtensionSettings
from .const import CONF_PASSWORD_HASH
from .coordinator import YeastarConfigEntry
from .devices import extension_number, trunk_name

# The webhook id is as good as a password: whoever knows it can post reports.
TO_REDACT = {
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PASSWORD_HASH,
    CONF_USERNAME,
    CONF_WEBHOOK_ID,
    "token",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: YeastarConfigEntry
) -> dict[str, Any]:
    """Return the session, the PBX and the report counters."""
    coordinator = entry.runtime_data.coordinator
    stats = entry.runtime_data.receiver.stats
    data = coordinator.data
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "session": {
            "connection_state": coordinator.connection_state.value,
            "logged_in": coordinator.client.logged_in,
            "api_version": coordinator.client.api_version.value,
            "token_expires": coordinator.token_expires,
            "last_update_success": coordinator.last_update_success,
            "heartbeat_interval_s": coordinator.heartbeat_interval.total_seconds(),
            "report_method": coordinator.client.report_method.value,
            "event_link": None
            if (link := coordinator.link_state) is None
            else link.value,
            # Where the PBX is told to post reports; the path holds the webhook id.
            "report_address": (
                None
                if (target := coordinator.report_target) is None
                else f"{target.ipaddr}:{target.port}"
            ),
        },
        "pbx": asdict(data.device),
        "extensions": {number: asdict(ext) for number, ext in data.extensions.items()},
        # Only what the integration keeps of `extension/query`: no passwords, no PINs.
        "settings": {
            number: _settings(settings) for number, settings in data.settings.items()
        },
        "trunks": {name: asdict(trunk) for name, trunk in data.trunks.items()},
        "reports": {
            "accepted": stats.accepted,
            "duplicates": stats.duplicates,
            "invalid": stats.invalid,
            "refused": stats.refused,
            "last_received": stats.last_received,
            "last_problem": stats.last_problem,
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: YeastarConfigEntry, device: dr.AnyDeviceEntry
) -> dict[str, Any]:
    """Return the PBX's diagnostics, or one extension's, or one trunk's."""
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    if (name := trunk_name(device, coordinator.serial)) is not None:
        trunk = data.trunks.get(name)
        return {"trunk": name, "state": None if trunk is None else asdict(trunk)}
    number = extension_number(device, coordinator.serial)
    if number is None:
        return await async_get_config_entry_diagnostics(hass, entry)
    extension = data.extensions.get(number)
    settings = data.settings.get(number)
    return {
        "number": number,
        "extension": asdict(extension) if extension is not None else None,
        "settings": None if settings is None else _settings(settings),
    }


def _settings(settings: ExtensionSettings) -> dict[str, Any]:
    """Return an extension's settings with plain keys."""
    return {
        "dnd": settings.dnd,
        "forwarding": {
            mode.value: asdict(forwarding)
            for mode, forwarding in settings.forwarding.items()
        },
    }
