"""The integration in a real Home Assistant, driven only through Home Assistant's own APIs.

One Home Assistant process serves the whole module (plus one restart): the tests run
in file order and each builds on the state the previous ones left, as a user would.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
import functools
import http.server
from pathlib import Path
import re
import threading
from typing import Any

import aiohttp
import pytest

from devtools.clients import HassClient, is_connection_sensor

from .common import calls_entity
from .conftest import HassProcess, PbxEntry

pytestmark = pytest.mark.e2e

EVENT = "yeastar_s_series_event"


BLUEPRINTS = (
    Path(__file__).parents[2] / "blueprints" / "automation" / "yeastar_s_series"
)


def extension_sensor(number: str) -> Callable[[str], bool]:
    """Match the Status sensor of one extension (``sensor.<name>_<number>_status``)."""
    return lambda entity_id: (
        entity_id.startswith("sensor.") and entity_id.endswith(f"_{number}_status")
    )


@contextlib.asynccontextmanager
async def subscribed(
    hass: HassProcess, *event_types: str
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Open Home Assistant's websocket as the owner and subscribe to ``event_types``."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{hass.url}/api/websocket") as ws,
    ):
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": hass.token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for message_id, event_type in enumerate(event_types, start=1):
            await ws.send_json(
                {"id": message_id, "type": "subscribe_events", "event_type": event_type}
            )
            answer = await ws.receive_json()
            assert answer["success"], answer
        yield ws


async def events_until(
    ws: aiohttp.ClientWebSocketResponse,
    last: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> list[dict[str, Any]]:
    """Collect the bus events the websocket delivers, up to the one ``last`` accepts."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive_json()
            if message["type"] != "event":
                continue
            events.append(message["event"])
            if last(message["event"]):
                return events


def is_call_record(callid: str) -> Callable[[dict[str, Any]], bool]:
    """Match the call entity's change for one call's record, the very last of a call.

    The integration fires the record's bus event before it updates the entity.
    """
    return lambda event: (
        event["event_type"] == "state_changed"
        and calls_entity(event["data"]["entity_id"])
        and event["data"]["new_state"]["attributes"].get("callid") == callid
        and event["data"]["new_state"]["attributes"]["event_type"] == "call_record"
    )


def status_changes(events: list[dict[str, Any]], number: str) -> list[str]:
    """Return the states one extension's Status sensor went through."""
    matches = extension_sensor(number)
    return [
        event["data"]["new_state"]["state"]
        for event in events
        if event["event_type"] == "state_changed"
        and matches(event["data"]["entity_id"])
        and event["data"]["new_state"] is not None
    ]


def test_onboarding(onboarded: HassProcess) -> None:
    """Onboarding through the REST API finishes every step and yields a working token."""
    assert onboarded.api.is_onboarded()
    assert onboarded.api.request("GET", "/api/") == {"message": "API running."}
    assert onboarded.owner is not None
    # The owner can log in again with the login form's flow.
    again = HassClient(onboarded.url)
    again.login(onboarded.owner)
    assert again.request("GET", "/api/config")["state"] == "RUNNING"


def test_config_flow_adds_the_pbx(configured: PbxEntry) -> None:
    """The config flow against the simulator creates a loaded entry, connected, with devices."""
    api = configured.hass.api
    assert configured.flow_result["title"] == "Yeastar S100 (127.0.0.1)"
    [entry] = api.entries()
    assert entry["entry_id"] == configured.entry_id
    assert entry["state"] == "loaded"
    connection = api.find_state(is_connection_sensor)
    assert connection is not None
    assert connection["state"] == "connected"
    front_desk = api.find_state(extension_sensor("1001"))
    assert front_desk is not None
    assert front_desk["state"] == "registered"
    assert front_desk["attributes"]["friendly_name"] == "Front Desk (1001) Status"
    assert api.find_state(calls_entity) is not None


async def test_calls_fire_events_and_update_entities(configured: PbxEntry) -> None:
    """Played calls arrive as yeastar_s_series_event and move the entities' states."""
    hass, control = configured.hass, configured.simulator.control
    async with subscribed(hass, EVENT, "state_changed") as ws:
        reports = await asyncio.to_thread(control.play, "inbound_answered")
        callid = reports[1]["callid"]
        events = await events_until(ws, is_call_record(callid))

        pbx_events = [e["data"] for e in events if e["event_type"] == EVENT]
        assert [e["event"] for e in pbx_events] == [r["report"] for r in reports]
        assert [e["callid"] for e in pbx_events if e["event"] != "ExtensionStatus"] == [
            callid
        ] * 4
        ringing = pbx_events[1]
        assert ringing["config_entry_id"] == configured.entry_id
        assert ringing["sn"] == "369364835218"
        assert [(p["type"], p["number"], p["status"]) for p in ringing["parties"]] == [
            ("inbound", "13800000000", "RING"),
            ("ext", "1001", "RING"),
        ]
        record = pbx_events[-1]
        assert (record["status"], record["type"], record["callfrom"]) == (
            "ANSWERED",
            "Inbound",
            "13800000000",
        )
        assert status_changes(events, "1001") == ["ringing", "busy", "registered"]
        call_types = [
            e["data"]["new_state"]["attributes"]["event_type"]
            for e in events
            if e["event_type"] == "state_changed"
            and calls_entity(e["data"]["entity_id"])
        ]
        assert call_types == ["ringing", "answered", "hung_up", "call_record"]

        reports = await asyncio.to_thread(control.play, "missed_call", extension="1002")
        callid = reports[1]["callid"]
        events = await events_until(ws, is_call_record(callid))

    pbx_events = [e["data"] for e in events if e["event_type"] == EVENT]
    assert [e["event"] for e in pbx_events] == [
        "ExtensionStatus",
        "CallStatus",
        "CallStatus",
        "ExtensionStatus",
        "NewCdr",
    ]
    assert pbx_events[-1]["status"] == "NO ANSWERED"
    # 1002 is an analog (FXS) extension: the PBX says "Idle" for it, not "Registered".
    assert status_changes(events, "1002") == ["ringing", "idle"]
    calls = hass.api.find_state(calls_entity)
    assert calls is not None
    assert calls["attributes"]["event_type"] == "call_record"
    assert calls["attributes"]["callid"] == callid
    assert calls["attributes"]["status"] == "NO ANSWERED"


async def test_an_automation_made_in_the_editor_loads_and_fires(
    configured: PbxEntry,
) -> None:
    """The automation editor's save (config API): it loads, and a ringing call fires it."""
    hass, control = configured.hass, configured.simulator.control
    config = {
        "alias": "Front desk rings",
        "triggers": [
            {
                "trigger": "state",
                "entity_id": "sensor.front_desk_1001_call",
                "to": "ringing",
            }
        ],
        "actions": [
            {
                "event": "e2e_front_desk_rings",
                "event_data": {
                    "caller": "{{ trigger.to_state.attributes.peer_number }}"
                },
            }
        ],
    }
    saved = hass.api.request("POST", "/api/config/automation/config/e2e_rings", config)
    assert saved == {"result": "ok"}
    automation = hass.api.wait_for_state(
        lambda entity_id: entity_id == "automation.front_desk_rings", "on", timeout=30
    )
    assert automation["attributes"]["id"] == "e2e_rings"

    async with subscribed(hass, "e2e_front_desk_rings") as ws:
        await asyncio.to_thread(
            control.play, "missed_call", extension="1001", caller="0123456789"
        )
        [fired] = await events_until(ws, lambda event: True)
    assert fired["data"] == {"caller": "0123456789"}


async def test_dial_over_the_websocket_returns_the_call(configured: PbxEntry) -> None:
    """The frontend's way of running an action: dial answers with the new call's id."""
    hass, control = configured.hass, configured.simulator.control
    async with subscribed(hass) as ws:
        await ws.send_json({"id": 1, "type": "config/device_registry/list"})
        devices = (await ws.receive_json())["result"]
        [front_desk] = [d for d in devices if d["name"] == "Front Desk (1001)"]
        await ws.send_json(
            {
                "id": 2,
                "type": "call_service",
                "domain": "yeastar_s_series",
                "service": "dial",
                "service_data": {"device_id": front_desk["id"], "callee": "1000"},
                "return_response": True,
            }
        )
        answer = await ws.receive_json()
    assert answer["success"], answer
    callid = answer["result"]["response"]["callid"]
    assert [call["callid"] for call in control.state()["calls"]] == [callid]


@contextlib.contextmanager
def served_file(path: Path) -> Iterator[str]:
    """Serve one file over loopback HTTP, as a blueprint's page on the web would."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(path.parent)
    )
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
        finally:
            server.shutdown()


async def test_missed_call_blueprint_imported_and_used(configured: PbxEntry) -> None:
    """Import the blueprint by URL, make an automation of it: a missed call notifies."""
    hass, control = configured.hass, configured.simulator.control
    with served_file(BLUEPRINTS / "missed_call_notification.yaml") as url:
        async with subscribed(hass) as ws:
            await ws.send_json({"id": 1, "type": "blueprint/import", "url": url})
            imported = (await ws.receive_json())["result"]
            assert imported["validation_errors"] is None
            await ws.send_json(
                {
                    "id": 2,
                    "type": "blueprint/save",
                    "domain": "automation",
                    "path": "yeastar_s_series/missed_call_notification.yaml",
                    "yaml": imported["raw_data"],
                    "source_url": url,
                }
            )
            assert (await ws.receive_json())["success"]
    config = {
        "alias": "Missed calls at the front desk",
        "use_blueprint": {
            "path": "yeastar_s_series/missed_call_notification.yaml",
            "input": {"calls_entity": ["event.front_desk_1001_calls"]},
        },
    }
    saved = hass.api.request("POST", "/api/config/automation/config/e2e_missed", config)
    assert saved == {"result": "ok"}
    hass.api.wait_for_state(
        lambda entity_id: entity_id == "automation.missed_calls_at_the_front_desk",
        "on",
        timeout=30,
    )

    await asyncio.to_thread(control.play, "missed_call", extension="1001")

    async def missed() -> list[dict[str, Any]]:
        async with subscribed(hass) as ws:
            await ws.send_json({"id": 1, "type": "persistent_notification/get"})
            result: list[dict[str, Any]] = (await ws.receive_json())["result"]
            return [n for n in result if n["title"] == "Missed call"]

    async with asyncio.timeout(30):
        while not (found := await missed()):
            await asyncio.sleep(0.5)
    [notification] = found
    assert "13800000000" in notification["message"]
    assert "Front Desk (1001)" in notification["message"]


def test_restart_keeps_the_pbx(configured: PbxEntry) -> None:
    """After a restart the entry loads again, logs in again, and reports still arrive."""
    hass, control = configured.hass, configured.simulator.control
    before = control.state()["stats"]
    hass.stop()
    assert control.state()["stats"]["logouts"] == before["logouts"] + 1
    assert control.state()["sessions"] == []

    hass.start()
    hass.api.wait_for_state(is_connection_sensor, "connected", timeout=60)
    [entry] = hass.api.entries()
    assert entry["state"] == "loaded"
    assert control.reports_go_to(f"{hass.url}/")
    assert (
        control.state()["stats"]["successful_logins"] == before["successful_logins"] + 1
    )

    control.play("extension_status", extension="1002", status="Busy")
    hass.api.wait_for_state(extension_sensor("1002"), "busy")


def test_removing_the_entry_logs_out(configured: PbxEntry) -> None:
    """Deleting the entry logs out of the PBX and removes its entities."""
    hass, control = configured.hass, configured.simulator.control
    logouts = control.state()["stats"]["logouts"]
    answer = hass.api.request(
        "DELETE", f"/api/config/config_entries/entry/{configured.entry_id}"
    )
    assert answer == {"require_restart": False}
    assert hass.api.entries() == []
    state = control.state()
    assert state["stats"]["logouts"] == logouts + 1
    assert state["sessions"] == []
    connection = hass.api.find_state(is_connection_sensor)
    assert connection is None or connection["state"] == "unavailable"


def test_no_errors_from_the_integration(hass_process: HassProcess) -> None:
    """Nothing the integration logged along the way is a warning or an error."""
    problems = re.findall(
        r"^.* (?:WARNING|ERROR|CRITICAL) \(\w+\) \[custom_components\.yeastar_s_series[^\]]*\].*$",
        hass_process.log(),
        flags=re.MULTILINE,
    )
    assert problems == []
