"""Base entities: one device for the PBX, one per extension and per trunk under it."""

from collections.abc import Callable, Iterable
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import ChildDeviceInfo, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api.trunks import Trunk
from .const import MANUFACTURER
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .devices import (
    extension_device_identifier,
    pbx_device_identifier,
    trunk_device_identifier,
)
from .inventory import PbxData


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


class YeastarTrunkEntity(CoordinatorEntity[YeastarCoordinator]):
    """An entity of one trunk's device, a child of the PBX device."""

    _attr_has_entity_name = True
    _attr_device_info: ChildDeviceInfo

    def __init__(self, coordinator: YeastarCoordinator, name: str, key: str) -> None:
        """Attach to the trunk's device (named after the trunk and its type)."""
        super().__init__(coordinator)
        self.trunk_name = name
        trunk = coordinator.data.trunks[name]
        self._attr_unique_id = f"{coordinator.serial}_trunk_{name}_{key}"
        assert coordinator.device_id is not None  # the PBX device comes first
        self._attr_device_info = ChildDeviceInfo(
            identifiers={trunk_device_identifier(coordinator.serial, name)},
            parent_device_id=coordinator.device_id,
            translation_key="typed_trunk" if trunk.type else "trunk",
            translation_placeholders={"name": name, "type": trunk.type or ""},
        )

    @property
    def trunk(self) -> Trunk | None:
        """The trunk as last read (None once the PBX dropped it)."""
        return self.coordinator.data.trunks.get(self.trunk_name)

    @property
    @override
    def available(self) -> bool:
        """Available while the PBX lists the trunk and the session works."""
        return self.trunk is not None and super().available


@callback
def async_add_extension_entities(
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[YeastarCoordinator, str], Iterable[Entity]],
) -> None:
    """Add an extension's entities now, and those of every extension that appears later."""
    _async_add_per_item(
        entry, async_add_entities, build, lambda data: data.extensions.keys()
    )


@callback
def async_add_trunk_entities(
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[YeastarCoordinator, str], Iterable[Entity]],
) -> None:
    """Add a trunk's entities now, and those of every trunk that appears later."""
    _async_add_per_item(
        entry, async_add_entities, build, lambda data: data.trunks.keys()
    )


@callback
def _async_add_per_item(
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[YeastarCoordinator, str], Iterable[Entity]],
    keys: Callable[[PbxData], Iterable[str]],
) -> None:
    """Add the entities of each item of the inventory when it first shows up.

    An item the PBX drops loses its device (and entities) with the next read; if
    it comes back, it gets them again. An item that has none yet (the PBX did not
    tell an extension's settings) is tried again at each update, so a read the PBX
    refused once does not cost its entities until a restart.
    """
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def _async_add_new() -> None:
        current = set(keys(coordinator.data))
        known.intersection_update(current)
        entities: list[Entity] = []
        for key in sorted(current - known):
            if built := list(build(coordinator, key)):
                known.add(key)
                entities.extend(built)
        async_add_entities(entities)

    _async_add_new()
    entry.async_on_unload(coordinator.async_add_listener(_async_add_new))
