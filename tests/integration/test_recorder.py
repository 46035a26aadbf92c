"""What the recorder keeps of a call: the states, not the ids that change every call."""

from typing import Any

from homeassistant.components.recorder import history
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from simulator import Scenario, SimulatedPBX
from tests.common import setup_entry

ENTITIES = (
    "event.yeastar_s100_calls",
    "event.front_desk_1001_calls",
    "sensor.front_desk_1001_call",
)


async def test_call_ids_are_not_recorded(
    hass: HomeAssistant,
    recorder_mock: Any,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
) -> None:
    """A call's states reach history without its callid (a new row each call otherwise)."""
    await setup_entry(hass, config_entry)
    since = dt_util.utcnow()
    await pbx.play(Scenario.INBOUND_ANSWERED, extension="1001")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    # The live states have the ids, for automations.
    live = hass.states.get("sensor.front_desk_1001_call")
    assert live is not None
    assert live.attributes["callid"] is None  # the call ended
    calls = hass.states.get("event.front_desk_1001_calls")
    assert calls is not None
    assert calls.attributes["callid"]
    await async_wait_recording_done(hass)

    recorded = await get_instance(hass).async_add_executor_job(
        history.get_significant_states, hass, since, None, list(ENTITIES)
    )

    assert set(recorded) == set(ENTITIES)
    for entity_id, states in recorded.items():
        assert states, entity_id
        for state in states:
            assert isinstance(state, State)
            assert "callid" not in state.attributes, entity_id
            assert "parties" not in state.attributes, entity_id
