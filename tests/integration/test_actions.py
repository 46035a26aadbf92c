"""Call actions through Home Assistant's service layer, against the simulated PBX.

Each test asserts what the PBX received and what the user then sees: the answer
of the action, its error in words, the entities and events that follow.
"""

from typing import Any

from homeassistant.auth.models import User
from homeassistant.components.automation.const import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import ATTR_DEVICE_ID, EVENT_STATE_CHANGED
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.const import CONF_DOOR_STATIONS, DOMAIN
from custom_components.yeastar_s_series.errors import ERRNO_KEYS
from simulator import Scenario, SimulatedPBX
from simulator.scenarios import DEFAULT_CALLER
from tests.common import ENTRY_ID, SERIAL, load_entry

OUTSIDE = "0123456789"


def device(hass: HomeAssistant, number: str | None = None) -> str:
    """Return the device id of an extension, or of the PBX."""
    key = SERIAL if number is None else f"{SERIAL}_{number}"
    found = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, key), ENTRY_ID)
    assert found is not None, key
    return found.id


async def act(
    hass: HomeAssistant,
    action: str,
    context: Context | None = None,
    **data: Any,
) -> Any:
    """Run one of the integration's actions as a user would, and wait for its reports."""
    response = await hass.services.async_call(
        DOMAIN,
        action,
        data,
        blocking=True,
        context=context,
        return_response=action in ("dial", "play_prompt"),
    )
    await hass.async_block_till_done()
    return response


async def settle(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Let the PBX's reports arrive and Home Assistant handle them."""
    await pbx.wait_delivered()
    await hass.async_block_till_done()


def requests(pbx: SimulatedPBX, endpoint: str) -> list[dict[str, Any] | None]:
    """Return the bodies of the requests the PBX received at an endpoint."""
    return [r.body for r in pbx.received if r.endpoint == endpoint]


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; the entity must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


DIAL_REQUESTS = {
    ApiVersion.V2_0_0: (
        "call/dial",
        {"caller": "1001", "callee": "1000", "autoanswer": "no"},
    ),
    ApiVersion.V1_1_0: (
        "extension/dial_extension",
        {"caller": "1001", "callee": "1000", "autoanswer": "no"},
    ),
    ApiVersion.V1_0_0: (
        "extension/dial_extension",
        {"caller": "1001", "callee": "1000", "autoanswer": "no"},
    ),
}
HANG_UP_REQUESTS = {
    ApiVersion.V2_0_0: "call/hangup",
    ApiVersion.V1_1_0: "extension/hangup",
    ApiVersion.V1_0_0: "extension/hangup",
}


@pytest.mark.parametrize("version", list(ApiVersion), ids=str)
async def test_dial_then_hang_up_with_the_button(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, version: ApiVersion
) -> None:
    """Dial answers the call's id; the phone rings, and its Hang up button ends the call."""
    await load_entry(hass, pbx, ha_port, version)

    response = await act(hass, "dial", device_id=device(hass, "1001"), callee="1000")
    await settle(hass, pbx)

    endpoint, body = DIAL_REQUESTS[version]
    assert requests(pbx, endpoint) == [body]
    (call,) = pbx.calls
    assert response == {"callid": call.callid}
    # The PBX rings the caller's phone first.
    assert state(hass, "sensor.front_desk_1001_call") == "ringing"
    await pbx.pick_up("1001")
    await pbx.pick_up("1000")
    await settle(hass, pbx)
    assert state(hass, "sensor.front_desk_1001_call") == "talking"

    async def press() -> None:
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": "button.front_desk_1001_hang_up"},
            blocking=True,
        )

    await press()
    await settle(hass, pbx)

    assert len(requests(pbx, HANG_UP_REQUESTS[version])) == 1
    assert pbx.calls == []
    assert state(hass, "sensor.front_desk_1001_call") == "idle"
    assert state(hass, "sensor.jayson_1000_call") == "idle"
    # No call left: the press says so (v1 acts by extension number: the PBX says it).
    with pytest.raises(HomeAssistantError) as no_call:
        await press()
    if version is ApiVersion.V2_0_0:
        assert isinstance(no_call.value, ServiceValidationError)
        assert no_call.value.translation_key == "no_call"
        assert len(requests(pbx, HANG_UP_REQUESTS[version])) == 1
    else:
        assert no_call.value.translation_key == "no_such_call"


@pytest.mark.parametrize(
    ("version", "endpoint", "body"),
    [
        (ApiVersion.V2_0_0, "call/transfer", {"number": "1000"}),
        (ApiVersion.V1_1_0, "inbound/transfer_number", {"number": "1000"}),
        (ApiVersion.V1_0_0, "inbound/transfer_extension", {"extid": "1000"}),
    ],
    ids=str,
)
async def test_transfer_sends_the_caller_on(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    version: ApiVersion,
    endpoint: str,
    body: dict[str, str],
) -> None:
    """Front Desk transfers its outside caller to Jayson: the caller rings there."""
    await load_entry(hass, pbx, ha_port, version)
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await settle(hass, pbx)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    await act(hass, "transfer", device_id=device(hass, "1001"), number="1000")
    await settle(hass, pbx)

    (sent,) = requests(pbx, endpoint)
    assert sent is not None
    assert body.items() <= sent.items()
    # The caller's leg is the one sent on, never Front Desk's own.
    assert "1001" not in str(sent.get("channelid", ""))
    assert state(hass, "sensor.front_desk_1001_call") == "idle"
    assert state(hass, "sensor.jayson_1000_call") == "ringing"
    ringing = [
        change.data["new_state"]
        for change in changes
        if change.data["entity_id"] == "event.jayson_1000_calls"
    ]
    assert ringing
    assert ringing[0] is not None
    assert ringing[0].attributes["peer_number"] == DEFAULT_CALLER


async def test_attended_transfer_completed(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """Front Desk talks to Jayson first, then hands the caller over."""
    await load_entry(hass, pbx, ha_port)
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await settle(hass, pbx)
    front_desk = device(hass, "1001")

    await act(hass, "transfer", device_id=front_desk, number="1000", attended=True)
    await pbx.pick_up("1000")
    await settle(hass, pbx)
    await act(hass, "complete_transfer", device_id=front_desk)
    await settle(hass, pbx)

    (started,) = requests(pbx, "call/attended_transfer")
    assert started is not None
    assert started["tonumber"] == "1000"
    assert requests(pbx, "call/attended_transfer_operate") == [
        {"channelid": started["channelid"], "operate": "complete"}
    ]
    assert state(hass, "sensor.front_desk_1001_call") == "idle"
    assert state(hass, "sensor.jayson_1000_call") == "talking"


async def test_hold_and_mute(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """Hold shows on the Call sensor; mute and unmute reach the PBX."""
    await load_entry(hass, pbx, ha_port)
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await settle(hass, pbx)
    front_desk = device(hass, "1001")

    await act(hass, "hold", device_id=front_desk)
    await settle(hass, pbx)
    assert state(hass, "sensor.front_desk_1001_call") == "on_hold"
    await act(hass, "resume", device_id=front_desk)
    await settle(hass, pbx)
    assert state(hass, "sensor.front_desk_1001_call") == "talking"
    await act(hass, "mute", device_id=front_desk)
    await act(hass, "unmute", device_id=front_desk)

    channel = next(m.channelid for m in pbx.calls[0].legs if m.number == "1001")
    for endpoint in ("call/hold", "call/unhold", "call/mute", "call/unmute"):
        assert requests(pbx, endpoint) == [{"channelid": channel}]


@pytest.mark.parametrize(("errno", "key"), sorted(ERRNO_KEYS.items()))
async def test_refusals_in_the_users_terms(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, errno: str, key: str
) -> None:
    """Whatever the PBX refuses a dial with becomes the error that says why."""
    await load_entry(hass, pbx, ha_port)
    pbx.faults.refuse_next(errno, endpoint="call/dial")

    with pytest.raises(HomeAssistantError) as caught:
        await act(hass, "dial", device_id=device(hass, "1001"), callee="1000")

    assert caught.value.translation_key == key
    assert pbx.calls == []
    assert pbx.stats.login_attempts == 1


async def test_outside_numbers_for_administrators_only(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    hass_admin_user: User,
    hass_read_only_user: User,
) -> None:
    """A user who is no administrator may not dial, nor transfer to an outside number."""
    await load_entry(hass, pbx, ha_port)
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await settle(hass, pbx)
    front_desk = device(hass, "1001")
    user = Context(user_id=hass_read_only_user.id)

    with pytest.raises(Unauthorized):
        await act(hass, "dial", user, device_id=front_desk, callee="1000")
    with pytest.raises(Unauthorized):
        await act(hass, "transfer", user, device_id=front_desk, number=OUTSIDE)
    assert requests(pbx, "call/dial") == requests(pbx, "call/transfer") == []

    # An extension is free to every user; an administrator may call out.
    await act(hass, "transfer", user, device_id=front_desk, number="1000")
    admin = Context(user_id=hass_admin_user.id)
    await act(hass, "dial", admin, device_id=device(hass, "1002"), callee=OUTSIDE)
    assert len(requests(pbx, "call/transfer")) == len(requests(pbx, "call/dial")) == 1


async def test_action_while_the_pbx_is_down_fails_at_once(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """With the PBX unreachable, an action says so without trying to reach it."""
    entry = await load_entry(hass, pbx, ha_port)
    await pbx.go_down()
    await entry.runtime_data.coordinator.async_refresh()
    sent = len(pbx.received)

    with pytest.raises(HomeAssistantError) as caught:
        await act(hass, "dial", device_id=device(hass, "1001"), callee="1000")

    assert caught.value.translation_key == "pbx_unavailable"
    assert len(pbx.received) == sent


async def test_lost_session_renewed_once_for_an_action(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """The PBX forgot the token: the action logs in once and goes through."""
    await load_entry(hass, pbx, ha_port)
    pbx.forget_tokens()

    await act(hass, "dial", device_id=device(hass, "1001"), callee="1000")

    assert pbx.stats.login_attempts == 2
    assert len(requests(pbx, "call/dial")) == 2  # refused once, then sent again
    assert len(pbx.calls) == 1


async def test_door_station_answered_by_an_automation(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """The door station rings the PBX; an automation accepts the call and greets.

    The door's button makes it call the PBX's own number: its doorbell entity
    rings, the PBX asks whether to take the inbound call (Invite), and the
    automation built on the PBX's Calls entity accepts it and plays a prompt.
    The call id goes through a template, which turns it into a number (its
    trailing zeros lost): the action still finds the call.
    """
    await load_entry(hass, pbx, ha_port, options={CONF_DOOR_STATIONS: ["1000"]})
    pbx.inbound_call_control = True
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "triggers": [
                    {
                        "trigger": "event.received",
                        "target": {"entity_id": "event.yeastar_s100_calls"},
                        "options": {"event_type": ["inbound_invite"]},
                    }
                ],
                "actions": [
                    {
                        "action": "yeastar_s_series.accept_call",
                        "data": {
                            ATTR_DEVICE_ID: device(hass),
                            "callid": "{{ trigger.to_state.attributes.callid }}",
                        },
                    },
                    {
                        "action": "yeastar_s_series.play_prompt",
                        "data": {
                            ATTR_DEVICE_ID: device(hass),
                            "number": "1001",
                            "prompt": "welcome",
                        },
                    },
                ],
            }
        },
    )
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    await pbx.play(Scenario.DOOR_STATION)
    await settle(hass, pbx)
    await settle(hass, pbx)

    doorbell = [
        change.data["new_state"].attributes["event_type"]
        for change in changes
        if change.data["entity_id"] == "event.jayson_1000_doorbell"
        and change.data["new_state"] is not None
    ]
    assert doorbell[0] == "ring"
    (accepted,) = requests(pbx, "call/accept_inbound")
    assert accepted is not None
    assert accepted["channelid"].startswith("PJSIP/trunk-")
    assert requests(pbx, "call/playprompt") == [
        {"number": "1001", "prompt": "welcome", "autoanswer": "no"}
    ]
