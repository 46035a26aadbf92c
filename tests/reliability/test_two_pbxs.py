"""Two PBXs in one Home Assistant, one of them failing: no cross-talk."""

from collections.abc import AsyncGenerator
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.yeastar_s_series.api import hash_password
from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_PASSWORD_HASH,
    DOMAIN,
    EVENT_YEASTAR,
)
from simulator import SimExtension
from tests.common import SERIAL, WEBHOOK_ID, entry_data, setup_entry

from .common import (
    CONNECTION,
    HEARTBEAT,
    JAYSON,
    UNAVAILABLE,
    InstrumentedPBX,
    LoopLagProbe,
    advance,
    assert_events_resume,
    assert_no_lockout,
    entity_id_of,
    heartbeats,
    log_records,
    play,
    post_report,
    report_body,
    state,
)

SERIAL_B = "369364835299"
PASSWORD_B = "0ther-Pa55"
WEBHOOK_B = "fedcba9876543210fedcba9876543210"


@pytest.fixture
async def pbx_b() -> AsyncGenerator[InstrumentedPBX]:
    """Run a second PBX: another model, other extensions, another port."""
    async with InstrumentedPBX(
        password=PASSWORD_B,
        serial=SERIAL_B,
        model="Yeastar S300",
        extensions=[SimExtension("2000", "Lobby"), SimExtension("2001", "Office")],
        report_retries=2,
        report_retry_delay=0.05,
    ) as simulated:
        yield simulated


@pytest.fixture
def entry_b(pbx_b: InstrumentedPBX, ha_port: int) -> MockConfigEntry:
    """Return the second PBX's entry: its own webhook, on the same HA server."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Yeastar S300 ({pbx_b.host})",
        unique_id=SERIAL_B,
        data=entry_data(
            pbx_b,
            **{
                CONF_WEBHOOK_ID: WEBHOOK_B,
                CONF_PASSWORD_HASH: hash_password(PASSWORD_B),
            },
        ),
        options={CONF_CALLBACK_HOST: "127.0.0.1", CONF_CALLBACK_PORT: ha_port},
    )


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the device registry id of an entry's PBX."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, str(entry.unique_id)), entry.entry_id
    )
    assert device is not None
    return device.id


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param("down", "cannot_connect", id="down"),
        pytest.param("garbage", "unexpected_answer", id="garbage"),
    ],
)
async def test_one_of_two_pbxs_fails(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    pbx_b: InstrumentedPBX,
    loaded: MockConfigEntry,
    entry_b: MockConfigEntry,
    ha_port: int,
    loop_lag: LoopLagProbe,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    reason: str,
) -> None:
    """PBX B fails for five intervals: A stays connected and its reports keep coming.

    B shows its own state and reason; every event names the PBX it came from; a
    report with A's serial at B's webhook (and B's at A's) is refused.
    """
    await setup_entry(hass, entry_b)
    assert entry_b.state is ConfigEntryState.LOADED
    loop_lag.reset()  # the scenario starts now
    connection_b = entity_id_of(hass, "sensor", f"{SERIAL_B}_connection_state")
    lobby = entity_id_of(hass, "sensor", f"{SERIAL_B}_2000_status")
    calls_b = entity_id_of(hass, "event", f"{SERIAL_B}_call")
    assert connection_b != CONNECTION
    assert state(hass, connection_b) == "connected"
    device_a, device_b = _device_id(hass, loaded), _device_id(hass, entry_b)
    coordinator_a = loaded.runtime_data.coordinator
    coordinator_b = entry_b.runtime_data.coordinator

    if fault == "down":
        await pbx_b.go_down()
    else:
        pbx_b.faults.garbage = True
    # B, set up after A, takes its turn half an interval after A's.
    await advance(hass, freezer, HEARTBEAT / 2)
    for _ in range(5):
        await heartbeats(hass, freezer, 1)
        events = await play(hass, pbx, extension="1000")
        assert len(events) == 5
        assert {(e.data["config_entry_id"], e.data["device_id"]) for e in events} == {
            (loaded.entry_id, device_a)
        }
        assert state(hass, CONNECTION) == "connected"
        assert state(hass, connection_b) == "disconnected"

    assert state(hass, JAYSON) == "registered"
    assert state(hass, lobby) == UNAVAILABLE
    assert coordinator_a.last_update_success
    assert coordinator_b.last_exception is not None
    assert getattr(coordinator_b.last_exception, "translation_key", None) == reason
    # B's failure is logged once, under B's name; A logs nothing.
    b_errors = log_records(caplog, "Error fetching Yeastar S300", logging.ERROR)
    assert b_errors == 1
    assert log_records(caplog, "Yeastar S100", logging.ERROR) == 0

    if fault == "garbage":
        # B's API answers garbage, but B still posts its reports: they are B's.
        events = await play(hass, pbx_b, extension="2000")
        assert len(events) == 5
        assert {(e.data["config_entry_id"], e.data["device_id"]) for e in events} == {
            (entry_b.entry_id, device_b)
        }
        assert state(hass, calls_b) != UNAVAILABLE

    # No cross-talk: a report is accepted only at its own PBX's webhook.
    events = async_capture_events(hass, EVENT_YEASTAR)
    refused_a = loaded.runtime_data.receiver.stats.refused
    refused_b = entry_b.runtime_data.receiver.stats.refused
    assert await post_report(ha_port, WEBHOOK_B, report_body("BootUp", SERIAL)) == 200
    assert (
        await post_report(ha_port, WEBHOOK_ID, report_body("BootUp", SERIAL_B)) == 200
    )
    assert events == []
    assert loaded.runtime_data.receiver.stats.refused == refused_a + 1
    assert entry_b.runtime_data.receiver.stats.refused == refused_b + 1
    assert log_records(caplog, "foreign_serial", logging.WARNING) == 2

    # B comes back: both connected, neither logged in again.
    pbx_b.faults.garbage = False
    await pbx_b.come_up()
    await heartbeats(hass, freezer, 1)
    assert state(hass, connection_b) == "connected"
    assert state(hass, lobby) == "registered"
    assert state(hass, CONNECTION) == "connected"
    assert (pbx.stats.login_attempts, pbx_b.stats.login_attempts) == (1, 1)
    await assert_events_resume(hass, pbx, loaded)
    await assert_events_resume(hass, pbx_b, entry_b, extension="2000", calls=calls_b)
    assert_no_lockout(pbx)
    assert_no_lockout(pbx_b)
    loop_lag.assert_responsive()
