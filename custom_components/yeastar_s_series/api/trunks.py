"""The PBX's trunks (lines to the outside) and their states.

No report tells when a trunk's state changes: the trunk list is read again.
The documents spell the states in several ways (`Registered`, `registered`,
`Registered (Unmonitored)`, `No SIM`, `Unregister`): they are compared without
case, spaces or what follows a parenthesis.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import re

from .models import text


class TrunkStatus(StrEnum):
    """What a trunk's state is, over every trunk type the documents list."""

    # SIP, IAX
    REGISTERING = "registering"
    FAILURE = "failure"
    REGISTERED = "registered"
    DISABLED = "disabled"
    UNKNOWN = "unknown"
    # FXO, GSM/3G/4G (idle, busy), BRI/E1/T1/J1 (fault, alarm, down, up)
    FAULT = "fault"
    IDLE = "idle"
    BUSY = "busy"
    ALARM = "alarm"
    DOWN = "down"
    UP = "up"
    # GSM/3G/4G
    POWER_OFF = "power_off"
    NO_SIM = "no_sim"
    NO_SIGNAL = "no_signal"
    PIN_ERROR = "pin_error"
    UNREGISTERED = "unregistered"

    @classmethod
    def parse(cls, value: object) -> TrunkStatus | None:
        """Read the PBX's spelling; None for a state the documents do not list."""
        if not isinstance(value, str):
            return None
        key = re.sub(r"[\s_]+", "_", value.split("(")[0].strip().lower())
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            return None


_ALIASES = {
    "disable": "disabled",
    "unregister": "unregistered",
    "poweroff": "power_off",
}
# The states in which a trunk can carry a call (busy: it does carry one).
CAN_CARRY_CALLS = frozenset(
    {TrunkStatus.REGISTERED, TrunkStatus.IDLE, TrunkStatus.BUSY, TrunkStatus.UP}
)


@dataclass(frozen=True, slots=True)
class Trunk:
    """One trunk of the trunk list."""

    name: str
    type: str | None
    status: TrunkStatus | None
    reported_status: str | None  # as the PBX wrote it
    port: str | None
    id: str | None  # v2 only

    @property
    def can_carry_calls(self) -> bool:
        """Whether calls can go over the trunk now."""
        return self.status in CAN_CARRY_CALLS

    @classmethod
    def from_api(cls, item: object) -> Trunk | None:
        """Build from a trunk list item; None without a name."""
        if (
            not isinstance(item, Mapping)
            or (name := text(item.get("trunkname"))) is None
        ):
            return None
        return cls(
            name=name,
            type=text(item.get("type")),
            status=TrunkStatus.parse(item.get("status")),
            reported_status=text(item.get("status")),
            port=text(item.get("port")),
            id=text(item.get("id")),
        )
