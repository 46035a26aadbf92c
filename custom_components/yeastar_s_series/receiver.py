"""The webhook that receives the PBX's event reports.

The PBX re-sends a report until it gets 200 OK, so the handler answers at once,
drops re-sent copies, and turns each new report into one `yeastar_s_series_event`
on the bus plus a dispatcher signal for the entities. Reports from any address
but the PBX's, oversized or malformed bodies are refused and counted.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import blake2b
from http import HTTPStatus
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
from homeassistant.util.aiohttp import MockRequest

from .api import ExtensionStatus, Report, ReportFormat, ReportParseError, parse_report
from .const import EVENT_YEASTAR, LOGGER, MAX_REPORT_SIZE, signal_report

if TYPE_CHECKING:
    from .coordinator import YeastarCoordinator

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


def _stream_key(report: Report) -> str:
    """Group reports whose order matters: one call, one extension, else one report name."""
    if report.call_id is not None:
        return f"call:{report.call_id}"
    if isinstance(extension := report.fields.get("extension"), str):
        return f"ext:{extension}"
    return f"name:{report.name}"


async def _read_body(request: web.Request) -> bytes:
    """Read the whole body, however many segments it came in, but no more than the limit + 1."""
    content = request.content
    if content.is_eof():  # A small report is all there before the handler runs.
        return content.read_nowait(MAX_REPORT_SIZE + 1)
    body = b""
    while len(body) <= MAX_REPORT_SIZE and (
        chunk := await content.read(MAX_REPORT_SIZE + 1 - len(body))
    ):
        body += chunk
    return body


def report_event_data(report: Report) -> dict[str, Any]:
    """Event data of a report: its own top-level fields plus normalized names and parties."""
    return {
        **report.fields,
        "event": report.name,
        "callid": report.call_id,
        "sn": report.serial,
        "parties": [party.as_dict() for party in report.parties],
    }


class ReportReceiver:
    """Handle the PBX's POSTs to this entry's webhook."""

    def __init__(self, hass: HomeAssistant, coordinator: YeastarCoordinator) -> None:
        """Bind to one PBX."""
        self.hass = hass
        self.coordinator = coordinator
        self.stats = ReportStats()
        self._deduplicator = Deduplicator()

    async def async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request | MockRequest
    ) -> web.Response:
        """Answer the PBX at once with 200; refuse what the PBX could not have sent.

        A real PBX re-sends a report until it gets 200, so whatever comes from its
        address gets 200, accepted or not: a body it cannot make us accept would
        otherwise come back forever. Refusals are counted and logged instead.
        """
        if not isinstance(request, web.Request):
            # `webhook/handle` over the websocket API: a Home Assistant user, not the PBX.
            return self._refuse(HTTPStatus.FORBIDDEN, "not_http", None)
        if request.remote not in self.coordinator.pbx_addresses:
            return self._refuse(HTTPStatus.FORBIDDEN, "foreign_address", request.remote)
        if (body := await self._async_read(request)) is not None:
            self.async_receive(body)
        return web.Response(status=HTTPStatus.OK)

    async def _async_read(self, request: web.Request) -> bytes | None:
        """Read the body; None (counted as invalid) when it is too large or unreadable."""
        if (
            request.content_length is not None
            and request.content_length > MAX_REPORT_SIZE
        ):
            self._invalid("too_large", None)
            return None
        try:
            body = await _read_body(request)
        except web.RequestPayloadError, HttpProcessingError:
            self._invalid("unreadable", "the body could not be read")
            return None
        if len(body) > MAX_REPORT_SIZE:
            self._invalid("too_large", None)
            return None
        return body

    def async_receive(self, body: bytes) -> None:
        """Handle one report body from the PBX: parse, check, de-duplicate, fire."""
        try:
            report = parse_report(body)
        except ReportParseError as err:
            self._invalid("invalid", str(err))
            return
        if (problem := self._foreign(report)) is not None:
            self.stats.refused += 1
            self._note_problem(*problem)
            return
        self.stats.last_received = dt_util.utcnow()
        if self._is_resent(report, body):
            self.stats.duplicates += 1
            return
        self.stats.accepted += 1
        self._async_process(report)

    def _foreign(self, report: Report) -> tuple[str, str | None] | None:
        """Say why a report cannot be this PBX's, None when it can be.

        The PBX reports in the format the login asked for; with v1.1.0 and v2.0.0
        every report carries the PBX's serial. A report in another format, or one
        without the serial where it belongs, did not come from the PBX.
        """
        expected = self.coordinator.client.api_version.report_format
        if report.format != ReportFormat(expected or ReportFormat.V1_0_0):
            return "wrong_format", f"format {report.format}"
        if expected is not None and report.serial != self.coordinator.serial:
            if report.serial is None:
                return "missing_serial", None
            return "foreign_serial", report.serial
        return None

    def _is_resent(self, report: Report, body: bytes) -> bool:
        """Tell a re-send from a repeat that says something new.

        An extension's status may have changed meanwhile without a report (the list
        read after a PBX reboot): the same "Ringing" again is then news, not a copy.
        """
        if not self._deduplicator.is_duplicate(report, body):
            return False
        if report.name != "ExtensionStatus":
            return True
        number = report.fields.get("extension")
        known = (
            self.coordinator.extension_status(number)
            if isinstance(number, str)
            else None
        )
        return known is not None and known is ExtensionStatus.parse(
            report.fields.get("status")
        )

    def _async_process(self, report: Report) -> None:
        """Fire the bus event, update the entities, react to PBX-wide news."""
        entry_id = self.coordinator.config_entry.entry_id
        data = report_event_data(report)
        self.hass.bus.async_fire(
            EVENT_YEASTAR,
            {
                **data,
                "config_entry_id": entry_id,
                "device_id": self.coordinator.device_id,
            },
        )
        # The event data goes along, so the call event entity need not build it again.
        async_dispatcher_send(self.hass, signal_report(entry_id), report, data)
        if report.name == "ExtensionStatus":
            number = report.fields.get("extension")
            status = ExtensionStatus.parse(report.fields.get("status"))
            if isinstance(number, str) and status is not None:
                self.coordinator.async_set_extension_status(number, status)
        elif report.name == "BootUp":
            self.coordinator.async_pbx_restarted()
        elif report.name == "ConfigChange":
            self.coordinator.async_inventory_changed()

    def _refuse(
        self, status: HTTPStatus, reason: str, detail: str | None
    ) -> web.Response:
        """Count and log a request that is not the PBX's, then answer it."""
        self.stats.refused += 1
        self._note_problem(reason, detail)
        return web.Response(status=status)

    def _invalid(self, reason: str, detail: str | None) -> None:
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
