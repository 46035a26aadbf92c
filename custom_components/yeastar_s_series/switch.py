"""Switches for an extension's everyday settings: do not disturb, call forwarding.

They show what the PBX says (`extension/query`), not what was last asked: a
write shows at once, and the PBX's echo or the next read confirms or corrects
it. A write the PBX refuses leaves the switch as the PBX has it.
"""

from abc import abstractmethod
from dataclasses import replace
from typing import Any, override

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import YeastarError
from .api.settings import (
    ExtensionSettings,
    ForwardDestination,
    Forwarding,
    ForwardMode,
    dnd_update,
    forwarding_update,
)
from .const import ConnectionState
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import YeastarExtensionEntity, async_add_extension_entities
from .errors import invalid, refusal, unavailable
from .permissions import async_require_admin

# Writes wait for one another in the settings writer; the entities add nothing.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of each extension whose settings the PBX tells."""
    async_add_extension_entities(entry, async_add_entities, _switches)


def _switches(
    coordinator: YeastarCoordinator, number: str
) -> list[YeastarSettingSwitch]:
    """Build an extension's switches: none when the PBX keeps its settings to itself."""
    if (settings := coordinator.data.settings.get(number)) is None:
        return []
    return [
        YeastarDndSwitch(coordinator, number),
        *(
            YeastarForwardingSwitch(coordinator, number, mode)
            for mode in ForwardMode
            if mode in settings.forwarding
        ),
    ]


class YeastarSettingSwitch(YeastarExtensionEntity, SwitchEntity):
    """A switch for one of an extension's settings."""

    _attr_entity_category = EntityCategory.CONFIG

    @property
    def settings(self) -> ExtensionSettings | None:
        """The extension's settings, as last read or written."""
        return self.coordinator.data.settings.get(self.number)

    @property
    @override
    def available(self) -> bool:
        """Available while the PBX tells the extension's settings."""
        return super().available and self.settings is not None

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the setting on at the PBX."""
        await self._async_switch(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the setting off at the PBX."""
        await self._async_switch(False)

    async def _async_switch(self, on: bool) -> None:
        """Write the change; the PBX's refusal becomes an error that says why."""
        coordinator = self.coordinator
        entry = coordinator.config_entry
        settings = self.settings
        if settings is None or coordinator.connection_state is not (
            ConnectionState.CONNECTED
        ):
            raise unavailable(entry)
        expected, body = self._change(settings, on)
        if on and self._costs_money(expected):
            await async_require_admin(self.hass, self._context)
        try:
            await coordinator.async_change_settings(self.number, expected, body)
        except YeastarError as err:
            raise refusal(err, entry, coordinator.client.api_version) from err

    def _costs_money(self, settings: ExtensionSettings) -> bool:
        """Whether the changed setting sends calls out through a trunk."""
        return False

    @abstractmethod
    def _change(
        self, settings: ExtensionSettings, on: bool
    ) -> tuple[ExtensionSettings, dict[str, str]]:
        """Return the settings once changed, and the `extension/update` body."""


class YeastarDndSwitch(YeastarSettingSwitch):
    """Do not disturb: the PBX sends the extension's calls on as if it were busy."""

    _attr_translation_key = "do_not_disturb"

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the switch of one extension."""
        super().__init__(coordinator, number, "dnd")

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether do not disturb is on (None: the PBX does not say)."""
        return None if (settings := self.settings) is None else settings.dnd

    @override
    def _change(
        self, settings: ExtensionSettings, on: bool
    ) -> tuple[ExtensionSettings, dict[str, str]]:
        """Switch do not disturb."""
        return (
            replace(settings, dnd=on),
            dnd_update(self.coordinator.client.api_version, self.number, on),
        )


class YeastarForwardingSwitch(YeastarSettingSwitch):
    """One mode of call forwarding, to the destination the PBX has for it.

    It switches on only when the PBX has a destination: the *Set call
    forwarding* action sets one.
    """

    _unrecorded_attributes = frozenset({"destination", "number"})

    def __init__(
        self, coordinator: YeastarCoordinator, number: str, mode: ForwardMode
    ) -> None:
        """Describe the switch of one extension and mode."""
        super().__init__(coordinator, number, f"{mode.value}_forwarding")
        self.mode = mode
        self._attr_translation_key = f"{mode.value}_forwarding"

    @property
    def forwarding(self) -> Forwarding | None:
        """The mode's forwarding, as last read or written."""
        settings = self.settings
        return None if settings is None else settings.forwarding.get(self.mode)

    @property
    @override
    def available(self) -> bool:
        """Available while the PBX tells this mode."""
        return super().available and self.forwarding is not None

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether calls are forwarded in this mode."""
        return None if (forwarding := self.forwarding) is None else forwarding.enabled

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where calls go: voicemail, an extension, a mobile or a number."""
        forwarding = self.forwarding
        if forwarding is None or forwarding.destination is None:
            return {"destination": None, "number": None}
        return {
            "destination": forwarding.destination.value,
            "number": forwarding.number,
        }

    @override
    def _costs_money(self, settings: ExtensionSettings) -> bool:
        """Say whether calls go to a mobile or another outside number (admins only)."""
        return settings.forwarding[self.mode].destination in (
            ForwardDestination.MOBILE,
            ForwardDestination.NUMBER,
        )

    @override
    def _change(
        self, settings: ExtensionSettings, on: bool
    ) -> tuple[ExtensionSettings, dict[str, str]]:
        """Switch the mode, keeping its destination; on needs a destination."""
        forwarding = settings.forwarding[self.mode]
        if on and not forwarding.has_destination:
            raise invalid("no_forwarding_destination", number=self.number)
        return (
            replace(
                settings,
                forwarding={
                    **settings.forwarding,
                    self.mode: replace(forwarding, enabled=on),
                },
            ),
            forwarding_update(
                self.coordinator.client.api_version, self.number, self.mode, enabled=on
            ),
        )
