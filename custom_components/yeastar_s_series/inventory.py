"""What the PBX has, read again now and then: device, extensions, settings, trunks.

The PBX reports extension states and configuration changes, but not a trunk
that fails, nor a do-not-disturb switched on a phone. So each part is read again
on its own schedule; a read takes the place of the heartbeat it falls on (any
request keeps the token alive), so a quiet PBX sees one request per heartbeat
interval, whatever is read. A configuration change, a restart of the PBX or the
first heartbeat read the parts concerned at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .api import DeviceInfo, Extension, YeastarClient, YeastarRequestError
from .api.names import NameBook
from .api.settings import ExtensionSettings
from .api.trunks import Trunk
from .const import LOGGER


class Part(StrEnum):
    """A part of what the PBX has, read with one request."""

    DEVICE = "device"
    EXTENSIONS = "extensions"
    SETTINGS = "settings"
    CONTACTS = "contacts"
    TRUNKS = "trunks"


# How often each part is read when nothing says it changed (trunks: an option).
INTERVALS: Final = {
    Part.DEVICE: timedelta(hours=1),
    Part.EXTENSIONS: timedelta(minutes=10),
    Part.SETTINGS: timedelta(minutes=10),
    Part.CONTACTS: timedelta(minutes=30),
}
# Two minutes: a failed trunk shows within them, and at the default heartbeat the
# read replaces one heartbeat in four (idle cost: two requests a minute).
DEFAULT_TRUNK_INTERVAL: Final = timedelta(minutes=2)
MIN_TRUNK_INTERVAL: Final = timedelta(seconds=30)
MAX_TRUNK_INTERVAL: Final = timedelta(hours=1)


@dataclass(slots=True)
class PbxData:
    """What the heartbeat keeps current."""

    device: DeviceInfo
    extensions: dict[str, Extension] = field(default_factory=dict)
    settings: dict[str, ExtensionSettings] = field(default_factory=dict)
    trunks: dict[str, Trunk] = field(default_factory=dict)


class Inventory:
    """Read the PBX's parts when they are due, one at a time."""

    def __init__(
        self, client: YeastarClient, names: NameBook, trunk_interval: timedelta
    ) -> None:
        """Read nothing yet: everything is due."""
        self._client = client
        self._names = names
        self._intervals = {**INTERVALS, Part.TRUNKS: trunk_interval}
        self._read_at: dict[Part, datetime] = {}
        self._forced: set[Part] = set(Part)

    @property
    def forced(self) -> bool:
        """Whether something must be read now (first heartbeat, a change the PBX reported)."""
        return bool(self._forced)

    def force(self, parts: Iterable[Part]) -> None:
        """Read these parts at the next heartbeat."""
        self._forced.update(parts)

    def next_due(self, now: datetime) -> Part | None:
        """Return the part whose read is the most overdue, None when none is due."""
        overdue = {
            part: now - read_at - self._intervals[part]
            for part, read_at in self._read_at.items()
            if now - read_at >= self._intervals[part]
        }
        return max(overdue, key=lambda part: overdue[part]) if overdue else None

    async def async_read_forced(self, data: PbxData | None, now: datetime) -> PbxData:
        """Read every part that must be read now (all of them the first time)."""
        parts = [part for part in Part if part in self._forced or data is None]
        self._forced.clear()
        if data is None:
            data = PbxData(device=await self._client.device_info())
            self._read_at[Part.DEVICE] = now
            parts.remove(Part.DEVICE)
        for part in parts:
            data = await self.async_read(part, data, now)
        return data

    async def async_read(self, part: Part, data: PbxData, now: datetime) -> PbxData:
        """Read one part (one request); a part the PBX refuses keeps what it had."""
        self._read_at[part] = now
        client = self._client
        try:
            match part:
                case Part.DEVICE:
                    return replace(data, device=await client.device_info())
                case Part.EXTENSIONS:
                    extensions = {ext.number: ext for ext in await client.extensions()}
                    self._names.set_extensions(
                        {ext.number: ext.name for ext in extensions.values()}
                    )
                    return replace(data, extensions=extensions)
                case Part.SETTINGS:
                    return replace(data, settings=await client.extension_settings())
                case Part.CONTACTS:
                    self._names.set_contacts(await client.contacts())
                    return data
                case Part.TRUNKS:
                    trunks = {trunk.name: trunk for trunk in await client.trunks()}
                    return replace(data, trunks=trunks)
        except YeastarRequestError as err:
            if part in (Part.DEVICE, Part.EXTENSIONS):
                raise  # without these, there is nothing to show
            # Settings, contacts, trunks are extras: a PBX that refuses keeps the last.
            LOGGER.debug("The PBX refused its %s: %s", part, err)
            return data
