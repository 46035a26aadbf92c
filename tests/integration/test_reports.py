"""Event reports: from the PBX's POST to bus events, the call event entity and extension states."""

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import timedelta
import json
import logging
from typing import Any

import aiohttp
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.const import EVENT_YEASTAR, MAX_REPORT_SIZE
from custom_components.yeastar_s_series.sensor import REPORT_SENSOR_COOLDOWN
from simulator import Scenario, SimulatedPBX
from tests.common import SERIAL, WEBHOOK_ID, entry_data, setup_entry

type Post = Callable[[bytes | str], Awaitable[int]]

CALL_ENTITY = "event.yeastar_s100_calls"
FRONT_DESK = "sensor.front_desk_1001_status"
REPORTS_RECEIVED = "sensor.yeastar_s100_reports_received"

# The documents' own examples (yeastar-s-series-api.md), with this PBX's serial.
DOC_V2_CALLSTATUS = (
    '{"event":"CallStatus","callid":"1571897930.5","members":[{"inbound":{"from":"0123",'
    '"to":"1001","trunkname":"siptrunk","channelid":"PJSIP/trunk-0001","memberstatus":"RING"}},'
    '{"ext":{"number":"1001","channelid":"PJSIP/1001-0002","memberstatus":"RING","callpath":""}}],'
    f'"sn":"{SERIAL}"}}'
)
DOC_V102_RING = (
    '{"action":"RING","callid":"1550710849.199","call":[{"ext":{"extid":"1002"}},'
    f'{{"ext":{{"extid":"1001"}}}}],"sn":"{SERIAL}"}}'
)
DOC_V100_RING = '{"action":"RING","callid":"1495706238.328","ext":{"extid":"1000"},"ext":{"extid":"1002"}}'


@pytest.fixture
async def post(ha_port: int) -> AsyncGenerator[Post]:
    """POST a body to the entry's webhook from 127.0.0.1 (the simulated PBX's address)."""
    async with aiohttp.ClientSession() as session:

        async def _post(body: bytes | str) -> int:
            async with session.post(
                f"http://127.0.0.1:{ha_port}/api/webhook/{WEBHOOK_ID}",
                data=body.encode() if isinstance(body, str) else body,
                headers={"Content-Type": "application/json", "User-Agent": "WebAPI"},
            ) as response:
                return response.status

        yield _post


@pytest.fixture
async def loaded(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """Set up the entry for the simulator."""
    await setup_entry(hass, config_entry)
    return config_entry


def names(events: list[Event[Any]]) -> list[str]:
    """Return the report names of captured bus events."""
    return [event.data["event"] for event in events]


def _new_states(
    changes: list[Event[EventStateChangedData]], entity_id: str
) -> list[State]:
    """Return the states one entity took, in the order they were written."""
    return [
        state
        for change in changes
        if change.data["entity_id"] == entity_id
        and (state := change.data["new_state"]) is not None
    ]


async def deliver(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Wait until the PBX delivered every report and Home Assistant handled them."""
    await pbx.wait_delivered()
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("api_version", "call_names", "serial"),
    [
        (ApiVersion.V2_0_0, ["CallStatus", "CallStatus", "CallStatus"], SERIAL),
        # The documents' v1 flow; its two BYE reports are the same body, and the
        # receiver takes the second for a re-send.
        (ApiVersion.V1_1_0, ["ALERT", "RING", "ANSWER", "ANSWERED", "BYE"], SERIAL),
        (ApiVersion.V1_0_0, ["ALERT", "RING", "ANSWER", "ANSWERED", "BYE"], None),
    ],
)
async def test_inbound_call_in_every_format(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    api_version: ApiVersion,
    call_names: list[str],
    serial: str | None,
) -> None:
    """An answered inbound call fires its reports in order, whatever the report format."""
    entry = MockConfigEntry(
        domain=config_entry.domain,
        title=config_entry.title,
        unique_id=SERIAL,
        data=entry_data(pbx, api_version=api_version.value),
        options=config_entry.options,
    )
    await setup_entry(hass, entry)
    events = async_capture_events(hass, EVENT_YEASTAR)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    await pbx.play(Scenario.INBOUND_ANSWERED, extension="1001", caller="0123456789")
    await deliver(hass, pbx)

    call_events = [
        e for e in events if e.data["event"] not in ("ExtensionStatus", "NewCdr")
    ]
    assert names(call_events) == call_names
    assert names(events)[-1] == "NewCdr"
    device = dr.async_get(hass).async_get_device_by_identifier(
        ("yeastar_s_series", SERIAL), entry.entry_id
    )
    assert device is not None
    for event in events:
        assert event.data["config_entry_id"] == entry.entry_id
        assert event.data["device_id"] == device.id
        assert event.data["sn"] == serial
    # v1's first report, ALERT, names the caller alone; the ring names both.
    ring = next(e.data for e in call_events if e.data["event"] != "ALERT")
    assert ring["callid"] == events[-1].data["callid"]
    parties = {(party["type"], party["number"]) for party in ring["parties"]}
    assert ("ext", "1001") in parties
    # The extension rang, was busy, and is free again; the call record closes the call.
    assert [state.state for state in _new_states(changes, FRONT_DESK)] == [
        "ringing",
        "busy",
        "registered",
    ]
    call = hass.states.get(CALL_ENTITY)
    assert call is not None
    assert call.attributes["event_type"] == "call_record"
    assert call.attributes["status"] == "ANSWERED"
    assert call.attributes["callfrom"] == "0123456789"


@pytest.mark.parametrize(
    ("scenario", "event_types"),
    [
        (Scenario.MISSED_CALL, ["ringing", "hung_up", "call_record"]),
        (Scenario.INTERNAL_CALL, ["ringing", "answered", "hung_up", "call_record"]),
        (Scenario.FAILED_CALL, ["failed", "call_record"]),
    ],
)
async def test_call_event_entity(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
    scenario: Scenario,
    event_types: list[str],
) -> None:
    """The call event entity fires the event types automations are built on."""
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    await pbx.play(scenario)
    await deliver(hass, pbx)
    fired = [
        state.attributes.get("event_type")
        for state in _new_states(changes, CALL_ENTITY)
    ]
    # v2 CallStatus reports name the most decisive party status; repeats are fine.
    fired = fired[: fired.index(None)] if None in fired else fired
    assert [
        t for i, t in enumerate(fired) if i == 0 or fired[i - 1] != t
    ] == event_types


async def test_document_examples(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry, post: Post
) -> None:
    """The documents' example payloads become events with every party kept."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    await setup_entry(hass, config_entry)
    for api_version, body in (
        (ApiVersion.V2_0_0, DOC_V2_CALLSTATUS),
        (ApiVersion.V1_1_0, DOC_V102_RING),
        (ApiVersion.V1_0_0, DOC_V100_RING),
    ):
        # Each format reaches an entry whose login asked the PBX for it.
        hass.config_entries.async_update_entry(
            config_entry, data=entry_data(pbx, api_version=api_version.value)
        )
        await hass.config_entries.async_reload(config_entry.entry_id)
        assert await post(body) == 200
        await hass.async_block_till_done()

    assert names(events) == ["CallStatus", "RING", "RING"]
    v2, v102, v100 = (event.data for event in events)
    assert [(p["type"], p["number"], p["status"]) for p in v2["parties"]] == [
        ("inbound", "0123", "RING"),
        ("ext", "1001", "RING"),
    ]
    assert v2["members"][0]["inbound"]["trunkname"] == "siptrunk"
    assert [p["number"] for p in v102["parties"]] == ["1002", "1001"]
    assert v102["action"] == "RING"
    # The old format repeats the `ext` key: both parties survive.
    assert [p["number"] for p in v100["parties"]] == ["1000", "1002"]
    assert v100["callid"] == "1495706238.328"
    assert v100["sn"] is None


async def test_resent_report_fires_once(
    hass: HomeAssistant, loaded: MockConfigEntry, post: Post
) -> None:
    """A report the PBX re-sends fires once; a real repeat of a status still fires."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    registered = json.dumps(
        {
            "event": "ExtensionStatus",
            "extension": "1001",
            "status": "Registered",
            "sn": SERIAL,
        }
    )
    busy = registered.replace("Registered", "Busy")
    for body in (busy, busy, registered, registered, busy, registered):
        assert await post(body) == 200
    await hass.async_block_till_done()

    assert [event.data["status"] for event in events] == [
        "Busy",
        "Registered",
        "Busy",
        "Registered",
    ]
    stats = loaded.runtime_data.receiver.stats
    assert (stats.accepted, stats.duplicates) == (4, 2)
    state = hass.states.get(FRONT_DESK)
    assert state is not None
    assert state.state == "registered"


def _v2(**fields: Any) -> bytes:
    """Write a v2 report of this PBX with extra fields (json.dumps writes NaN as such)."""
    return json.dumps({"event": "NewCdr", **fields, "sn": SERIAL}).encode()


@pytest.mark.parametrize(
    ("body", "counter"),
    [
        (b"\xff\xfe not utf-8", "invalid"),
        (b"not json", "invalid"),
        (b"[1, 2]", "invalid"),
        (b'"RING"', "invalid"),
        (b"{}", "invalid"),
        (b'{"event": 5}', "invalid"),
        (b'{"action": ""}', "invalid"),
        (b'{"event": "CallStatus", "callid": 12}', "invalid"),
        (b'{"event": "CallStatus", "members": {"ext": {}}}', "invalid"),
        (b'{"event": "CallStatus", "members": [{"ext": "1001"}]}', "invalid"),
        (b"[" * 60_000, "invalid"),
        (
            json.dumps({"event": "BootUp", "pad": "x" * MAX_REPORT_SIZE}).encode(),
            "invalid",
        ),
        # What Home Assistant cannot write as JSON (events, states, the recorder).
        (_v2(callfrom="Caller \ud83d"), "invalid"),
        (_v2(**{"Caller \udc00": "key"}), "invalid"),
        (_v2(callduraction=float("nan")), "invalid"),
        (_v2(callduraction=float("inf")), "invalid"),
        (_v2(callduraction=float("-inf")), "invalid"),
        (_v2(talkduraction=1).replace(b"1", b"1e400", 1), "invalid"),
        (_v2(cdrid=2**64), "invalid"),
        (_v2(cdrid=-(2**63) - 1), "invalid"),
        # Not from this PBX: another serial, no serial, another report format.
        (json.dumps({"event": "BootUp", "sn": "999999999999"}).encode(), "refused"),
        (json.dumps({"event": "BootUp"}).encode(), "refused"),
        (DOC_V100_RING.encode(), "refused"),
        (DOC_V102_RING.encode(), "refused"),
    ],
    ids=lambda value: (
        value[:40].decode(errors="replace") if isinstance(value, bytes) else None
    ),
)
async def test_bad_bodies_fire_nothing(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
    post: Post,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    counter: str,
) -> None:
    """What is not a report of this PBX gets 200 (no re-sends), is counted, and fires nothing."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    logins = pbx.stats.login_attempts
    caplog.set_level(logging.DEBUG, logger="custom_components.yeastar_s_series")

    assert await post(body) == 200
    assert await post(body) == 200
    await hass.async_block_till_done()

    assert events == []
    stats = loaded.runtime_data.receiver.stats
    assert stats.accepted == 0
    assert getattr(stats, counter) == 2
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "report" in r.message
    ]
    assert len(warnings) == 1, "one warning per kind of problem, then debug"
    assert pbx.stats.login_attempts == logins, "a spoofed BootUp must not cause a login"
    assert loaded.runtime_data.coordinator.client.logged_in


async def test_unwritable_report_leaves_the_api_working(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    post: Post,
    hass_client: ClientSessionGenerator,
) -> None:
    """A call record with a lone surrogate in it neither fires nor breaks /api/states.

    Had it reached the Calls entity, Home Assistant could not encode its states any
    more (HTTP 500 until the next call) and would log every refresh token trying.
    """
    assert await post(_v2(callid="1.1", callfrom="Caller \ud83d")) == 200
    await hass.async_block_till_done()

    client = await hass_client()
    response = await client.get("/api/states")
    assert response.status == 200
    assert CALL_ENTITY in {state["entity_id"] for state in await response.json()}


async def test_report_from_another_address_refused(
    hass: HomeAssistant, loaded: MockConfigEntry, ha_port: int
) -> None:
    """Only the PBX may post reports: a valid report from another host is refused."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(
            f"http://127.0.0.1:{ha_port}/api/webhook/{WEBHOOK_ID}",
            data=DOC_V2_CALLSTATUS,
        ) as response,
    ):
        assert response.status == 403
    await hass.async_block_till_done()

    assert events == []
    assert loaded.runtime_data.receiver.stats.refused == 1


async def test_webhook_over_the_websocket_api_refused(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`webhook/handle` (any signed-in user may send it) is not the PBX: refused, no traceback."""
    events = async_capture_events(hass, EVENT_YEASTAR)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "webhook/handle",
            "webhook_id": WEBHOOK_ID,
            "method": "POST",
            "body": DOC_V2_CALLSTATUS,
        }
    )
    response = await client.receive_json()
    await hass.async_block_till_done()

    assert response["success"]
    assert response["result"]["status"] == 403
    assert events == []
    assert loaded.runtime_data.receiver.stats.refused == 1
    assert not [record for record in caplog.records if record.exc_info]


async def test_new_and_removed_extensions(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
    post: Post,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Extensions added on the PBX appear; deleted ones disappear with their device."""
    pbx.add_extension("1004", "Lobby")
    await pbx.set_extension_status("1004", "Ringing")
    await deliver(hass, pbx)
    await hass.async_block_till_done()

    lobby = hass.states.get("sensor.lobby_1004_status")
    assert lobby is not None
    assert lobby.state == "ringing"  # read from the refreshed list
    assert device_registry.async_get_device_by_identifier(
        ("yeastar_s_series", f"{SERIAL}_1004"), loaded.entry_id
    )

    pbx.remove_extension("1002")
    config_change = {"event": "ConfigChange", "type": "extension", "operation": "del"}
    assert await post(json.dumps({**config_change, "sn": SERIAL})) == 200
    # Refreshes the PBX asks for are debounced (10 s), so a burst costs one list read.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()

    assert (
        device_registry.async_get_device_by_identifier(
            ("yeastar_s_series", f"{SERIAL}_1002"), loaded.entry_id
        )
        is None
    )
    assert hass.states.get("sensor.kitchen_1002_status") is None
    assert entity_registry.async_get("sensor.kitchen_1002_status") is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_report_counters_write_at_most_once_per_cooldown(
    hass: HomeAssistant, loaded: MockConfigEntry, post: Post
) -> None:
    """A burst of reports shows on the counters at once and after the cooldown, not per report."""
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    for number in range(10):
        body = {
            "event": "ExtensionStatus",
            "extension": "1001",
            "status": "Busy",
            "n": number,
        }
        assert await post(json.dumps({**body, "sn": SERIAL})) == 200
    await hass.async_block_till_done()
    writes = _new_states(changes, REPORTS_RECEIVED)
    assert [state.state for state in writes] == ["1"]  # the first, at once

    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=REPORT_SENSOR_COOLDOWN + 1)
    )
    await hass.async_block_till_done()

    writes = _new_states(changes, REPORTS_RECEIVED)
    assert [state.state for state in writes] == ["1", "10"]  # the rest, in one write
