"""The PBX forgets the session: a reboot in the middle of a call, tokens lost again and again."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.yeastar_s_series.const import EVENT_YEASTAR
from simulator.scenarios import Call, inbound_answered

from .common import (
    CALLS,
    CONNECTION,
    EXTENSIONS,
    FRONT_DESK,
    UNAVAILABLE,
    InstrumentedPBX,
    LoopLagProbe,
    RequestLog,
    assert_events_resume,
    assert_no_lockout,
    attribute,
    extension_states,
    heartbeats,
    settle,
    state,
)

# Reports of a call still ringing: ExtensionStatus "Ringing", CallStatus RING.
RINGING_REPORTS = 2


async def _ring(hass: HomeAssistant, pbx: InstrumentedPBX, callid: str) -> None:
    """Let an outside caller ring the front desk (1001); nobody answers yet."""
    call = Call(callid, "2026-11-02 09:00:00")
    for report in inbound_answered(call, extension="1001")[:RINGING_REPORTS]:
        await pbx.send_report(report)
    await pbx.wait_delivered()
    await settle(hass)


async def test_reboot_in_the_middle_of_a_call(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    loop_lag: LoopLagProbe,
) -> None:
    """Ringing, then the PBX reboots before the BYE.

    The BootUp costs one login; the extension list read after it replaces the
    "ringing" nobody will end; the next call's reports all arrive, its ring included.
    """
    events = async_capture_events(hass, EVENT_YEASTAR)
    await _ring(hass, pbx, "1795000000.101")
    assert state(hass, FRONT_DESK) == "ringing"
    assert attribute(hass, CALLS, "event_type") == "ringing"

    # Rebooting: the PBX does not answer for a heartbeat interval.
    await pbx.go_down()
    await heartbeats(hass, freezer, 1)
    assert state(hass, CONNECTION) == "disconnected"
    assert extension_states(hass) == {UNAVAILABLE}
    assert state(hass, CALLS) != UNAVAILABLE

    # Booted: sessions are gone, the call is gone, the phones registered again
    # (the simulator keeps extension states over a reboot: set them as a real PBX
    # lists them), and the PBX posts BootUp where the old session's reports went.
    await pbx.come_up()
    await pbx.reboot()
    for extension in pbx.extensions.values():
        if extension.status == "Ringing":
            extension.status = "Registered"
    await pbx.wait_delivered()
    await settle(hass)  # time stands still: only the BootUp can cause a login

    assert [event.data["event"] for event in events][RINGING_REPORTS:] == ["BootUp"]
    assert pbx.stats.login_attempts == 2
    assert pbx.stats.successful_logins == 2
    assert len(pbx.sessions) == 1
    assert state(hass, CONNECTION) == "connected"
    assert state(hass, FRONT_DESK) == "registered"  # not stuck in "ringing"

    # The next call, a minute after the first ring (the reboot took that long).
    await _ring(hass, pbx, "1795000000.102")
    assert attribute(hass, CALLS, "callid") == "1795000000.102"
    assert attribute(hass, CALLS, "event_type") == "ringing"
    # The session holds over the next heartbeat: no other login.
    await heartbeats(hass, freezer, 1)
    assert pbx.stats.login_attempts == 2
    assert_no_lockout(pbx)
    loop_lag.assert_responsive()

    # Its ring reaches the user: not taken for a re-send of the first call's ring
    # (the same body, within the two-minute de-duplication window), on the bus,
    # and on the extension's sensor.
    duplicates = loaded.runtime_data.receiver.stats.duplicates
    assert duplicates == 0, "the new call's ring was dropped as a re-sent report"
    assert [event.data["event"] for event in events][RINGING_REPORTS + 1 :] == [
        "ExtensionStatus",
        "CallStatus",
    ]
    assert state(hass, FRONT_DESK) == "ringing"


@pytest.mark.parametrize(
    "quiet_intervals",
    [
        pytest.param(0, id="lost_at_every_heartbeat"),
        pytest.param(3, id="lost_every_fourth_heartbeat"),
    ],
)
async def test_tokens_lost_again_and_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    client_requests: RequestLog,
    loop_lag: LoopLagProbe,
    quiet_intervals: int,
) -> None:
    """The PBX drops the token five times: one login each time, never more.

    The user never sees the session fail: the heartbeat that meets the unknown
    token logs in again at once, and reports keep arriving at the new session.
    """
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    for times in range(1, 6):
        pbx.forget_tokens()
        await heartbeats(hass, freezer, 1)

        assert pbx.stats.login_attempts == 1 + times
        assert pbx.stats.successful_logins == 1 + times
        assert len(pbx.sessions) == 1
        assert state(hass, CONNECTION) == "connected"
        await heartbeats(hass, freezer, quiet_intervals)
        assert pbx.stats.login_attempts == 1 + times
        await assert_events_resume(hass, pbx, loaded)

    # Client side: one heartbeat refused per loss, then one login and its heartbeat.
    assert client_requests.calls["login"] == 1 + 5
    assert client_requests.peak_in_flight == 1
    assert pbx.peak_in_flight == 1
    assert_no_lockout(pbx)
    # Neither the connection nor an extension ever showed a failure.
    watched = {CONNECTION, *EXTENSIONS}
    shown = {
        change.data["new_state"].state
        for change in changes
        if change.data["entity_id"] in watched and change.data["new_state"]
    }
    assert shown.isdisjoint({"disconnected", UNAVAILABLE})
    assert shown  # extension states changed with the calls
    loop_lag.assert_responsive()
