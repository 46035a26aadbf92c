"""The PBX away, slow or confused: long outages, slow and garbage answers, a flapping network."""

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.const import DEFAULT_HEARTBEAT_INTERVAL, LOGGER
from simulator import Scenario
from tests.common import SERIAL, WEBHOOK_ID, setup_entry

from .common import (
    CALLS,
    CONNECTION,
    HEARTBEAT,
    JAYSON,
    UNAVAILABLE,
    InstrumentedPBX,
    LoopLagProbe,
    RequestLog,
    advance,
    assert_events_resume,
    assert_no_lockout,
    extension_states,
    heartbeats,
    log_records,
    play,
    post_report,
    problems_logged,
    report_body,
    settle,
    state,
)


async def test_pbx_down_for_an_hour(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    client_requests: RequestLog,
    loop_lag: LoopLagProbe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An hour unreachable: disconnected throughout, one refused heartbeat per interval.

    The token lapsed at the PBX after 30 minutes: coming back costs exactly one login.
    """
    caplog.set_level(logging.INFO, LOGGER.name)
    await pbx.go_down()
    for _ in range(60):
        before = client_requests.total
        await heartbeats(hass, freezer, 1)
        # One heartbeat per interval, refused by the closed port: no login tried.
        assert client_requests.total - before == 1
        assert state(hass, CONNECTION) == "disconnected"

    assert client_requests.calls["heartbeat"] == 1 + 60
    assert client_requests.calls["login"] == 1
    assert pbx.stats.login_attempts == 1
    assert extension_states(hass) == {UNAVAILABLE}
    assert state(hass, CALLS) != UNAVAILABLE  # it stays, to fire when reports arrive

    await pbx.come_up()
    await heartbeats(hass, freezer, 1)

    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert pbx.stats.login_attempts == 2
    assert pbx.stats.successful_logins == 2
    assert len(pbx.sessions) == 1
    await heartbeats(hass, freezer, 5)
    assert pbx.stats.login_attempts == 2
    await assert_events_resume(hass, pbx, loaded)
    assert_no_lockout(pbx)
    # One error when the PBX went away, one line when it came back.
    assert problems_logged(caplog) == 1
    assert log_records(caplog, "recovered", logging.INFO) == 1
    loop_lag.assert_responsive()


async def test_answers_slower_than_the_timeout(
    hass: HomeAssistant,
    pbx: InstrumentedPBX,
    config_entry: MockConfigEntry,
    client_requests: RequestLog,
    ha_port: int,
    loop_lag: LoopLagProbe,
) -> None:
    """Five intervals of answers slower than the client waits: no pile-up, then recovery.

    Real time (client timeouts need a running clock): each heartbeat is fired by
    hand. A ConfigChange report during a slow heartbeat queues behind it instead
    of sending a second request at the same time.
    """
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    loop_lag.reset()  # the scenario starts now
    config_entry.runtime_data.coordinator.client.request_timeout = 0.2
    pbx.faults.slow = 0.5

    for interval in range(5):
        before = pbx.arrivals.total()
        async_fire_time_changed(hass, dt_util.utcnow() + HEARTBEAT)
        if interval == 2:
            body = report_body("ConfigChange", SERIAL)
            assert await post_report(ha_port, WEBHOOK_ID, body) == 200
        await settle(hass)
        assert state(hass, CONNECTION) == "disconnected"
        # One heartbeat; the report's refresh waits for HA's debouncer cooldown.
        assert pbx.arrivals.total() - before == 1
        assert pbx.arrivals["login"] == 1  # the setup's

    assert extension_states(hass) == {UNAVAILABLE}
    assert client_requests.peak_in_flight == 1
    assert pbx.peak_in_flight == 1

    pbx.faults.slow = 0
    async_fire_time_changed(hass, dt_util.utcnow() + HEARTBEAT)
    await settle(hass)

    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    # The PBX kept the session: the token still works, no new login.
    assert pbx.stats.login_attempts == 1
    assert len(pbx.sessions) == 1
    await assert_events_resume(hass, pbx, config_entry)
    assert_no_lockout(pbx)
    loop_lag.assert_responsive()


@pytest.mark.parametrize(
    ("token_lost", "logins"),
    [
        pytest.param(False, 0, id="session_kept"),
        pytest.param(True, 1, id="session_lost_meanwhile"),
    ],
)
async def test_garbage_answers_for_several_intervals(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    loop_lag: LoopLagProbe,
    caplog: pytest.LogCaptureFixture,
    token_lost: bool,
    logins: int,
) -> None:
    """Ten intervals of an HTML error page: disconnected, one log line, no storm after."""
    caplog.set_level(logging.INFO, LOGGER.name)
    pbx.faults.garbage = True
    if token_lost:
        pbx.forget_tokens()
    for _ in range(10):
        before = pbx.arrivals.copy()
        await heartbeats(hass, freezer, 1)
        # One heartbeat per interval; an answer that is not JSON is no reason to log in.
        assert pbx.arrivals - before == {"heartbeat": 1}
        assert state(hass, CONNECTION) == "disconnected"
    assert extension_states(hass) == {UNAVAILABLE}
    assert log_records(caplog, "unexpected answer", logging.ERROR) == 1
    assert problems_logged(caplog) == 1

    pbx.faults.garbage = False
    before = pbx.arrivals.copy()
    await heartbeats(hass, freezer, 1)

    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert pbx.stats.login_attempts == 1 + logins
    # Recovery: the heartbeat, and after a lost token one login and its heartbeat
    # (then the extension list, due after 10 minutes).
    recovery = pbx.arrivals - before
    assert (recovery["heartbeat"], recovery["login"]) == (1 + logins, logins)
    await heartbeats(hass, freezer, 3)
    assert pbx.stats.login_attempts == 1 + logins
    assert log_records(caplog, "recovered", logging.INFO) == 1
    await assert_events_resume(hass, pbx, loaded)
    assert_no_lockout(pbx)
    loop_lag.assert_responsive()


async def test_flapping_network(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    config_entry: MockConfigEntry,
    client_requests: RequestLog,
    loop_lag: LoopLagProbe,
) -> None:
    """The PBX unreachable every other 30 s for 20 minutes: no login, reports whenever up.

    The token outlives every outage (30 minutes since the last request), so no
    login is due at all. Time moves in 15 s steps; the PBX toggles every 30 s,
    between steps; a missed call is played in every reachable half-period. The
    retries while the PBX is away show it back as soon as it is, and stay few.
    """
    interval = DEFAULT_HEARTBEAT_INTERVAL
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    loop_lag.reset()  # the scenario starts now

    step = timedelta(seconds=15)
    seen: set[str] = set()
    delivered = 0
    for tick in range(1, 81):  # 20 minutes
        await advance(hass, freezer, step)
        if tick * step.seconds >= interval:  # what heartbeats showed
            seen.add(state(hass, CONNECTION))
        if tick % 2:
            continue
        if pbx.faults.down:
            await pbx.come_up()
            events = await play(hass, pbx, Scenario.MISSED_CALL, extension="1002")
            assert len(events) == 5
            assert {event.data["config_entry_id"] for event in events} == {
                config_entry.entry_id
            }
            delivered += len(events)
        else:
            await pbx.go_down()

    assert delivered == 20 * 5
    assert {delivery.status for delivery in pbx.deliveries} == {200}
    assert seen == {"connected", "disconnected"}
    assert pbx.stats.login_attempts == 1
    assert client_requests.calls["login"] == 1
    # At least a heartbeat per interval; with the retries, at most one per 15 s step.
    assert 1 + 20 * 60 // interval <= client_requests.calls["heartbeat"] <= 1 + 80
    assert client_requests.peak_in_flight == 1

    # The network settles: the next heartbeat finds the session still there.
    await pbx.come_up()
    await heartbeats(hass, freezer, 1, timedelta(seconds=interval))
    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert pbx.stats.login_attempts == 1
    assert len(pbx.sessions) == 1
    await assert_events_resume(hass, pbx, config_entry)
    assert_no_lockout(pbx)
    loop_lag.assert_responsive()


async def test_back_within_ten_seconds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    client_requests: RequestLog,
) -> None:
    """Down for 3 minutes, then connected within 10 s of its return.

    Tried every few seconds meanwhile (not a flood); no login (the token outlived
    the outage), no failed one.
    """
    await pbx.go_down()
    per_minute = []
    for _ in range(3):
        before = client_requests.total
        for _ in range(60):
            await advance(hass, freezer, timedelta(seconds=1))
        per_minute.append(client_requests.total - before)
    assert state(hass, CONNECTION) == "disconnected"
    assert all(3 <= requests <= 8 for requests in per_minute), per_minute

    await pbx.come_up()
    for _ in range(10):
        await advance(hass, freezer, timedelta(seconds=1))
        if state(hass, CONNECTION) == "connected":
            break
    assert state(hass, CONNECTION) == "connected"
    assert pbx.stats.login_attempts == 1
    assert pbx.stats.failed_logins == 0
    await assert_events_resume(hass, pbx, loaded)
