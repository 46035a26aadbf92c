"""Property-based fuzzing of the report parser and of the live webhook.

The parser must turn any input into a `Report` or a `ReportParseError`, nothing
else, and whatever it accepts Home Assistant must be able to write out as JSON.
The webhook, posted to over real loopback HTTP from the PBX's address with a
loaded API v2.0.0 entry against the simulator, must never let an exception escape
(Home Assistant would log "Error processing webhook"), must answer 200 to
everything (a real PBX re-sends anything else forever) while firing nothing for
what is not a v2 report of this PBX, and must fire exactly one
`yeastar_s_series_event` for every valid report, once however often the same body
is posted.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import gzip
import json
from typing import Any
import zlib

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes
from hypothesis import Phase, assume, find, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.api import (
    Report,
    ReportFormat,
    ReportParseError,
)
from custom_components.yeastar_s_series.api.reports import parse_report
from custom_components.yeastar_s_series.const import MAX_REPORT_SIZE
from custom_components.yeastar_s_series.event import EVENT_TYPES, call_event_type
from custom_components.yeastar_s_series.receiver import report_event_data
from tests.common import SERIAL

from .conftest import FUZZ, WebhookProbe
from .strategies import (
    OTHER_SERIAL,
    REAL_BODIES,
    GeneratedReport,
    accepted,
    encode_pairs,
    entry_reports,
    json_values,
    scalars,
    unserializable_scalars,
    v2_reports,
    v102_reports,
    valid_reports,
)

CALL_ENTITY = "event.yeastar_s100_calls"
NONCE = "fuzz_nonce"
# How deep event data and state attributes may nest and still be stored safely.
MAX_SAFE_DEPTH = 64
# Live tests whose every example is as small as it gets need no shrinking: each
# shrink step is another HTTP request, and a failure costs 30 s of them.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def parse_or_refuse(body: bytes | str) -> Report | None:
    """Parse a body; None when it is refused. Any other exception fails the test."""
    try:
        return parse_report(body)
    except ReportParseError:
        return None


def assert_report_matches(report: Report, generated: GeneratedReport) -> None:
    """Check a parsed report against what was generated."""
    assert report.name == generated.name
    assert report.format is generated.format
    assert report.call_id == generated.callid
    assert report.serial == generated.serial
    assert len(report.parties) == generated.parties


async def post_report(
    webhook: WebhookProbe, generated: GeneratedReport, *, times: int = 2
) -> None:
    """Post a valid report `times` times: every answer 200, exactly one event, the right one."""
    nonce = webhook.nonce()
    body = generated.with_field(NONCE, nonce).encode().encode()
    before = len(webhook.events)
    for _ in range(times):
        assert await webhook.post(body) == 200
    fired = webhook.events[before:]
    assert len(fired) == 1, f"{len(fired)} events for one report posted {times} times"
    data = fired[0].data
    assert data["event"] == generated.name
    assert data["sn"] == generated.serial
    assert data["callid"] == generated.callid
    assert len(data["parties"]) == generated.parties
    assert data[NONCE] == nonce
    webhook.assert_quiet()


async def post_refused(webhook: WebhookProbe, body: bytes) -> None:
    """Post a body that must be refused: answered 200 (the PBX's address), firing nothing."""
    before = len(webhook.events)
    assert await webhook.post(body) == 200
    assert len(webhook.events) == before, "a refused body fired an event"
    webhook.assert_quiet()


# Input strategies beyond valid reports

encodings = st.sampled_from(
    ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1")
)
encoded_text = st.builds(
    lambda text, encoding: text.encode(encoding, errors="replace"),
    st.text(max_size=300),
    encodings,
)
json_documents = st.builds(
    lambda value: json.dumps(value).encode(),
    json_values | st.dictionaries(st.sampled_from(("event", "action")), json_values),
)


@st.composite
def mutated_real_bodies(draw: st.DrawFn) -> bytes:
    """Damage a real report: bytes deleted, inserted or replaced."""
    body = bytearray(draw(st.sampled_from(REAL_BODIES)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, min(len(body), start + 8)))
        body[start:end] = draw(st.binary(max_size=4))
    return bytes(body)


BREAKAGES: dict[str, Any] = {
    "name": st.sampled_from(("", None, 5, [], {})),
    "callid": st.sampled_from((None, 12, 1.5, [], {}, True)),
    "sn": st.sampled_from((None, 369364835218, [], {}, False)),
    "members": st.sampled_from(({}, "ext", [1], [{}], [{"ext": {}, "x": {}}], [[]])),
    "call": st.sampled_from(({}, "ext", [1], [{}], [{"ext": "1001"}])),
    "ext": st.sampled_from(("1001", 5, [], None)),
}


@st.composite
def broken_reports(draw: st.DrawFn) -> bytes:
    """Break one part of a valid report: the wrong type for (name, callid, serial, parties)."""
    generated = draw(valid_reports)
    pairs = list(generated.pairs)
    key = draw(st.sampled_from(sorted(BREAKAGES)))
    if key == "name":
        pairs[0] = (pairs[0][0], draw(BREAKAGES[key]))
    else:
        pairs = [(k, v) for k, v in pairs if k != key]
        pairs.insert(1, (key, draw(BREAKAGES[key])))
    return encode_pairs(pairs).encode()


foreign_reports = (
    v2_reports(serial=OTHER_SERIAL) | v102_reports(serial=OTHER_SERIAL)
).map(lambda generated: generated.encode().encode())
invalid_bodies = st.one_of(
    st.binary(max_size=512),
    encoded_text,
    json_documents,
    mutated_real_bodies(),
    broken_reports(),
    foreign_reports,
)


def nested(depth: int, opener: str) -> str:
    """Return `depth` nested arrays or objects around a number."""
    if opener == "[":
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


# The parser alone


@settings(FUZZ, max_examples=3000)
@given(st.binary(max_size=2048) | encoded_text | mutated_real_bodies())
def test_parser_takes_any_bytes(body: bytes) -> None:
    """Any bytes: a report or ReportParseError, never another exception."""
    report = parse_or_refuse(body)
    if report is not None:
        assert isinstance(report.name, str) and report.name


@settings(FUZZ, max_examples=1500)
@given(json_values | st.dictionaries(st.sampled_from(("event", "action")), json_values))
def test_parser_takes_any_json_value(value: Any) -> None:
    """Any JSON document: only an object with a string name can be a report."""
    report = parse_or_refuse(json.dumps(value))
    if not isinstance(value, dict):
        assert report is None
    elif report is not None:
        key = "event" if "event" in value else "action"
        assert report.name == value[key]


@settings(FUZZ, max_examples=600)
@given(valid_reports)
def test_parser_reads_every_valid_report(generated: GeneratedReport) -> None:
    """Every generated report of every format parses to its name, format, call, serial, parties."""
    for text in (generated.encode(), generated.encode(ensure_ascii=False)):
        report = parse_or_refuse(text.encode())
        assert report is not None
        assert_report_matches(report, generated)


unserializable_values = st.recursive(
    unserializable_scalars,
    lambda children: (
        st.lists(children, min_size=1, max_size=2)
        | st.dictionaries(st.text(max_size=4), children, min_size=1, max_size=2)
    ),
    max_leaves=3,
)


@st.composite
def reports_with_unserializable_values(draw: st.DrawFn) -> bytes:
    """Draw a valid report with one value Home Assistant cannot write, anywhere in it."""
    generated = draw(valid_reports)
    value = draw(unserializable_values | scalars)
    where = draw(st.sampled_from(("field", "member", "key")))
    if where == "member" and generated.parties:
        body = generated.encode()
        marker = '"channelid":' if '"channelid":' in body else '"from":'
        return body.replace(marker, f'"x":{json.dumps(value)},{marker}', 1).encode()
    if where == "key" and isinstance(value, str):
        return generated.with_field(value, 1).encode().encode()
    return generated.with_field("extra", value).encode().encode()


@settings(FUZZ, max_examples=1000)
@given(reports_with_unserializable_values())
def test_parser_accepts_only_what_home_assistant_can_write(body: bytes) -> None:
    """Lone surrogates, NaN, infinities and huge integers anywhere: refused, never passed on.

    Home Assistant's encoder (orjson) refuses them; an event or state holding one
    breaks the REST API, the websocket subscribers and the recorder.
    """
    report = parse_or_refuse(body)
    if report is not None:
        json_bytes(report_event_data(report, lambda number: number))


@settings(FUZZ, max_examples=150, phases=NO_SHRINK)
@given(body=reports_with_unserializable_values())
async def test_webhook_states_and_events_stay_serializable(
    hass: HomeAssistant, webhook: WebhookProbe, body: bytes
) -> None:
    """Whatever a report holds, every state and every event fired can be written as JSON."""
    before = len(webhook.events)
    assert await webhook.post(body) == 200
    webhook.assert_quiet()
    for event in webhook.events[before:]:
        json_bytes(event.data)
    json_bytes([state.as_dict() for state in hass.states.async_all()])


@settings(FUZZ, max_examples=300)
@given(
    depth=st.integers(1, 50_000) | st.integers(900, 1100),
    opener=st.sampled_from(("[", "{")),
    where=st.sampled_from(("top", "field", "member")),
)
def test_parser_survives_deep_nesting(depth: int, opener: str, where: str) -> None:
    """Deep nesting anywhere is a report or ReportParseError, never a RecursionError."""
    deep = nested(depth, opener)
    body = {
        "top": deep,
        "field": f'{{"event":"CallStatus","deep":{deep},"sn":"{SERIAL}"}}',
        "member": f'{{"event":"CallStatus","members":[{{"ext":{{"d":{deep}}}}}]}}',
    }[where]
    report = parse_or_refuse(body)
    if where == "top":
        assert report is None


def test_parser_refuses_every_prefix_of_real_reports() -> None:
    """Every truncation of every real report (all formats) is refused; the whole one parses."""
    prefixes = 0
    for body in REAL_BODIES:
        assert parse_or_refuse(body) is not None
        for end in range(len(body)):
            assert parse_or_refuse(body[:end]) is None, body[:end]
            prefixes += 1
    assert prefixes > 1000


# The live webhook


@settings(FUZZ, max_examples=400)
@given(body=invalid_bodies)
async def test_webhook_refuses_invalid_bodies(
    webhook: WebhookProbe, body: bytes
) -> None:
    """Bytes, text in any encoding, JSON of any shape, damaged and foreign reports: no event."""
    assume(not accepted(body))
    await post_refused(webhook, body)


async def test_webhook_refuses_every_prefix_of_real_reports(
    webhook: WebhookProbe,
) -> None:
    """Every truncation of a real report is refused; a whole v2 report fires once."""
    for body in REAL_BODIES:
        for end in range(len(body)):
            await post_refused(webhook, body[:end])
        before = len(webhook.events)
        assert await webhook.post(body) == 200
        assert len(webhook.events) == before + accepted(body)
    assert webhook.requests > 2000
    webhook.assert_quiet()


@settings(FUZZ, max_examples=300)
@given(generated=entry_reports)
async def test_webhook_fires_every_valid_report_once(
    webhook: WebhookProbe, loaded: MockConfigEntry, generated: GeneratedReport
) -> None:
    """Every v2 report of this PBX fires one event, even when posted twice."""
    before = len(webhook.events)
    await post_report(webhook, generated)
    assert webhook.events[before].data["config_entry_id"] == loaded.entry_id


@settings(FUZZ, max_examples=60)
@given(
    size=st.integers(MAX_REPORT_SIZE - 64, MAX_REPORT_SIZE + 64)
    | st.integers(MAX_REPORT_SIZE + 65, 1024 * 1024),
    valid=st.booleans(),
    chunked=st.booleans(),
)
async def test_webhook_oversized_bodies(
    webhook: WebhookProbe, size: int, valid: bool, chunked: bool
) -> None:
    """Around and above 64 KiB: a report up to the limit fires, anything larger is refused."""
    if valid:
        head = f'{{"event":"DTMF","sn":"{SERIAL}","{NONCE}":"{webhook.nonce()}","pad":"'
        body = (head + "x" * max(0, size - len(head) - 2) + '"}').encode()
    else:
        body = b"[" * size
    before = len(webhook.events)
    if chunked:
        framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        status = await webhook.raw([("Transfer-Encoding", "chunked")], [framed])
    else:
        status = await webhook.post(body)
    assert status == 200
    fired = len(webhook.events) - before
    assert fired == (1 if valid and len(body) <= MAX_REPORT_SIZE else 0)
    webhook.assert_quiet()


@settings(FUZZ, max_examples=300)
@given(
    generated=valid_reports,
    text=st.text(st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF), min_size=1),
    encoding=st.sampled_from(
        ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1", "cp1252")
    )
    | st.just("invalid-utf-8"),
    position=st.integers(0, 10_000),
)
async def test_webhook_wrong_encodings(
    webhook: WebhookProbe,
    generated: GeneratedReport,
    text: str,
    encoding: str,
    position: int,
) -> None:
    """A report in UTF-16/32, with a BOM, in latin-1 or with invalid UTF-8: nothing fired."""
    report = generated.with_field("name", text).with_field(NONCE, webhook.nonce())
    document = report.encode(ensure_ascii=False)
    if encoding == "invalid-utf-8":
        raw = document.encode(errors="surrogatepass")  # lone surrogates: invalid too
        cut = position % len(raw)
        body = raw[:cut] + b"\xff" + raw[cut:]
    else:
        body = document.encode(encoding, errors="replace")
    before = len(webhook.events)
    assert await webhook.post(body) == 200
    # Text that happens to be UTF-8 too (latin-1 of plain ASCII is) is a report.
    assert len(webhook.events) == before + accepted(body)
    if encoding.startswith(("utf-16", "utf-32", "utf-8-sig", "invalid")):
        assert len(webhook.events) == before
    webhook.assert_quiet()


@settings(FUZZ, max_examples=80)
@given(
    depth=st.integers(1, 3000),
    opener=st.sampled_from(("[", "{")),
    where=st.sampled_from(("top", "field", "member")),
)
async def test_webhook_deep_nesting(
    hass: HomeAssistant, webhook: WebhookProbe, depth: int, opener: str, where: str
) -> None:
    """Deeply nested bodies never raise: refused, or one event that Home Assistant can store.

    Home Assistant cannot store (and orjson 3.11.9 may crash on) event data or
    state attributes nested hundreds of levels deep, so a report nested deeper
    than MAX_SAFE_DEPTH must be refused rather than fired.
    """
    # Start from a plain call event, so that what the Calls entity shows comes from this example.
    reset = f'{{"event":"DTMF","sn":"{SERIAL}","{NONCE}":"{webhook.nonce()}"}}'
    assert await webhook.post(reset.encode()) == 200
    deep = nested(depth, opener)
    nonce = webhook.nonce()
    body = {
        "top": deep,
        "field": f'{{"event":"DTMF","deep":{deep},"sn":"{SERIAL}","{NONCE}":"{nonce}"}}',
        "member": f'{{"event":"CallStatus","members":[{{"ext":{{"d":{deep}}}}}],"{NONCE}":"{nonce}"}}',
    }[where].encode()
    before = len(webhook.events)
    assert await webhook.post(body) == 200
    assert len(webhook.events) == before + accepted(body)
    webhook.assert_quiet()
    assert_serializable(hass, webhook)


def nesting_depth(value: Any) -> int:
    """Return how deep lists and dicts nest in a value (iteratively: no recursion limit)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(current, Mapping):
            pending.extend((item, depth + 1) for item in current.values())
        elif isinstance(current, list | tuple):
            pending.extend((item, depth + 1) for item in current)
    return deepest


def assert_serializable(hass: HomeAssistant, webhook: WebhookProbe) -> None:
    """Check that Home Assistant can write out what the integration put in its states and bus.

    The recorder, the websocket API (the frontend) and restore-state encode
    states and events with orjson, which refuses 255 levels of nesting, and which
    (3.11.9) corrupted the heap and aborted the whole process on event data of a
    report nested about 230 levels deep. So the check measures the depth instead
    of encoding: real reports nest four levels.
    """
    for state in hass.states.async_all():
        depth = nesting_depth(dict(state.attributes))
        assert depth <= MAX_SAFE_DEPTH, (
            f"{state.entity_id} attributes nest {depth} deep"
        )
    for event in webhook.events[-1:]:
        depth = nesting_depth(dict(event.data))
        assert depth <= MAX_SAFE_DEPTH, f"event data nests {depth} deep"


# Headers and framing, over a raw socket

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "",
)
header_values = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40
)


@dataclass(frozen=True, slots=True)
class Framing:
    """How a body goes on the wire: its framing headers, the bytes, and whether it is honest."""

    kind: str
    headers: list[tuple[str, str]]
    payload: bytes
    half_close: bool = False

    @property
    def honest(self) -> bool:
        """Whether the framing delivers exactly the body."""
        return self.kind in ("length", "chunked")


@st.composite
def framings(draw: st.DrawFn, body: bytes, *, honest: bool = False) -> Framing:
    """Frame a body: exact length, chunked (random chunks), or a Content-Length lie."""
    kinds = (
        ("length", "chunked")
        if honest
        else ("length", "chunked", "short", "long", "bogus")
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "chunked":
        # Positions as fractions of the length: compressed bodies' lengths vary with
        # the nonce, and what is drawn must not depend on it.
        fractions = draw(st.lists(st.integers(0, 1000), max_size=6))
        cuts = sorted(len(body) * fraction // 1000 for fraction in fractions)
        pieces = [
            body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)
        ]
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece
        )
        return Framing(kind, [("Transfer-Encoding", "chunked")], framed + b"0\r\n\r\n")
    if kind == "short":
        length = len(body) * draw(st.integers(0, 999)) // 1000
        return Framing(kind, [("Content-Length", str(length))], body)
    if kind == "long":
        length = len(body) + draw(st.integers(1, 1000))
        # The client then gives up: it shuts its side, as a PBX that times out would.
        return Framing(kind, [("Content-Length", str(length))], body, half_close=True)
    if kind == "bogus":
        value = draw(st.sampled_from(("-1", "abc", "1e3", "0x10", f"{len(body)}, 1")))
        return Framing(kind, [("Content-Length", value)], body)
    return Framing(kind, [("Content-Length", str(len(body)))], body)


extra_headers = st.lists(
    st.sampled_from(("User-Agent", "Accept", "Accept-Language", "X-Yeastar")).flatmap(
        lambda name: st.tuples(st.just(name), header_values)
    )
    | st.just(("Expect", "100-continue"))
    | st.just(("User-Agent", "WebAPI")),
    max_size=3,
    # aiohttp itself refuses a request that repeats User-Agent (a singleton header).
    unique_by=lambda header: header[0],
)


@settings(FUZZ, max_examples=400)
@given(
    data=st.data(),
    valid=st.booleans(),
    content_type=st.sampled_from(CONTENT_TYPES) | header_values,
    encoding=st.sampled_from((None, None, "identity", "gzip", "deflate")),
    extra=extra_headers,
)
async def test_webhook_generated_headers(
    webhook: WebhookProbe,
    data: st.DataObject,
    valid: bool,
    content_type: str,
    encoding: str | None,
    extra: list[tuple[str, str]],
) -> None:
    """Any Content-Type, compression, chunking or Content-Length lie: no exception, no 5xx.

    With honest framing a report fires once and anything else nothing, both
    answered 200; a body cut short by its Content-Length, or one whose length is
    no number, fires nothing. (Compressed bodies go with honest framing only: a compressed stream cut
    short is an undecodable body, see test_webhook_undecodable_content_encoding.)
    """
    if valid:
        generated = data.draw(entry_reports)
        document = generated.with_field(NONCE, webhook.nonce()).encode().encode()
    else:
        document = data.draw(invalid_bodies)
        assume(not accepted(document))
    body = document
    headers = [("Content-Type", content_type), *extra]
    if encoding == "gzip":
        body = gzip.compress(document)
    elif encoding == "deflate":
        body = zlib.compress(document)
    if encoding is not None:
        headers.append(("Content-Encoding", encoding))
    framing = data.draw(framings(body, honest=encoding in ("gzip", "deflate")))
    before = len(webhook.events)

    status = await webhook.raw(
        [*headers, *framing.headers], [framing.payload], half_close=framing.half_close
    )

    fired = len(webhook.events) - before
    assert status is None or status < 500
    if framing.honest:
        assert (status, fired) == (200, 1 if valid else 0)
    elif framing.kind in ("short", "bogus"):
        # aiohttp refuses a bogus length itself (400); a short body is ours to refuse.
        assert fired == 0
    else:  # "long": what the client sent before giving up may have been a whole report
        assert fired <= (1 if valid else 0)
    webhook.assert_quiet(allow_http_parser_errors=not framing.honest)


@settings(FUZZ, max_examples=100)
@given(
    encoding=st.sampled_from(("gzip", "deflate", "br", "zstd")),
    garbage=st.binary(min_size=1, max_size=200),
    magic=st.booleans(),
)
async def test_webhook_undecodable_content_encoding(
    webhook: WebhookProbe, encoding: str, garbage: bytes, magic: bool
) -> None:
    """A body that does not decode as its Content-Encoding says: no exception, no event."""
    body = (b"\x1f\x8b\x08\x00" if magic else b"") + garbage
    before = len(webhook.events)
    status = await webhook.raw(
        [
            ("Content-Type", "application/json"),
            ("Content-Encoding", encoding),
            ("Content-Length", str(len(body))),
        ],
        [body],
    )
    # 400 comes from aiohttp's parser, which decodes a body that came in one piece
    # before the handler runs; a real PBX never compresses its reports.
    assert status in (200, 400), status
    assert len(webhook.events) == before
    webhook.assert_quiet(allow_http_parser_errors=True)


@settings(FUZZ, max_examples=100, phases=NO_SHRINK)
@given(generated=entry_reports, data=st.data(), chunked=st.booleans())
async def test_webhook_body_split_across_reads(
    webhook: WebhookProbe,
    generated: GeneratedReport,
    data: st.DataObject,
    chunked: bool,
) -> None:
    """A report that reaches Home Assistant in several TCP segments still fires once.

    A real PBX's longer reports (many call members, call records) exceed one
    segment; the handler must read the whole body, not the first piece.
    """
    body = generated.with_field(NONCE, webhook.nonce()).encode().encode()
    cut = data.draw(st.integers(1, len(body) - 1))
    if chunked:
        headers = [("Transfer-Encoding", "chunked")]
        parts = [
            b"%x\r\n%s\r\n" % (cut, body[:cut]),
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(body) - cut, body[cut:]),
        ]
    else:
        headers = [("Content-Length", str(len(body)))]
        parts = [body[:cut], body[cut:]]
    before = len(webhook.events)

    status = await webhook.raw(
        [("Content-Type", "application/json"), *headers], parts, pause=0.005
    )

    assert status == 200
    assert len(webhook.events) == before + 1
    webhook.assert_quiet()


@settings(FUZZ, max_examples=100, phases=NO_SHRINK)
@given(
    generated=entry_reports,
    key=st.sampled_from(("event_type", "event_types", "friendly_name")),
    value=scalars,
)
async def test_report_fields_cannot_rewrite_the_call_entity(
    hass: HomeAssistant,
    webhook: WebhookProbe,
    generated: GeneratedReport,
    key: str,
    value: Any,
) -> None:
    """A report's own fields never replace the call event entity's event type or name."""
    report = parse_report(generated.encode())
    event_type = call_event_type(report)
    assume(event_type is not None)
    await post_report(webhook, generated.with_field(key, value), times=1)

    state = hass.states.get(CALL_ENTITY)
    assert state is not None
    assert state.attributes["event_type"] == event_type
    assert state.attributes["event_types"] == EVENT_TYPES
    assert state.attributes["friendly_name"] == "Yeastar S100 Calls"


@pytest.mark.parametrize("report_format", list(ReportFormat))
def test_strategies_cover_every_format(report_format: ReportFormat) -> None:
    """The valid-report strategy produces every report format (a guard on the generator)."""
    example = find(
        valid_reports,
        lambda generated: generated.format is report_format,
        settings=settings(FUZZ, max_examples=200),
    )
    assert parse_report(example.encode()).format is report_format
