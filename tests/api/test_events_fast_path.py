"""The fast report parse (orjson's or the standard library's) agrees with the exact one.

`parse_report` takes a fast parser's dicts only when they cannot differ from what the
exact parse (every key kept, then checked) makes of the body; these tests compare the
two on the inputs where JSON parsers differ: repeated keys, big integers, floats, NaN,
lone surrogates, bad UTF-8 and deep nesting.
"""

from collections.abc import Callable
from functools import partial
import json

from hypothesis import given, settings, strategies as st
import orjson
import pytest

from custom_components.yeastar_s_series.api import Report, ReportParseError, events
from custom_components.yeastar_s_series.api.events import (
    MAX_DEPTH,
    JsonLoads,
    parse_report,
)

from .test_events import V2_CALL_STATUS, V100_RING, V102_RING

PROPERTY_SETTINGS = settings(max_examples=500, deadline=None, database=None)
# Home Assistant's (the webhook passes it) and the default.
FAST_PARSERS: tuple[JsonLoads, ...] = (orjson.loads, events._loads_utf8)


def _outcome(parse: Callable[[bytes | str], Report], body: bytes | str) -> str:
    """Say what a parse gives, in text that tells 1, 1.0 and True apart."""
    try:
        return repr(parse(body))
    except ReportParseError as err:
        return f"ReportParseError: {err}"


def _assert_same_as_exact(body: bytes | str) -> None:
    """Both fast parsers give what the exact parse gives, report or error."""
    expected = _outcome(events._parse_exact, body)
    for loads in FAST_PARSERS:
        assert _outcome(partial(parse_report, loads=loads), body) == expected


# JSON text written by hand, so that objects can repeat keys at any level.
NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2).map(str),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
    st.sampled_from(["1e400", "-1e400", "-0", "-0.0", "1E5", "0.1e-400", "9" * 30]),
)
# Lone surrogates come out escaped, or raw (invalid UTF-8 once encoded).
STRINGS = st.builds(json.dumps, st.text(max_size=10), ensure_ascii=st.booleans())
KEYS = (
    st.sampled_from(
        [
            "event",
            "action",
            "callid",
            "sn",
            "members",
            "call",
            "ext",
            "inbound",
            "outbound",
        ]
    ).map(json.dumps)
    | STRINGS
)
SCALARS = NUMBERS | STRINGS | st.sampled_from(["true", "false", "null"])


def _object(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(KEYS, values), max_size=5).map(
        lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
    )


def _array(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, max_size=4).map(lambda items: "[" + ",".join(items) + "]")


VALUES = st.recursive(
    SCALARS, lambda children: _object(children) | _array(children), max_leaves=25
)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@PROPERTY_SETTINGS
@given(_object(VALUES))
def test_any_object_parses_as_the_exact_parse_does(text: str) -> None:
    """Report-like objects, repeated keys, odd numbers and strings included."""
    _assert_same_as_exact(_encode(text))
    _assert_same_as_exact(text)


@PROPERTY_SETTINGS
@given(
    name=STRINGS,
    members=st.lists(
        st.tuples(
            st.sampled_from(["ext", "inbound", "outbound"]).map(json.dumps),
            _object(VALUES),
        ),
        max_size=4,
    ),
    extra=st.lists(st.tuples(KEYS, VALUES), max_size=3),
)
def test_any_v2_report_parses_as_the_exact_parse_does(
    name: str, members: list[tuple[str, str]], extra: list[tuple[str, str]]
) -> None:
    """v2 reports whose members and fields hold anything."""
    items = [
        f'"event":{name}',
        '"members":['
        + ",".join(f"{{{kind}:{fields}}}" for kind, fields in members)
        + "]",
        *(f"{key}:{value}" for key, value in extra),
    ]
    _assert_same_as_exact(_encode("{" + ",".join(items) + "}"))


@PROPERTY_SETTINGS
@given(st.binary(max_size=200) | VALUES.map(_encode))
def test_any_bytes_parse_as_the_exact_parse_does(body: bytes) -> None:
    """Random bytes and any JSON value, objects or not."""
    _assert_same_as_exact(body)


EDGE_CASES = {
    "v2 example": V2_CALL_STATUS,
    "1.0.2 example": V102_RING,
    "old format, repeated party keys": V100_RING,
    "repeated inner keys": b'{"event":"X","a":{"k":1,"j":2,"k":3}}',
    "repeated top-level keys": b'{"event":"X","event":"Y","callid":"1","callid":"2"}',
    "integer above 64 bits": b'{"event":"X","n":18446744073709551616}',
    "integer below -2**63": b'{"event":"X","n":-9223372036854775809}',
    "64-bit integers": b'{"event":"X","n":[18446744073709551615,-9223372036854775808]}',
    "float": b'{"event":"X","n":1.5}',
    "float overflow": b'{"event":"X","n":1e400}',
    "NaN": b'{"event":"X","n":NaN}',
    "Infinity": b'{"event":"X","n":[Infinity,-Infinity]}',
    "lone surrogate escape": b'{"event":"X","s":"\\ud800"}',
    "encoded surrogate": b'{"event":"X","s":"\xed\xa0\x80"}',
    "overlong UTF-8": b'{"event":"X","s":"\xc0\xaf"}',
    "Latin-1": b'{"event":"\xe9"}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"event":"X"}',
    "UTF-16": '{"event":"X"}'.encode("utf-16"),
    "control character": b'{"event":"X","s":"\x01"}',
    "not an object": b'["event","X"]',
    "no name": b'{"callid":"1"}',
    "party list not a list": b'{"event":"X","members":{"ext":{}}}',
    "deep in a member": (
        b'{"event":"X","members":[{"ext":{"a":' + b"[" * 20 + b"]" * 20 + b"}}]}"
    ),
    "deeper than orjson allows": (
        b'{"event":"X","a":' + b"[" * 2000 + b"]" * 2000 + b"}"
    ),
}


@pytest.mark.parametrize("body", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_parse_as_the_exact_parse_does(body: bytes) -> None:
    """Inputs on which JSON parsers differ give the exact parse's report or error."""
    _assert_same_as_exact(body)


@pytest.mark.parametrize("depth", range(MAX_DEPTH - 3, MAX_DEPTH + 3))
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
def test_nesting_around_the_limit(depth: int, opening: str, closing: str) -> None:
    """The depth limit holds on the fast path exactly where the exact parse puts it."""
    nested = opening * depth + "1" + closing * depth
    _assert_same_as_exact(f'{{"event":"X","a":{nested}}}'.encode())
    _assert_same_as_exact(f'{{"event":"X","members":[{{"ext":{nested}}}]}}'.encode())


def test_big_integers_stay_integers() -> None:
    """Integers beyond 64 bits, which orjson reads as floats, stay exact in the report."""
    report = parse_report(b'{"event":"X","n":18446744073709551616}', loads=orjson.loads)

    assert report.fields["n"] == 2**64
    assert type(report.fields["n"]) is int


def test_common_reports_skip_the_exact_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook's usual reports are read by the fast parser alone: that is the point."""

    def _exact(body: bytes | str) -> Report:
        raise AssertionError("the exact parse ran")

    monkeypatch.setattr(events, "_parse_exact", _exact)
    for loads in FAST_PARSERS:
        assert parse_report(V2_CALL_STATUS, loads=loads).name == "CallStatus"
        assert parse_report(V102_RING, loads=loads).name == "RING"
        with pytest.raises(AssertionError, match="exact parse ran"):
            parse_report(V100_RING, loads=loads)
