"""Buttons: hang up an extension's call, clear its missed calls."""

from typing import override

from homeassistant.components.button import ButtonEntity
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, signal_missed_cleared
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import YeastarExtensionEntity, async_add_extension_entities
from .services import SERVICE_HANG_UP

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each extension's buttons."""
    async_add_extension_entities(
        entry,
        async_add_entities,
        lambda coordinator, number: (
            YeastarHangUpButton(coordinator, number),
            YeastarClearMissedCallsButton(coordinator, number),
        ),
    )


class YeastarClearMissedCallsButton(YeastarExtensionEntity, ButtonEntity):
    """Set the extension's Missed calls back to zero (the calls were dealt with)."""

    _attr_translation_key = "clear_missed_calls"
    _available_without_session = True

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the button of one extension."""
        super().__init__(coordinator, number, "clear_missed_calls")

    @override
    async def async_press(self) -> None:
        """Clear the count."""
        async_dispatcher_send(
            self.hass,
            signal_missed_cleared(self.coordinator.config_entry.entry_id, self.number),
        )


class YeastarHangUpButton(YeastarExtensionEntity, ButtonEntity):
    """End the extension's current call; without one, the press says so.

    Always there (while the session works) rather than available only during
    calls: that would write two states a call, and the logbook would show them.
    """

    _attr_translation_key = "hang_up"

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the button of one extension."""
        super().__init__(coordinator, number, "hang_up")

    @override
    async def async_press(self) -> None:
        """Hang up, as the hang_up action does (its errors included)."""
        assert self.device_entry is not None
        await self.hass.services.async_call(
            DOMAIN,
            SERVICE_HANG_UP,
            {ATTR_DEVICE_ID: self.device_entry.id},
            blocking=True,
            context=self._context,
        )
