"""Buttons: clear an extension's missed calls."""

from typing import override

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import signal_missed_cleared
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import YeastarExtensionEntity, async_add_extension_entities

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
