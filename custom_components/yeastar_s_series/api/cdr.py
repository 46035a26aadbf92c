"""Call records: the PBX's `NewCdr` reports and its CSV download, in one form.

The PBX spells some fields its own way (`callduraction`, `talkduraction`,
`dsttrcunkname` in v2, `desttrunkname` in v1, status `NO ANSWERED` in v2 for
v1's `NO ANSWER`) and writes a call a ring group or queue passed on as
`6200(4002)`: group 6200, answered by extension 4002. A record is read once
into plain fields. `pincode`, the code a caller dialled to be allowed out, is
a secret: it is never read.

The CSV download is documented as "CSV, see the CDR parameters": a header of
those parameter names is read when there is one, else the columns are taken in
the order of the documents' parameter table.
"""

from collections.abc import Iterable, Mapping
import csv
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
import io
import re
from typing import Any

from .models import text

# "6200(4002)": ring group or queue 6200, answered by extension 4002.
ANSWERED_BY = re.compile(r"^\s*(?P<called>[^()\s]+)\s*\((?P<by>[^()\s]+)\)\s*$")
# The time format of records and of the download's bounds.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The v2 NewCdr parameters, in the documents' order: the CSV's columns without a header.
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


class CallStatus(StrEnum):
    """How a call ended, as a call record tells."""

    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


_STATUSES = {
    "ANSWERED": CallStatus.ANSWERED,
    "NO ANSWER": CallStatus.MISSED,
    "NO ANSWERED": CallStatus.MISSED,
    "BUSY": CallStatus.BUSY,
    "VOICEMAIL": CallStatus.VOICEMAIL,
    "FAILED": CallStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call record, its fields named plainly."""

    callid: str | None
    start: datetime | None  # the PBX's local time, as it wrote it
    duration: int | None  # seconds from the first ring to the end
    talk_time: int | None  # seconds talked
    caller: str | None
    called: str | None
    answered_by: str | None  # the extension that took a ring group's or queue's call
    direction: str | None  # inbound, outbound, internal (v1 also callback, transfer)
    status: CallStatus | None
    trunk: str | None
    recording: str | None  # the recording's file name at the PBX
    did: str | None  # the number the caller dialled

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> CallRecord:
        """Read a `NewCdr` report's fields, or a CSV row."""
        called = text(fields.get("callto"))
        answered_by = None
        if called is not None and (match := ANSWERED_BY.match(called)):
            called, answered_by = match["called"], match["by"]
        status = text(fields.get("status"))
        direction = text(fields.get("type"))
        return cls(
            callid=text(fields.get("callid")),
            start=_time(fields.get("timestart")),
            duration=_seconds(fields.get("callduraction")),
            talk_time=_seconds(fields.get("talkduraction")),
            caller=text(fields.get("callfrom")),
            called=called,
            answered_by=answered_by,
            direction=None if direction is None else direction.lower(),
            status=None if status is None else _STATUSES.get(status.upper()),
            trunk=(
                text(fields.get("srctrunkname"))
                or text(fields.get("dsttrcunkname"))  # sic, v2
                or text(fields.get("desttrunkname"))
            ),
            recording=text(fields.get("recording")),
            did=text(fields.get("didnumber")),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON values (the time as ISO text)."""
        data = asdict(self)
        data["start"] = None if self.start is None else self.start.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallRecord:
        """Read back a record `as_dict` wrote."""
        start, status = data.get("start"), data.get("status")
        return cls(
            callid=data.get("callid"),
            start=None if start is None else datetime.fromisoformat(start),
            duration=data.get("duration"),
            talk_time=data.get("talk_time"),
            caller=data.get("caller"),
            called=data.get("called"),
            answered_by=data.get("answered_by"),
            direction=data.get("direction"),
            status=None if status is None else CallStatus(status),
            trunk=data.get("trunk"),
            recording=data.get("recording"),
            did=data.get("did"),
        )


def parse_csv(content: str) -> list[CallRecord]:
    """Read the PBX's CSV download: a header of field names, or the documented order."""
    rows = list(csv.reader(io.StringIO(content)))
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    if "callid" in header or "timestart" in header:
        columns: Iterable[str] = header
        rows = rows[1:]
    else:
        columns = CSV_COLUMNS
    names = list(columns)
    return [
        CallRecord.from_fields(dict(zip(names, row, strict=False)))
        for row in rows
        if any(cell.strip() for cell in row)
    ]


def download_body(
    number_key: str, numbers: str, start: datetime, end: datetime
) -> dict[str, str]:
    """Build the `cdr/get_random` body (v2 `number`, v1.1.0 `extid`)."""
    return {
        number_key: numbers,
        "starttime": start.strftime(TIME_FORMAT),
        "endtime": end.strftime(TIME_FORMAT),
    }


def _time(value: object) -> datetime | None:
    """Read a record's time, `yyyy-mm-dd hh:mm:ss`."""
    if (stamp := text(value)) is None:
        return None
    try:
        return datetime.strptime(stamp, TIME_FORMAT)  # noqa: DTZ007 - the PBX's local time
    except ValueError:
        return None


def _seconds(value: object) -> int | None:
    """Read a duration in seconds."""
    if (number := text(value)) is None or not number.isdigit():
        return None
    return int(number)
