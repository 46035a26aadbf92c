"""Buttons: hang up an extension's call, clear its missed calls."""

from typing import override

from homeassistant.components.button import ButtonEntity
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import (
    async_dispatcher_connect,
    async_dispatcher_send,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, signal_call, signal_extension, signal_missed_cleared
from .coordinator import IN_CALL, YeastarConfigEntry, YeastarCoordinator
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
    """End the extension's current call; there only while it is in one."""

    _attr_translation_key = "hang_up"

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the button of one extension."""
        super().__init__(coordinator, number, "hang_up")
        self._shown_available: bool | None = None

    @property
    @override
    def available(self) -> bool:
        """Available while the extension is in a call (and the session works)."""
        coordinator = self.coordinator
        extension = coordinator.data.extensions.get(self.number)
        in_call = bool(coordinator.calls.calls_of(self.number)) or (
            extension is not None and extension.status in IN_CALL
        )
        return super().available and in_call

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the extension's calls and status."""
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id
        for signal in (
            signal_call(entry_id, self.number),
            signal_extension(entry_id, self.number),
        ):
            self.async_on_remove(
                async_dispatcher_connect(self.hass, signal, self._async_changed)
            )

    @callback
    def _async_changed(self, *_: object) -> None:
        """Show whether the button can be pressed, when that changed."""
        if self.available != self._shown_available:
            self._shown_available = self.available
            self.async_write_ha_state()

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
