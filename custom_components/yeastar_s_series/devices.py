"""Device registry identities: the PBX, and each extension as a device under it."""

from homeassistant.helpers import device_registry as dr

from .const import DOMAIN


def pbx_device_identifier(serial: str) -> tuple[str, str]:
    """Device registry identifier of the PBX itself."""
    return (DOMAIN, serial)


def extension_device_identifier(serial: str, number: str) -> tuple[str, str]:
    """Device registry identifier of one extension of one PBX."""
    return (DOMAIN, f"{serial}_{number}")


def extension_number(device: dr.DeviceEntry, serial: str) -> str | None:
    """Return the extension number of a device of this PBX, None for the PBX itself."""
    prefix = f"{serial}_"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return identifier.removeprefix(prefix)
    return None
