"""Binary sensors: whether each trunk can carry calls now."""

from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import YeastarTrunkEntity, async_add_trunk_entities

# Entities only read what the coordinator holds.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each trunk's connectivity sensor now, and those of trunks added later."""
    async_add_trunk_entities(
        entry,
        async_add_entities,
        lambda coordinator, name: (YeastarTrunkConnectivitySensor(coordinator, name),),
    )


class YeastarTrunkConnectivitySensor(YeastarTrunkEntity, BinarySensorEntity):
    """On when the trunk can carry calls: registered, idle, busy or up."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY

    def __init__(self, coordinator: YeastarCoordinator, name: str) -> None:
        """Describe the sensor of one trunk."""
        super().__init__(coordinator, name, "connectivity")

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether calls can go over the trunk (None before the PBX tells its state)."""
        trunk = self.trunk
        if trunk is None or trunk.status is None:
            return None
        return trunk.can_carry_calls
