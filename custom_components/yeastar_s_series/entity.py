"""Base entities: one device for the PBX, one per extension under it."""

from collections.abc import Callable, Iterable
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import MANUFACTURER
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .devices import extension_device_identifier, pbx_device_identifier


class YeastarEntity(CoordinatorEntity[YeastarCoordinator]):
    """An entity of the PBX device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: YeastarCoordinator, key: str) -> None:
        """Attach to the PBX device; `key` makes the unique id."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.serial}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={pbx_device_identifier(coordinator.serial)}
        )


class YeastarExtensionEntity(CoordinatorEntity[YeastarCoordinator]):
    """An entity of one extension's device."""

    _attr_has_entity_name = True
    # Entities that ask nothing of the PBX (call events, counts kept here) stay
    # available while the heartbeat fails: reports still arrive.
    _available_without_session = False

    def __init__(self, coordinator: YeastarCoordinator, number: str, key: str) -> None:
        """Attach to the extension's device, which hangs off the PBX device."""
        super().__init__(coordinator)
        self.number = number
        extension = coordinator.data.extensions[number]
        self._attr_unique_id = f"{coordinator.serial}_{number}_{key}"
        device_info = DeviceInfo(
            identifiers={extension_device_identifier(coordinator.serial, number)},
            translation_key="named_extension" if extension.name else "extension",
            translation_placeholders={"number": number, "name": extension.name or ""},
            manufacturer=MANUFACTURER,
            model=f"{extension.type} extension" if extension.type else "Extension",
        )
        if coordinator.device_id is not None:
            device_info["via_device_id"] = coordinator.device_id
        self._attr_device_info = device_info

    @property
    @override
    def available(self) -> bool:
        """Available while the PBX lists the extension (and, for most, the session works)."""
        return self.number in self.coordinator.data.extensions and (
            self._available_without_session or super().available
        )


@callback
def async_add_extension_entities(
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[YeastarCoordinator, str], Iterable[Entity]],
) -> None:
    """Add an extension's entities now, and those of every extension that appears later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def _async_add_new() -> None:
        new = sorted(set(coordinator.data.extensions) - known)
        known.update(new)
        async_add_entities(
            entity for number in new for entity in build(coordinator, number)
        )

    _async_add_new()
    entry.async_on_unload(coordinator.async_add_listener(_async_add_new))
