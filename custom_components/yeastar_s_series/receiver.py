"""What becomes of a report body the PBX sent, however it arrived.

Each body is parsed, checked against this PBX (report format and serial),
de-duplicated (the PBX re-sends what it thinks was lost) and turned into one
`yeastar_s_series_event` on the bus plus a dispatcher signal for the entities and
the coordinator. What is refused is counted and logged, once per kind.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import blake2b
import logging
import time
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from .api import Report, ReportFormat, ReportParseError, parse_report
from .api.names import NameLookup
from .const import EVENT_YEASTAR, LOGGER, signal_report

# A copy of a report that comes back within this time is a re-send.
DUPLICATE_WINDOW = timedelta(minutes=2)
# How many report streams (calls, extensions) de-duplication remembers.
MAX_TRACKED_STREAMS = 2048


@dataclass(slots=True)
class ReportStats:
    """Counters a user looks at when reports stop arriving (sensors, diagnostics)."""

    accepted: int = 0
    duplicates: int = 0
    invalid: int = 0
    refused: int = 0
    last_received: datetime | None = None
    last_problem: str | None = None
    warned: set[str] = field(default_factory=set)


def extension_stream(number: str) -> str:
    """Name the report stream of one extension's status."""
    return f"ext:{number}"


def _stream_key(report: Report) -> str:
    """Group reports whose order matters: one call, one extension, else one report name."""
    if report.call_id is not None:
        return f"call:{report.call_id}"
    if isinstance(extension := report.fields.get("extension"), str):
        return extension_stream(extension)
    return f"name:{report.name}"


class Deduplicator:
    """Recognise re-sent reports: the same body again in the same stream, soon after.

    A stream is one call (callid) or one extension. Comparing only with the last
    report of the stream keeps legitimate repeats (Registered, Busy, Registered)
    while a re-send, identical to the last one, is dropped. Memory is bounded.
    """

    def __init__(self) -> None:
        """Start with no streams."""
        self._last: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def is_duplicate(self, report: Report, body: bytes) -> bool:
        """Remember this report and say whether it repeats the stream's last one."""
        stream = _stream_key(report)
        digest = blake2b(body, digest_size=16).digest()
        now = time.monotonic()
        previous = self._last.get(stream)
        self._last[stream] = (digest, now)
        self._last.move_to_end(stream)
        if len(self._last) > MAX_TRACKED_STREAMS:
            self._last.popitem(last=False)
        return (
            previous is not None
            and previous[0] == digest
            and now - previous[1] < DUPLICATE_WINDOW.total_seconds()
        )

    def forget(self, stream: str) -> None:
        """Forget a stream: its next report is news even if it repeats the last one."""
        self._last.pop(stream, None)


# Report fields that are secrets: the PIN code a caller dialled to be let out.
SECRETS: Final = frozenset({"pincode"})


def report_event_data(report: Report, names: NameLookup) -> dict[str, Any]:
    """Event data of a report: its own top-level fields plus normalized parties.

    Each party carries the name of its number (the extension's, or the company
    contact's for the outside number of a trunk leg), as the extension entities
    show it.
    """
    return {
        **{key: value for key, value in report.fields.items() if key not in SECRETS},
        "event": report.name,
        "callid": report.call_id,
        "sn": report.serial,
        "parties": [
            party.as_dict() | {"name": names(party.outside_number or party.number)}
            for party in report.parties
        ],
    }


class ReportReceiver:
    """Turn the report bodies of one PBX into events and signals."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        serial: str,
        report_format: ReportFormat,
        names: NameLookup,
    ) -> None:
        """Bind to one PBX: its serial, and the report format its login asks for."""
        self.hass = hass
        self.entry_id = entry_id
        self.serial = serial
        self.report_format = report_format
        self.names = names
        self.device_id: str | None = None  # of the PBX device, once registered
        self.stats = ReportStats()
        self._deduplicator = Deduplicator()

    @callback
    def async_receive(self, body: bytes) -> None:
        """Handle one report body from the PBX: parse, check, de-duplicate, fire."""
        try:
            report = parse_report(body)
        except ReportParseError as err:
            self.invalid("invalid", str(err))
            return
        if (problem := self._foreign(report)) is not None:
            self.refuse(*problem)
            return
        self.stats.last_received = dt_util.utcnow()
        if self._deduplicator.is_duplicate(report, body):
            self.stats.duplicates += 1
            return
        self.stats.accepted += 1
        data = report_event_data(report, self.names)
        self.hass.bus.async_fire(
            EVENT_YEASTAR,
            {**data, "config_entry_id": self.entry_id, "device_id": self.device_id},
        )
        # The event data goes along, so the call event entity need not build it again.
        async_dispatcher_send(self.hass, signal_report(self.entry_id), report, data)

    def _foreign(self, report: Report) -> tuple[str, str | None] | None:
        """Say why a report cannot be this PBX's, None when it can be.

        The PBX reports in the format the login asked for; with v1.1.0 and v2.0.0
        every report carries the PBX's serial. A report in another format, or one
        without the serial where it belongs, did not come from the PBX.
        """
        if report.format is not self.report_format:
            return "wrong_format", f"format {report.format}"
        if self.report_format is not ReportFormat.V1_0_0:
            if report.serial is None:
                return "missing_serial", None
            if report.serial != self.serial:
                return "foreign_serial", report.serial
        return None

    @callback
    def async_forget_extension(self, number: str) -> None:
        """Take the extension's next status report as news (its status changed unreported)."""
        self._deduplicator.forget(extension_stream(number))

    def refuse(self, reason: str, detail: str | None) -> None:
        """Count and log a request or report that is not this PBX's."""
        self.stats.refused += 1
        self._note_problem(reason, detail)

    def invalid(self, reason: str, detail: str | None) -> None:
        """Count and log a body from the PBX's address that is not a report."""
        self.stats.invalid += 1
        self._note_problem(reason, detail)

    def _note_problem(self, reason: str, detail: str | None) -> None:
        """Log the first problem of each kind as a warning, later ones at debug level."""
        self.stats.last_problem = reason
        level = logging.DEBUG if reason in self.stats.warned else logging.WARNING
        self.stats.warned.add(reason)
        LOGGER.log(
            level,
            "Refused a report to the Yeastar webhook (%s%s)",
            reason,
            f": {detail}" if detail else "",
        )
