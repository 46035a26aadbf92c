"""Trunks as devices under the PBX: their state, read with the heartbeat."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.const import DEFAULT_HEARTBEAT_INTERVAL, DOMAIN
from custom_components.yeastar_s_series.inventory import DEFAULT_TRUNK_INTERVAL
from simulator import SimulatedPBX
from simulator.reports import CallFailed, ExtMember
from tests.common import ENTRY_ID, SERIAL, load_entry

SIP = "sensor.yeastar_s100_sip_142_sip_trunk_status"
SIP_LINK = "binary_sensor.yeastar_s100_sip_142_sip_trunk_connectivity"
GSM = "sensor.yeastar_s100_gsm2_7_gsm_trunk_status"


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; the entity must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def beats(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, count: int
) -> None:
    """Let heartbeat intervals pass, one at a time."""
    for _ in range(count):
        freezer.tick(timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture(params=[ApiVersion.V2_0_0, ApiVersion.V1_1_0], ids=str)
async def loaded(
    request: pytest.FixtureRequest, hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> MockConfigEntry:
    """Set up the entry for the simulator (v2 `trunk/list`, v1 `trunklist/query`)."""
    return await load_entry(hass, pbx, ha_port, request.param)


async def test_trunks_are_devices_under_the_pbx(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """Each trunk is a device under the PBX's, named with its type; states read as listed."""
    registry = dr.async_get(hass)
    pbx_device = registry.async_get_device_by_identifier((DOMAIN, SERIAL), ENTRY_ID)
    assert pbx_device is not None
    trunks = {
        device.name: device
        for device in dr.async_child_entries_for_config_entry(registry, ENTRY_ID)
    }
    assert set(trunks) == {
        "SIP-142 (SIP trunk)",
        "sip-143 (SIP trunk)",
        "FXO2-3 (FXO trunk)",
        "DIGIT1 (E1 trunk)",
        "GSM2-7 (GSM trunk)",
    }
    assert {device.parent_device_id for device in trunks.values()} == {pbx_device.id}
    # The documents' spellings: "Registered", "failure", "Idle", "Down", "No SIM".
    assert state(hass, SIP) == "registered"
    assert state(hass, SIP_LINK) == "on"
    assert state(hass, "sensor.yeastar_s100_sip_143_sip_trunk_status") == "failure"
    assert (
        state(hass, "binary_sensor.yeastar_s100_sip_143_sip_trunk_connectivity")
        == "off"
    )
    assert state(hass, "sensor.yeastar_s100_fxo2_3_fxo_trunk_status") == "idle"
    assert state(hass, "sensor.yeastar_s100_digit1_e1_trunk_status") == "down"
    assert state(hass, GSM) == "no_sim"


async def test_a_failed_trunk_shows_within_the_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """The PBX reports no trunk change: the trunk list read shows it within two minutes."""
    pbx.set_trunk_status("SIP-142", "Failure")
    beats_per_read = int(DEFAULT_TRUNK_INTERVAL.total_seconds()) // (
        DEFAULT_HEARTBEAT_INTERVAL
    )
    await beats(hass, freezer, beats_per_read)

    assert state(hass, SIP) == "failure"
    assert state(hass, SIP_LINK) == "off"


async def test_a_failed_call_on_a_line_reads_the_trunks_at_once(
    hass: HomeAssistant, pbx: SimulatedPBX, loaded: MockConfigEntry
) -> None:
    """A call that fails for the line ("Line Unreachable") reads the trunk list again."""
    pbx.set_trunk_status("SIP-142", "Failure")
    await pbx.send_report(
        CallFailed(
            callid="1571897930.9",
            members=(ExtMember(number="1001", channelid="PJSIP/1001-0000001a"),),
            reason="Line Unreachable",
        )
    )
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    assert state(hass, SIP) == "failure"


async def test_a_state_the_documents_do_not_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown state shows as unknown, the PBX's word kept, and is logged once."""
    pbx.set_trunk_status("GSM2-7", "Roaming")
    await beats(hass, freezer, 8)
    await beats(hass, freezer, 8)

    assert state(hass, GSM) == "unknown"
    gsm = hass.states.get(GSM)
    assert gsm is not None
    assert gsm.attributes["reported_status"] == "Roaming"
    assert caplog.text.count("'Roaming'") == 1
