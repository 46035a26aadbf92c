"""Base entities: one device for the PBX, one per extension under it."""

from typing import override

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import MANUFACTURER
from .coordinator import YeastarCoordinator
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
        """Available while the PBX session works and the PBX still lists the extension."""
        return super().available and self.number in self.coordinator.data.extensions
