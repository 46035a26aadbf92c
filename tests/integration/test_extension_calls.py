"""Calls per extension, as a user sees them: every scenario, in every report format.

The simulator plays each call the way the documents show the PBX reports it; the
extension's Calls event entity must fire each step exactly once, in order, with
the other party, and its Call sensor must follow.
"""

from datetime import timedelta
from typing import Any

from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.const import CONF_API_VERSION
from simulator import Scenario, SimulatedPBX
from simulator.scenarios import DEFAULT_CALLER
from tests.common import load_entry, setup_entry

EXTENSIONS = {"1000": "jayson_1000", "1001": "front_desk_1001", "1002": "kitchen_1002"}
CALLER = DEFAULT_CALLER

type Step = tuple[str, str, str | None]  # extension, event type, the other party

# What each extension's Calls entity fires, per scenario (the same in every format).
EVENTS: dict[Scenario, list[Step]] = {
    Scenario.INBOUND_ANSWERED: [
        ("1001", "ringing", CALLER),
        ("1001", "answered", CALLER),
        ("1001", "hung_up", CALLER),
    ],
    Scenario.MISSED_CALL: [
        ("1001", "ringing", CALLER),
        ("1001", "hung_up", CALLER),
        ("1001", "missed", CALLER),
    ],
    Scenario.INTERNAL_CALL: [
        ("1000", "dialing", "1001"),
        ("1001", "ringing", "1000"),
        ("1000", "answered", "1001"),
        ("1001", "answered", "1000"),
        ("1000", "hung_up", "1001"),
        ("1001", "hung_up", "1000"),
    ],
    Scenario.FAILED_CALL: [("1002", "failed", "41000")],
    Scenario.RING_GROUP: [
        ("1000", "ringing", CALLER),
        ("1001", "ringing", CALLER),
        ("1002", "ringing", CALLER),
        ("1001", "answered", CALLER),
        ("1000", "hung_up", CALLER),
        ("1002", "hung_up", CALLER),
        ("1001", "hung_up", CALLER),
    ],
    Scenario.TRANSFER: [
        ("1001", "ringing", CALLER),
        ("1001", "answered", CALLER),
        ("1001", "transferred", CALLER),
        ("1001", "hung_up", CALLER),
        ("1000", "ringing", CALLER),
        ("1000", "answered", CALLER),
        ("1000", "hung_up", CALLER),
    ],
    # The PBX forgets the call when it reboots; the next heartbeat ends it here.
    Scenario.REBOOT_MID_CALL: [
        ("1001", "ringing", CALLER),
        ("1001", "answered", CALLER),
        ("1001", "hung_up", CALLER),
    ],
}
# v1 tells an internal call its own way: ALERT names the caller alone, and the
# callee's ANSWER comes before the caller's ANSWERED.
V1_EVENTS: dict[Scenario, list[Step]] = {
    Scenario.INTERNAL_CALL: [
        ("1000", "dialing", None),
        ("1001", "ringing", "1000"),
        ("1001", "answered", "1000"),
        ("1000", "answered", "1001"),
        ("1000", "hung_up", "1001"),
        ("1001", "hung_up", "1000"),
    ],
}
# Where each extension's Call sensor goes (repeated states folded).
CALL_STATES: dict[Scenario, dict[str, list[str]]] = {
    Scenario.INBOUND_ANSWERED: {"1001": ["ringing", "talking", "idle"]},
    Scenario.MISSED_CALL: {"1001": ["ringing", "idle"]},
    # The caller's phone is busy (off the hook) a moment before the PBX reports the
    # call: the sensor waits for the call's report rather than guess "talking".
    Scenario.INTERNAL_CALL: {
        "1000": ["dialing", "talking", "idle"],
        "1001": ["ringing", "talking", "idle"],
    },
    Scenario.FAILED_CALL: {},
    Scenario.RING_GROUP: {
        "1000": ["ringing", "idle"],
        "1001": ["ringing", "talking", "idle"],
        "1002": ["ringing", "idle"],
    },
    Scenario.TRANSFER: {
        "1000": ["ringing", "talking", "idle"],
        "1001": ["ringing", "talking", "idle"],
    },
    Scenario.REBOOT_MID_CALL: {"1001": ["ringing", "talking", "idle"]},
}
MISSED = {Scenario.MISSED_CALL: {"1001": "1"}}


@pytest.fixture(params=list(ApiVersion), ids=lambda version: version.value)
async def loaded(
    request: pytest.FixtureRequest, hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> MockConfigEntry:
    """Set up the entry for the simulator with each API version (each report format)."""
    return await load_entry(hass, pbx, ha_port, request.param)


async def _play(hass: HomeAssistant, pbx: SimulatedPBX, scenario: Scenario) -> None:
    """Play the scenario, let every report arrive, and a heartbeat go."""
    await pbx.play(scenario)
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1))
    await hass.async_block_till_done()


def _steps(changes: list[Event[EventStateChangedData]]) -> list[Step]:
    """Return each extension Calls event that fired, as (extension, type, party)."""
    by_entity = {f"event.{slug}_calls": number for number, slug in EXTENSIONS.items()}
    return [
        (by_entity[change.data["entity_id"]], state.attributes["event_type"], peer)
        for change in changes
        if change.data["entity_id"] in by_entity
        and (state := change.data["new_state"]) is not None
        and change.data["old_state"] is not None
        and state.state != change.data["old_state"].state
        for peer in [state.attributes.get("peer_number")]
    ]


def _call_states(changes: list[Event[EventStateChangedData]]) -> dict[str, list[str]]:
    """Return the states each extension's Call sensor went through, repeats folded."""
    seen: dict[str, list[str]] = {}
    for number, slug in EXTENSIONS.items():
        states = [
            state.state
            for change in changes
            if change.data["entity_id"] == f"sensor.{slug}_call"
            and (state := change.data["new_state"]) is not None
        ]
        folded = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
        if folded:
            seen[number] = folded
    return seen


@pytest.mark.parametrize("scenario", list(EVENTS), ids=str)
async def test_scenario(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
    scenario: Scenario,
) -> None:
    """Each step fires once, in order, naming the other party; the sensors follow."""
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    await _play(hass, pbx, scenario)

    expected = EVENTS[scenario]
    if loaded.data[CONF_API_VERSION] != ApiVersion.V2_0_0:
        expected = V1_EVENTS.get(scenario, expected)
    assert _steps(changes) == expected
    assert _call_states(changes) == CALL_STATES[scenario]
    for number, slug in EXTENSIONS.items():
        missed = hass.states.get(f"sensor.{slug}_missed_calls")
        assert missed is not None
        assert missed.state == MISSED.get(scenario, {}).get(number, "0")
        assert hass.states.get(f"sensor.{slug}_call").state == "idle"  # type: ignore[union-attr]


async def test_caller_named_from_the_phonebook(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """An outside caller in the company phonebook rings by name, as stored there."""
    pbx.add_contact(firstname="Alice", lastname="Example", mobile=CALLER)
    await setup_entry(hass, config_entry)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    await _play(hass, pbx, Scenario.INBOUND_ANSWERED)

    ringing = next(
        change.data["new_state"]
        for change in changes
        if change.data["entity_id"] == "event.front_desk_1001_calls"
    )
    assert ringing is not None
    assert ringing.attributes["event_type"] == "ringing"
    assert ringing.attributes["peer_name"] == "Alice Example"


async def test_automation_on_one_caller_ringing(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """An automation built from the Calls entity alone (no template) runs for one caller.

    It triggers on `ringing` and checks the caller's number as a plain state
    condition on the entity's attribute: another caller, or another step of the
    call, does not run it.
    """
    await setup_entry(hass, config_entry)
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "triggers": [
                    {
                        "trigger": "event.received",
                        "target": {"entity_id": "event.front_desk_1001_calls"},
                        "options": {"event_type": ["ringing"]},
                    }
                ],
                "conditions": [
                    {
                        "condition": "state",
                        "entity_id": "event.front_desk_1001_calls",
                        "attribute": "peer_number",
                        "state": CALLER,
                    }
                ],
                "actions": [{"action": "test.automation"}],
            }
        },
    )
    await _play(hass, pbx, Scenario.INBOUND_ANSWERED)
    await pbx.play(Scenario.INBOUND_ANSWERED, caller="02188880000")
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    assert len(calls) == 1


def _attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """Return an entity's attributes; the entity must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


async def test_call_sensor_names_the_current_call(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """While Front Desk talks, its Call sensor tells with whom, over which direction."""
    await setup_entry(hass, config_entry)
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    assert hass.states.get("sensor.front_desk_1001_call").state == "talking"  # type: ignore[union-attr]
    attributes = _attributes(hass, "sensor.front_desk_1001_call")
    assert attributes["peer_number"] == CALLER
    assert attributes["direction"] == "inbound"
    assert attributes["callid"] == pbx.calls[0].callid
    assert _attributes(hass, "sensor.yeastar_s100_active_calls")["calls"][0][
        "callid"
    ] == (pbx.calls[0].callid)
