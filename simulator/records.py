"""The PBX's call records and recordings, and their single-use downloads.

Every ``NewCdr`` the PBX sends is kept; with recording on, an answered call
also leaves a small WAV file, named in its record as the documents name them
(``20170901181806-1504261084.7-1001-1003-Internal.wav``). A download takes two
steps: ``…/get_random`` (POST, token) answers a random string, valid 30 s and
good for one ``GET …/download``; a spent, stale or unknown one answers errno
20012, a file that is gone 20014, both as JSON with HTTP 200.

The documents describe the CSV only as "the CDR parameters": with a header row
of those names (the default) or without one, the columns in the documents'
order; ``status`` is spelt as the version's reports spell it. Nor do they give
the recording's content type: ``audio/wav`` unless a test sets another.
"""

import csv
from dataclasses import dataclass, replace
from datetime import datetime
import io
import json
import math
import re
import secrets
import struct
from typing import Any
import wave

from aiohttp import web

from .call_api import Handler
from .clock import SimClock
from .reports import NewCdr, Report, render
from .switchboard import ERRNO_BLANK, Refused

type Json = dict[str, Any]

RANDOM_LIFETIME = 30.0  # seconds a random string may be used
ERRNO_RANDOM_INVALID = "20012"
ERRNO_FILE_GONE = "20014"
CDR_DOWNLOAD = "cdr/download"
RECORDING_DOWNLOAD = "recording/download"
# The v2 NewCdr parameters, in the documents' order.
CSV_COLUMNS = (
    "callid",
    "timestart",
    "callfrom",
    "callto",
    "callduraction",
    "talkduraction",
    "srctrunkname",
    "dsttrcunkname",
    "pincode",
    "status",
    "type",
    "recording",
    "didnumber",
    "agentringtime",
)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_SAMPLE_RATE = 8000  # telephone audio
_TONE_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class _Ticket:
    """What a random string was given for, and until when it works."""

    endpoint: str
    body: Json
    expires_at: float


class Records:
    """Call records and recordings, served as the PBX serves them."""

    def __init__(self, clock: SimClock) -> None:
        """Keep nothing yet; recording off, CSV with a header row."""
        self.recording = False  # the PBX's auto-record setting
        self.csv_header = True
        self.recording_type = "audio/wav"
        # Send half of a recording, then close: a PBX that restarts mid-download.
        self.break_off = False
        self._clock = clock
        self._records: list[NewCdr] = []
        self._files: dict[str, bytes] = {}
        self._tickets: dict[str, _Ticket] = {}

    @property
    def records(self) -> list[NewCdr]:
        """Return the call records, oldest first."""
        return list(self._records)

    @property
    def recordings(self) -> dict[str, bytes]:
        """Return the recordings on the PBX by file name."""
        return dict(self._files)

    def keep(self, report: Report) -> Report:
        """Keep a call record, recording the call first if it was answered."""
        if not isinstance(report, NewCdr):
            return report
        if self.recording and report.status == "ANSWERED" and not report.recording:
            report = replace(report, recording=_file_name(report))
            self._files[report.recording] = _wav()
        self._records.append(report)
        return report

    def delete_recording(self, name: str) -> None:
        """Delete a recording (as the admin would); KeyError when there is none."""
        del self._files[name]

    def handlers(self, version: str) -> dict[str, Handler]:
        """Return the ``get_random`` endpoints this API version has (v1.0.0: no CDR)."""
        handlers: dict[str, Handler] = {"recording/get_random": self._recording_random}
        if version != "v1.0.0":
            key = "number" if version == "v2.0.0" else "extid"
            handlers["cdr/get_random"] = lambda body: self._cdr_random(key, body)
        return handlers

    def serves(self, version: str, endpoint: str) -> bool:
        """Return whether a GET to ``endpoint`` is one of this version's downloads."""
        return endpoint == RECORDING_DOWNLOAD or (
            endpoint == CDR_DOWNLOAD and version != "v1.0.0"
        )

    def download(self, version: str, endpoint: str, random: str) -> web.Response:
        """Serve the file a random string was given for; Refused when it cannot be had."""
        ticket = self._tickets.pop(random, None)
        if (
            ticket is None
            or ticket.endpoint != endpoint
            or self._clock.now() > ticket.expires_at
        ):
            raise Refused(ERRNO_RANDOM_INVALID)
        if endpoint == CDR_DOWNLOAD:
            return web.Response(
                text=self._csv(version, ticket.body), content_type="text/csv"
            )
        content = self._files.get(ticket.body["recording"])
        if content is None:
            raise Refused(ERRNO_FILE_GONE)
        if not self.break_off:
            return web.Response(body=content, content_type=self.recording_type)
        response = web.Response(
            body=content[: len(content) // 2], content_type=self.recording_type
        )
        response.headers["Content-Length"] = str(len(content))
        response.force_close()
        return response

    def _cdr_random(self, key: str, body: Json) -> Json:
        """Give a random string for the records of some extensions in a span."""
        numbers = str(body.get(key, "")).strip()
        start, end = (_time(body.get(name)) for name in ("starttime", "endtime"))
        if not numbers or start is None or end is None:
            raise Refused(ERRNO_BLANK)
        wanted = None if numbers.lower() == "all" else set(numbers.split(","))
        return self._random(
            CDR_DOWNLOAD, {"numbers": wanted, "start": start, "end": end}
        )

    def _recording_random(self, body: Json) -> Json:
        """Give a random string for a recording that is on the PBX."""
        name = str(body.get("recording", "")).strip()
        if not name:
            raise Refused(ERRNO_BLANK)
        if name not in self._files:
            raise Refused(ERRNO_FILE_GONE)
        return self._random(RECORDING_DOWNLOAD, {"recording": name})

    def _random(self, endpoint: str, body: Json) -> Json:
        """Issue a random string for one download within RANDOM_LIFETIME."""
        random = secrets.token_hex(16)
        self._tickets[random] = _Ticket(
            endpoint, body, self._clock.now() + RANDOM_LIFETIME
        )
        return {"status": "Success", "random": random}

    def _csv(self, version: str, query: Json) -> str:
        """Write the records a download asked for."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self.csv_header:
            writer.writerow(CSV_COLUMNS)
        numbers: set[str] | None = query["numbers"]
        for record in self._records:
            start = _time(record.timestart)
            if start is None or not query["start"] <= start <= query["end"]:
                continue
            if numbers is not None and not numbers & _parties(record):
                continue
            fields = cdr_fields(record, version)
            writer.writerow(fields.get(column, "") for column in CSV_COLUMNS)
        return out.getvalue()


def cdr_fields(record: NewCdr, version: str) -> Json:
    """Return a record's parameters as this API version's reports write them."""
    [body] = render(record, "2.0.0", "")
    fields: Json = json.loads(body)
    if version != "v2.0.0":
        fields["status"] = record.status  # v1 spelling: NO ANSWER
    return {column: fields[column] for column in CSV_COLUMNS}


def _parties(record: NewCdr) -> set[str]:
    """Return the numbers in a record: the caller, and the called (``6200(1001)``: both)."""
    return {record.callfrom, *re.split(r"[()]", record.callto)} - {""}


def _time(value: object) -> datetime | None:
    """Read ``yyyy-mm-dd hh:mm:ss``, None when it is not."""
    try:
        return datetime.strptime(str(value), _TIME_FORMAT)  # noqa: DTZ007 - the PBX's wall clock
    except ValueError:
        return None


def _file_name(record: NewCdr) -> str:
    """Name a recording as the PBX does: start, call id, parties, type."""
    start = re.sub(r"\D", "", record.timestart)
    called = record.callto.split("(")[0]
    return f"{start}-{record.callid}-{record.callfrom}-{called}-{record.type}.wav"


def _wav() -> bytes:
    """Return a short 8 kHz tone: a real WAV file, small enough to keep many."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / _SAMPLE_RATE)))
        for n in range(int(_SAMPLE_RATE * _TONE_SECONDS))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(_SAMPLE_RATE)
        file.writeframes(frames)
    return out.getvalue()
