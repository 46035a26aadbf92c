"""An extension's settings in Home Assistant: DND and forwarding switches, set_forwarding.

Each test drives the simulated PBX and asserts what the user sees: the switch's state
and attributes, the error in words, the devices. The PBX's own settings tell whether
a write reached it.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.switch.const import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.update_coordinator import REQUEST_REFRESH_DEFAULT_COOLDOWN
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.yeastar_s_series import settings_writer
from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.const import DEFAULT_HEARTBEAT_INTERVAL, DOMAIN
from custom_components.yeastar_s_series.inventory import INTERVALS, Part
from simulator import ConfigChange, SimulatedPBX
from simulator.settings import ForwardingForm
from tests.common import ENTRY_ID, SERIAL, load_entry

DND = "switch.jayson_1000_do_not_disturb"
# Each forwarding mode: its switch, and its fields at the PBX (on/off, destination prefix).
FORWARDING = {
    "always": ("switch.jayson_1000_forward_all_calls", "alwaysforward", "a"),
    "no_answer": ("switch.jayson_1000_forward_when_unanswered", "noanswerforward", "n"),
    "busy": ("switch.jayson_1000_forward_when_busy", "busyforward", "b"),
}
VERSIONS = [ApiVersion.V2_0_0, ApiVersion.V1_1_0]


@pytest.fixture(autouse=True)
def _short_write_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the settings writer wait hundredths of a second, not seconds, between writes."""
    monkeypatch.setattr(settings_writer, "FIRST_GAP", 0.01)


async def switch(
    hass: HomeAssistant, pbx: SimulatedPBX, entity_id: str, *, on: bool
) -> None:
    """Switch as a user would, then let the PBX's echo arrive and be read."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
    )
    await settle(hass, pbx)


async def set_forwarding(
    hass: HomeAssistant, context: Context | None = None, **data: Any
) -> None:
    """Run the set_forwarding action on extension 1000 as a user would."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{SERIAL}_1000"), ENTRY_ID
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "set_forwarding",
        {"device_id": device.id, **data},
        blocking=True,
        context=context,
    )


async def settle(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Let the PBX's reports arrive and Home Assistant handle them."""
    await pbx.wait_delivered()
    await hass.async_block_till_done(wait_background_tasks=True)


def updates(pbx: SimulatedPBX) -> list[dict[str, Any] | None]:
    """Return the bodies of the `extension/update` requests the PBX received."""
    return [r.body for r in pbx.received if r.endpoint == "extension/update"]


def key(version: ApiVersion) -> str:
    """Return the field that names the extension (v1 `extid`, v2 `number`)."""
    return "number" if version is ApiVersion.V2_0_0 else "extid"


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; the entity must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """Return where a forwarding switch sends calls."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return {name: current.attributes[name] for name in ("destination", "number")}


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_dnd_switch(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, version: ApiVersion
) -> None:
    """Switching do not disturb on sends the documented update; the PBX has it on."""
    await load_entry(hass, pbx, ha_port, version)
    assert state(hass, DND) == "off"

    await switch(hass, pbx, DND, on=True)

    assert updates(pbx) == [{key(version): "1000", "dnd": "on"}]
    assert pbx.configuration.settings("1000").dnd
    assert state(hass, DND) == "on"


@pytest.mark.parametrize("mode", FORWARDING)
@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_forwarding_switch(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    version: ApiVersion,
    mode: str,
) -> None:
    """A forwarding switch turns its mode on at the PBX, to the destination it has."""
    entity_id, switch_key, prefix = FORWARDING[mode]
    pbx.configuration.change(
        "1000",
        {
            switch_key: "off",
            f"{prefix}transferto": "Extension",
            f"{prefix}transferext": "1001",
        },
    )
    await load_entry(hass, pbx, ha_port, version)
    assert state(hass, entity_id) == "off"

    await switch(hass, pbx, entity_id, on=True)

    assert updates(pbx) == [{key(version): "1000", switch_key: "on"}]
    assert pbx.configuration.settings("1000").forwarding[prefix].enabled
    assert state(hass, entity_id) == "on"
    assert attributes(hass, entity_id) == {"destination": "extension", "number": "1001"}


async def test_change_on_the_pbx_shows_within_one_read(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A change the PBX's administrator makes (no report) shows with the settings read."""
    await load_entry(hass, pbx, ha_port)
    pbx.configuration.change("1000", {"dnd": "on", "busyforward": "off"})

    # The read is due after its interval; the parts due with it take a heartbeat each.
    beats = INTERVALS[Part.SETTINGS] // timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL)
    for _ in range(beats + len(Part)):
        freezer.tick(timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)

    assert state(hass, DND) == "on"
    assert state(hass, FORWARDING["busy"][0]) == "off"


async def test_applied_too_often_waits_and_retries(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A change the PBX refuses as too soon (10025) goes again after a wait, and takes."""
    await load_entry(hass, pbx, ha_port)
    pbx.faults.refuse_next("10025", "extension/update")

    await switch(hass, pbx, DND, on=True)

    assert len(updates(pbx)) == 2
    assert pbx.configuration.settings("1000").dnd
    assert state(hass, DND) == "on"


async def test_applied_too_often_twice(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """Refused as too soon again after the wait: the user reads why, the switch stays."""
    await load_entry(hass, pbx, ha_port)
    pbx.faults.refuse_next("10025", "extension/update")
    pbx.faults.refuse_next("10025", "extension/update")

    with pytest.raises(HomeAssistantError) as raised:
        await switch(hass, pbx, DND, on=True)

    assert raised.value.translation_key == "applied_too_often"
    assert len(updates(pbx)) == 2
    assert state(hass, DND) == "off"


async def test_configuration_failed(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A change the PBX cannot apply (10017) is said in words, and not retried."""
    await load_entry(hass, pbx, ha_port)
    pbx.faults.refuse_next("10017", "extension/update")

    with pytest.raises(HomeAssistantError) as raised:
        await switch(hass, pbx, FORWARDING["busy"][0], on=False)

    assert raised.value.translation_key == "configuration_failed"
    assert len(updates(pbx)) == 1
    assert state(hass, FORWARDING["busy"][0]) == "on"


async def test_switch_while_the_pbx_is_down(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """With the PBX gone, a switch says it cannot be reached; nothing is written."""
    await load_entry(hass, pbx, ha_port)
    await pbx.go_down()

    with pytest.raises(HomeAssistantError) as raised:
        await switch(hass, pbx, DND, on=True)

    assert raised.value.translation_key == "pbx_unavailable"
    assert updates(pbx) == []
    assert state(hass, DND) == "off"


async def test_forwarding_on_without_destination(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """Forwarding with nowhere to go is refused in words; the PBX is not asked."""
    await load_entry(hass, pbx, ha_port)

    with pytest.raises(ServiceValidationError) as raised:
        await switch(hass, pbx, FORWARDING["always"][0], on=True)

    assert raised.value.translation_key == "no_forwarding_destination"
    assert raised.value.translation_placeholders == {"number": "1000"}
    assert updates(pbx) == []
    assert state(hass, FORWARDING["always"][0]) == "off"


@pytest.mark.parametrize("form", ["long", "compact"])
async def test_set_forwarding_sets_mode_and_destination(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, form: ForwardingForm
) -> None:
    """The action forwards all calls to an extension; the switch reads it back in either form."""
    pbx.configuration.forwarding_form = form
    await load_entry(hass, pbx, ha_port)

    await set_forwarding(
        hass, mode="always", enabled=True, destination="extension", number="1001"
    )
    await settle(hass, pbx)

    assert updates(pbx) == [
        {
            "number": "1000",
            "alwaysforward": "on",
            "atransferto": "Extension",
            "atransferext": "1001",
        }
    ]
    entity_id = FORWARDING["always"][0]
    assert state(hass, entity_id) == "on"
    assert attributes(hass, entity_id) == {"destination": "extension", "number": "1001"}
    assert [r.endpoint for r in pbx.received].count("extension/query") == 2


async def test_set_forwarding_outside_numbers_for_administrators(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    hass_admin_user: User,
    hass_read_only_user: User,
) -> None:
    """Only an administrator may forward to a mobile or an outside number (it costs)."""
    await load_entry(hass, pbx, ha_port)
    user = Context(user_id=hass_read_only_user.id)
    with pytest.raises(Unauthorized):
        await set_forwarding(
            hass, user, mode="busy", enabled=True, destination="mobile", number="139"
        )
    with pytest.raises(Unauthorized):
        await set_forwarding(
            hass, user, mode="busy", enabled=True, destination="number", number="959"
        )
    assert updates(pbx) == []

    admin = Context(user_id=hass_admin_user.id)
    await set_forwarding(
        hass, admin, mode="busy", enabled=True, destination="number", number="959"
    )
    await settle(hass, pbx)

    entity_id = FORWARDING["busy"][0]
    assert state(hass, entity_id) == "on"
    assert attributes(hass, entity_id) == {"destination": "number", "number": "959"}


async def test_forwarding_switch_to_a_mobile_for_administrators(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    hass_admin_user: User,
) -> None:
    """The switch of a mode that forwards to a mobile: on for administrators only."""
    # A user who may control every entity, but is no administrator.
    user = await hass.auth.async_create_user("Staff", group_ids=["system-users"])
    entity_id, switch_key, prefix = FORWARDING["busy"]
    pbx.configuration.change(
        "1000",
        {
            switch_key: "off",
            f"{prefix}transferto": "Mobile Number",
            f"{prefix}transferprefix": "",
            f"{prefix}transfernum": "13912345678",
        },
    )
    await load_entry(hass, pbx, ha_port)
    turn_on = {ATTR_ENTITY_ID: entity_id}

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            turn_on,
            blocking=True,
            context=Context(user_id=user.id),
        )
    assert updates(pbx) == []
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        turn_on,
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass, pbx)

    assert state(hass, entity_id) == "on"
    assert attributes(hass, entity_id) == {
        "destination": "mobile",
        "number": "13912345678",
    }


async def test_trunk_added_and_deleted_on_the_pbx(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pbx: SimulatedPBX, ha_port: int
) -> None:
    """The PBX's ConfigChange reports bring a new trunk's device, and take a deleted one's."""
    await load_entry(hass, pbx, ha_port)
    registry = dr.async_get(hass)

    def trunks() -> set[str | None]:
        return {
            device.name
            for device in dr.async_child_entries_for_config_entry(registry, ENTRY_ID)
        }

    await pbx.configuration.add_trunk("SIP-200", "SIP")
    await settle(hass, pbx)
    assert "SIP-200 (SIP trunk)" in trunks()
    assert state(hass, "sensor.yeastar_s100_sip_200_sip_trunk_status") == "registered"

    await pbx.configuration.delete_trunk("SIP-142")
    await settle(hass, pbx)
    # Reads asked for in a row wait out the coordinator's cool-down between refreshes.
    freezer.tick(timedelta(seconds=REQUEST_REFRESH_DEFAULT_COOLDOWN))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "SIP-142 (SIP trunk)" not in trunks()
    assert hass.states.get("sensor.yeastar_s100_sip_142_sip_trunk_status") is None


async def test_no_switches_without_settings(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A PBX that does not tell an extension's settings gets no switches for it."""
    pbx.faults.refuse_next("10003", "extension/query")
    await load_entry(hass, pbx, ha_port)

    entities = er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
    assert [e.entity_id for e in entities if e.domain == SWITCH_DOMAIN] == []
    assert state(hass, "sensor.jayson_1000_call") == "idle"


async def test_switches_come_with_the_settings(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """Settings the PBX refused at first, then told, bring the extension's switches."""
    pbx.faults.refuse_next("10003", "extension/query")
    await load_entry(hass, pbx, ha_port)

    await pbx.send_report(
        ConfigChange(type="extension", name="1000", operation="update")
    )
    await settle(hass, pbx)

    assert state(hass, DND) == "off"
