"""The call records a PBX reported, kept across restarts: the latest MAX_RECORDS.

Each `NewCdr` report is one record; they are saved with Home Assistant's
`Store`, a few seconds after the last one (a busy hour writes once, not per
call), and when the entry unloads or Home Assistant stops. Times are the PBX's
local time, taken to be Home Assistant's.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import Report
from .api.cdr import CallRecord, CallStatus
from .api.names import NameLookup
from .const import DOMAIN, LOGGER

MAX_RECORDS: Final = 1000
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10  # seconds


def storage_key(entry_id: str) -> str:
    """Name the entry's file in `.storage`."""
    return f"{DOMAIN}.{entry_id}.call_history"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """Which records an action asks for; None matches everything."""

    extension: str | None = None
    direction: str | None = None
    status: CallStatus | None = None
    since: datetime | None = None
    limit: int = 50

    def matches(self, record: CallRecord) -> bool:
        """Say whether a record is one the query asks for."""
        if self.extension is not None and self.extension not in (
            record.caller,
            record.called,
            record.answered_by,
        ):
            return False
        if self.direction is not None and record.direction != self.direction:
            return False
        if self.status is not None and record.status is not self.status:
            return False
        return self.since is None or (
            record.start is not None and local(record.start) >= self.since
        )

    def select(self, records: Iterable[CallRecord]) -> list[CallRecord]:
        """Return the matching records, newest first, at most `limit`."""
        found = [record for record in records if self.matches(record)]
        found.sort(key=lambda record: record.start or datetime.min, reverse=True)
        return found[: self.limit]


def local(start: datetime) -> datetime:
    """Return a record's time (the PBX's wall clock) in Home Assistant's time zone."""
    return start.replace(tzinfo=dt_util.get_default_time_zone())


def describe(record: CallRecord, names: NameLookup) -> dict[str, Any]:
    """Return a record as an action answers it: plain names, the parties named."""
    return {
        "callid": record.callid,
        "start": None if record.start is None else local(record.start).isoformat(),
        "duration": record.duration,
        "talk_time": record.talk_time,
        "from": record.caller,
        "from_name": names(record.caller),
        "to": record.called,
        "to_name": names(record.called),
        "answered_by": record.answered_by,
        "answered_by_name": names(record.answered_by),
        "direction": record.direction,
        "status": None if record.status is None else record.status.value,
        "trunk": record.trunk,
        "recording": record.recording is not None,
    }


class CallHistory:
    """The latest call records of one PBX."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing loaded yet."""
        self._store: Store[list[dict[str, Any]]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id)
        )
        self._records: deque[CallRecord] = deque(maxlen=MAX_RECORDS)

    @property
    def records(self) -> list[CallRecord]:
        """The records kept, oldest first."""
        return list(self._records)

    async def async_load(self) -> None:
        """Read the records kept before the restart."""
        for data in await self._store.async_load() or []:
            try:
                self._records.append(CallRecord.from_dict(data))
            except TypeError, ValueError:
                LOGGER.debug("Skipping a stored call record that cannot be read")

    @callback
    def async_handle_report(self, report: Report, _data: dict[str, Any]) -> None:
        """Keep the record a `NewCdr` report brings."""
        if report.name != "NewCdr":
            return
        self._records.append(CallRecord.from_fields(report.fields))
        self._store.async_delay_save(self._stored, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Save what waits to be saved now (the entry unloads)."""
        await self._store.async_save(self._stored())

    def recording(self, name: str) -> CallRecord | None:
        """Return the kept record whose recording has this file name."""
        return next(
            (record for record in self._records if record.recording == name), None
        )

    def _stored(self) -> list[dict[str, Any]]:
        """Return what is saved."""
        return [record.as_dict() for record in self._records]
