"""Parsing of the event reports a PBX posts to the application.

Three formats exist, chosen by the login `version`:
- v2.0.0: name in `event`, parties in `members`;
- v1.0.2: name in `action`, parties in `call`;
- v1.0.0 (old): name in `action`, parties as repeated keys of one object
  (`"ext":{...},"ext":{...}`), which plain JSON parsing would collapse to one.
Whatever arrives, `parse_report` returns a `Report` or raises `ReportParseError`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
import json
import math
from typing import Any, NoReturn

from .exceptions import ReportParseError
from .models import ReportFormat

PARTY_KINDS = ("ext", "inbound", "outbound")
# Real reports nest four levels (report, member list, member, party). Deeper ones are
# refused: Home Assistant's JSON encoder (events, states, the recorder) has a limit.
MAX_DEPTH = 16
# Fields that name the party's number, by kind and format (v1 `extid`, v2 `number`),
# then the trunk leg's caller.
_NUMBER_KEYS = ("extid", "number", "from")
_STRING_FIELDS = ("callid", "sn")
# The integers Home Assistant's JSON encoder (orjson) writes: signed and unsigned 64 bits.
_SMALLEST_INT = -(2**63)
_LARGEST_INT = 2**64 - 1


@dataclass(frozen=True, slots=True)
class Party:
    """One leg of a call: an extension, an inbound or an outbound trunk leg."""

    kind: str
    fields: Mapping[str, Any]

    @property
    def number(self) -> str | None:
        """The extension number, or the trunk leg's `from` number."""
        for key in _NUMBER_KEYS:
            if isinstance(value := self.fields.get(key), str) and value:
                return value
        return None

    @property
    def outside_number(self) -> str | None:
        """The number beyond the trunk: the caller inbound, the callee outbound."""
        if self.kind == "ext":
            return None
        value = self.fields.get("from" if self.kind == "inbound" else "to")
        return value if isinstance(value, str) and value else self.number

    @property
    def trunk(self) -> str | None:
        """The trunk of a trunk leg (v2 `trunkname`, v1 `trunk`); some legs carry only it."""
        for key in ("trunkname", "trunk"):
            if isinstance(value := self.fields.get(key), str) and value:
                return value
        return None

    @property
    def status(self) -> str | None:
        """The leg's `memberstatus` (v2 only): ALERT, RING, ANSWERED, ANSWER, HOLD, BYE."""
        value = self.fields.get("memberstatus")
        return value if isinstance(value, str) else None

    def as_dict(self) -> dict[str, Any]:
        """Plain form for event data: `type`, `number`, `status` and the raw fields."""
        return {
            **self.fields,
            "type": self.kind,
            "number": self.number,
            "trunk": self.trunk,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """One event report, whatever its format."""

    name: str
    format: ReportFormat
    fields: Mapping[str, Any]
    parties: tuple[Party, ...] = field(default=())

    @property
    def call_id(self) -> str | None:
        """The call the report belongs to, when it is about a call."""
        value = self.fields.get("callid")
        return value if isinstance(value, str) else None

    @property
    def serial(self) -> str | None:
        """The PBX serial number (`sn`), sent by firmware with API v1.1.0 and later."""
        value = self.fields.get("sn")
        return value if isinstance(value, str) else None


class _Pairs(list[tuple[str, Any]]):
    """A JSON object with every key kept, repeated ones included."""


def parse_report(body: bytes | str) -> Report:
    r"""Parse one report body; any malformed input raises ReportParseError only.

    Repeated top-level keys are kept, as the old format needs. A report is refused,
    too, when Home Assistant could not write it out again (events, states and the
    recorder are JSON): text that is not valid Unicode (a lone surrogate escape such
    as `\ud83d` in the JSON text), numbers that are not finite (`NaN`, `Infinity`, `1e400`) and
    integers beyond 64 bits.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise ReportParseError("The report is not UTF-8") from None
    try:
        document = _loads(text)
    except ValueError, RecursionError:
        # One documented v2 example ends its object with a comma.
        try:
            document = _loads(_without_trailing_commas(text))
        except ValueError, RecursionError:
            raise ReportParseError("The report is not JSON") from None
    if not isinstance(document, _Pairs):
        raise ReportParseError("The report is not a JSON object")
    fields: dict[str, Any] = {}
    parties: list[Party] = []
    for key, value in document:
        if key in PARTY_KINDS:
            parties.append(_party(key, value))
        else:
            fields[_valid_text(key)] = _plain(value, 1)
    return _report(fields, parties)


def _loads(text: str) -> object:
    """Parse JSON keeping repeated keys; NaN and the infinities are refused."""
    return json.loads(text, object_pairs_hook=_Pairs, parse_constant=_refuse_constant)


def _without_trailing_commas(text: str) -> str:
    """Drop commas that close an object or array (`{"a":1,}`), outside strings."""
    kept: list[str] = []
    in_string = escaped = False
    comma = -1  # index in `kept` of a comma that may yet close something
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char in "}]" and comma >= 0:
            del kept[comma]
        elif char == '"':
            in_string = True
        if not in_string and char == ",":
            comma = len(kept)
        elif not char.isspace():
            comma = -1
        kept.append(char)
    return "".join(kept)


def _refuse_constant(name: str) -> NoReturn:
    """Refuse `NaN`, `Infinity` and `-Infinity`, which JSON does not have."""
    raise ReportParseError(f"The report holds the number {name}")


def _report(fields: dict[str, Any], parties: list[Party]) -> Report:
    """Find the format and name; `parties` holds the old format's top-level ones."""
    if "event" in fields:
        report_format, name_key, list_key = ReportFormat.V2_0_0, "event", "members"
    elif "action" in fields:
        list_key = "call"
        report_format = (
            ReportFormat.V1_0_2
            if list_key in fields or "sn" in fields
            else ReportFormat.V1_0_0
        )
        name_key = "action"
    else:
        raise ReportParseError("The report has no name (no `event` or `action`)")
    name = fields[name_key]
    if not isinstance(name, str) or not name:
        raise ReportParseError("The report's name is not a string")
    for key in _STRING_FIELDS:
        if key in fields and not isinstance(fields[key], str):
            raise ReportParseError(f"The report's `{key}` is not a string")
    if list_key in fields:
        parties[:0] = _parties_from_list(fields[list_key])
    return Report(
        name=name, format=report_format, fields=fields, parties=tuple(parties)
    )


def parse_members(items: object) -> tuple[Party, ...]:
    """Read a `members` array of an API answer (`call/query`, `extension/query_call`)."""
    return tuple(_parties_from_list(items))


def _parties_from_list(items: object) -> list[Party]:
    """Parties of a `members` or `call` array: objects with one kind key each."""
    if not isinstance(items, list):
        raise ReportParseError("The report's party list is not a list")
    parties = []
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            raise ReportParseError("A party in the report is not a one-key object")
        ((kind, value),) = item.items()
        parties.append(_party(kind, value))
    return parties


def _party(kind: str, value: object) -> Party:
    """One party object; its fields must be an object."""
    fields = _plain(value, 1)
    if not isinstance(fields, dict):
        raise ReportParseError(f"The report's `{kind}` party is not an object")
    return Party(kind=kind, fields=fields)


def _plain(value: object, depth: int) -> Any:
    """Turn nested `_Pairs` into dicts (the last of repeated inner keys wins).

    Checks every value on the way: what passes, Home Assistant can encode.
    """
    if isinstance(value, str):
        return _valid_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ReportParseError("The report holds a number that is not finite")
    if type(value) is int and not _SMALLEST_INT <= value <= _LARGEST_INT:
        raise ReportParseError("The report holds an integer beyond 64 bits")
    if not isinstance(value, list):
        return value
    if depth >= MAX_DEPTH:
        raise ReportParseError("The report is nested too deeply")
    if isinstance(value, _Pairs):
        return {_valid_text(key): _plain(item, depth + 1) for key, item in value}
    return [_plain(item, depth + 1) for item in value]


def _valid_text(text: str) -> str:
    """Return text that UTF-8 can encode; a lone surrogate cannot."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ReportParseError(
                "The report holds text that is not valid Unicode"
            ) from None
    return text
