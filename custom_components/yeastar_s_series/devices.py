"""Device registry identities: the PBX, and its extensions and trunks as devices under it."""

from homeassistant.helpers import device_registry as dr

from .const import DOMAIN


def pbx_device_identifier(serial: str) -> tuple[str, str]:
    """Device registry identifier of the PBX itself."""
    return (DOMAIN, serial)


def extension_device_identifier(serial: str, number: str) -> tuple[str, str]:
    """Device registry identifier of one extension of one PBX."""
    return (DOMAIN, f"{serial}_{number}")


def trunk_device_identifier(serial: str, name: str) -> tuple[str, str]:
    """Device registry identifier of one trunk of one PBX."""
    return (DOMAIN, f"{serial}_trunk_{name}")


def extension_number(device: dr.AnyDeviceEntry, serial: str) -> str | None:
    """Return the extension number of a device of this PBX, None for any other."""
    return _identified(device, f"{serial}_", exclude=f"{serial}_trunk_")


def trunk_name(device: dr.AnyDeviceEntry, serial: str) -> str | None:
    """Return the trunk name of a device of this PBX, None for any other."""
    return _identified(device, f"{serial}_trunk_")


def _identified(
    device: dr.AnyDeviceEntry, prefix: str, exclude: str = ""
) -> str | None:
    """Return what follows `prefix` in the device's identifier of this domain."""
    for domain, identifier in device.identifiers:
        if (
            domain == DOMAIN
            and identifier.startswith(prefix)
            and not (exclude and identifier.startswith(exclude))
        ):
            return identifier.removeprefix(prefix)
    return None
