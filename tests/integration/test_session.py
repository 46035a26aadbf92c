"""The PBX session as a user relies on it: login, heartbeat, recovery, and their limits.

Every test runs the integration against the simulated PBX over real HTTP on
loopback, and checks both what the user sees (entity states, entry state, repair
issues, flows) and what the PBX saw (logins, heartbeats, logouts).
"""

from contextlib import AsyncExitStack
from datetime import timedelta
from itertools import pairwise
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_WEBHOOK_ID,
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
)
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.api import hash_password
from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_PASSWORD_HASH,
    DEFAULT_HEARTBEAT_INTERVAL,
    DOMAIN,
    EVENT_YEASTAR,
)
from custom_components.yeastar_s_series.repairs import (
    HTTPS_WEBHOOK,
    LOCKED_OUT,
    issue_id,
)
from simulator import Scenario, SimulatedPBX
from tests.common import PASSWORD, SERIAL, WEBHOOK_ID, entry_data, setup_entry

CONNECTION = "sensor.yeastar_s100_connection"
EXTENSION = "sensor.jayson_1000_status"
# The registered extensions. Not 1003: the PBX reports its status as "Unavailable",
# a state value that reads the same as an unavailable entity.
EXTENSIONS = (
    EXTENSION,
    "sensor.front_desk_1001_status",
    "sensor.kitchen_1002_status",
)
HEARTBEAT = timedelta(seconds=DEFAULT_HEARTBEAT_INTERVAL)
HTTPS_ISSUE_ID = HTTPS_WEBHOOK


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Set the entry up against the simulator, with time frozen.

    `freezer` comes first so that the event loop's clock is frozen before the
    heartbeat timer is scheduled: `_heartbeats` then moves it. The simulator's
    clock reads `time.time`, so the PBX's time moves along.
    """
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert pbx.stats.successful_logins == 1
    return config_entry


async def _heartbeats(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, count: int
) -> None:
    """Let `count` heartbeat intervals pass, one at a time."""
    for _ in range(count):
        freezer.tick(HEARTBEAT)
        async_fire_time_changed(hass, dt_util.utcnow())
        await _settle(hass)


async def _minutes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    """Let `minutes` pass, one heartbeat interval at a time."""
    await _heartbeats(hass, freezer, round(timedelta(minutes=minutes) / HEARTBEAT))


async def _settle(hass: HomeAssistant) -> None:
    """Wait for Home Assistant, background tasks included: the heartbeat runs as one."""
    await hass.async_block_till_done(wait_background_tasks=True)


def _entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    """Read the entry's state afresh (keeps mypy from narrowing it across awaits)."""
    return entry.state


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _webhook_registered(hass: HomeAssistant) -> bool:
    return WEBHOOK_ID in hass.data.get(webhook.DOMAIN, {})


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[object]:
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


def _entry(pbx: SimulatedPBX, ha_port: int, **data: Any) -> MockConfigEntry:
    """Build an entry like `config_entry`, for another PBX or with other data."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Yeastar S100 ({pbx.host})",
        unique_id=SERIAL,
        data=entry_data(pbx, **data),
        options={CONF_CALLBACK_HOST: "127.0.0.1", CONF_CALLBACK_PORT: ha_port},
    )


async def _lock_out(pbx: SimulatedPBX) -> None:
    """Lock loopback out at the PBX with five wrong passwords."""
    url = f"{pbx.base_url}/api/v2.0.0/login"
    body = {"username": "api", "password": hash_password("wrong"), "port": "8260"}
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            async with session.post(url, json=body) as response:
                assert (await response.json())["errno"] == "20003"
    assert pbx.is_locked()


# Setup, unload, reload, stop


async def test_setup_logs_in_and_points_reports_at_home_assistant(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    ha_port: int,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One login, one heartbeat with HA's report address; connected; expiry 30 min on."""
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.LOADED
    assert pbx.stats.login_attempts == 1
    assert pbx.stats.successful_logins == 1
    assert pbx.stats.heartbeats == 1
    (session,) = pbx.sessions
    assert session.target_ip == "127.0.0.1"
    assert session.target_port == ha_port
    assert session.target_url == f"api/webhook/{WEBHOOK_ID}"
    assert _webhook_registered(hass)
    assert _state(hass, CONNECTION) == "connected"
    assert _state(hass, EXTENSION) == "registered"


async def test_unload_logs_out_and_unregisters_the_webhook(
    hass: HomeAssistant, pbx: SimulatedPBX, loaded: MockConfigEntry
) -> None:
    """Unloading releases the token at the PBX and stops listening for reports."""
    assert await hass.config_entries.async_unload(loaded.entry_id)
    await hass.async_block_till_done()

    assert loaded.state is ConfigEntryState.NOT_LOADED
    assert pbx.stats.logouts == 1
    assert pbx.sessions == []
    assert not _webhook_registered(hass)
    assert _state(hass, CONNECTION) == STATE_UNAVAILABLE


async def test_reload_opens_a_new_session(
    hass: HomeAssistant, pbx: SimulatedPBX, loaded: MockConfigEntry
) -> None:
    """Reload: logout, then login; one valid session, connected again."""
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()

    assert loaded.state is ConfigEntryState.LOADED
    assert pbx.stats.logouts == 1
    assert pbx.stats.successful_logins == 2
    assert len(pbx.sessions) == 1
    assert _webhook_registered(hass)
    assert _state(hass, CONNECTION) == "connected"


async def test_home_assistant_stop_logs_out(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """Stopping Home Assistant releases the token, and no heartbeat logs in again."""
    # As HomeAssistant.async_stop does: the state changes, then the event fires.
    hass.set_state(CoreState.stopping)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    assert pbx.stats.logouts == 1
    assert pbx.sessions == []
    assert not _webhook_registered(hass)

    await _heartbeats(hass, freezer, 5)
    assert pbx.stats.login_attempts == 1
    assert pbx.sessions == []


async def test_setup_retries_when_the_pbx_is_unreachable(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """An unreachable PBX makes setup retry later; no webhook is left behind."""
    await pbx.go_down()
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert pbx.stats.login_attempts == 0
    assert not _webhook_registered(hass)
    assert _reauth_flows(hass, config_entry) == []


async def test_setup_retries_when_the_api_version_is_not_served(
    hass: HomeAssistant, ha_port: int
) -> None:
    """The PBX does not serve the entry's API version: retry later, no login."""
    async with SimulatedPBX(
        password=PASSWORD, serial=SERIAL, api_versions=("v1.0.0", "v1.1.0")
    ) as old:
        entry = _entry(old, ha_port)
        await setup_entry(hass, entry)

        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.reason is not None
        assert "API is not available" in entry.reason
        assert old.stats.login_attempts == 0
        assert not _webhook_registered(hass)


async def test_setup_waits_out_a_lockout(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Locked out at setup: retries that do not log in for 10 minutes, then it loads."""
    lockout = issue_id(LOCKED_OUT, config_entry.entry_id)
    await _lock_out(pbx)
    attempts = pbx.stats.login_attempts
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert pbx.stats.login_attempts == attempts + 1
    assert issue_registry.async_get_issue(DOMAIN, lockout) is not None

    # Home Assistant retries the setup several times in 9 minutes; none logs in.
    await _minutes(hass, freezer, 9)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.reason is not None and "locked out" in config_entry.reason
    assert pbx.stats.login_attempts == attempts + 1

    # Home Assistant's retry back-off (up to 320 s) decides when after the 10 minutes.
    await _minutes(hass, freezer, 7)
    assert _entry_state(config_entry) is ConfigEntryState.LOADED
    assert pbx.stats.login_attempts == attempts + 2
    assert pbx.stats.locked_refusals == 1
    assert _state(hass, CONNECTION) == "connected"
    assert issue_registry.async_get_issue(DOMAIN, lockout) is None


async def test_setup_with_a_wrong_password_asks_to_sign_in_again(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A refused password: setup error, a reauth flow, and exactly one failed login."""
    entry = _entry(pbx, ha_port, **{CONF_PASSWORD_HASH: hash_password("wrong")})
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, entry)) == 1
    assert pbx.stats.login_attempts == 1
    assert pbx.stats.failed_logins == 1
    assert not pbx.is_locked()
    assert not _webhook_registered(hass)


# Heartbeat and token recovery


async def test_heartbeat_keeps_the_session_for_hours(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """Three hours of heartbeats: one login, one request a beat, reports arrive."""
    start = pbx.clock.now()
    requests = pbx.stats.requests.total()
    await _minutes(hass, freezer, 180)

    # The PBX's clock follows the frozen time, so its tokens would have expired.
    assert pbx.clock.now() - start == pytest.approx(3 * 3600)
    assert pbx.stats.login_attempts == 1
    # A due read (trunks, settings…) takes a heartbeat's place: any request keeps the token.
    assert pbx.stats.requests.total() - requests == timedelta(hours=3) / HEARTBEAT
    assert pbx.stats.heartbeats > timedelta(hours=3) / HEARTBEAT / 2
    assert len(pbx.sessions) == 1
    assert _state(hass, CONNECTION) == "connected"

    # Reports still arrive: the session at the PBX still points at the webhook.
    events = async_capture_events(hass, EVENT_YEASTAR)
    reports = await pbx.play(Scenario.MISSED_CALL, extension="1000")
    await pbx.set_extension_status("1000", "Busy")
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    assert [event.data["event"] for event in events] == [
        *(type(report).__name__ for report in reports),
        "ExtensionStatus",
    ]
    assert {event.data["config_entry_id"] for event in events} == {loaded.entry_id}
    assert _state(hass, EXTENSION) == "busy"


async def test_forgotten_token_logs_in_again_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """When the PBX drops the token silently, within 30 s one login brings reports back.

    Nothing tells Home Assistant (no reboot, no BootUp): calls are lost until the next
    heartbeat, so the default interval bounds that window.
    """
    pbx.forget_tokens()
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass, dt_util.utcnow())
    await _settle(hass)

    assert pbx.stats.login_attempts == 2
    assert pbx.stats.successful_logins == 2
    assert len(pbx.sessions) == 1
    assert _state(hass, CONNECTION) == "connected"
    events = async_capture_events(hass, EVENT_YEASTAR)
    await pbx.set_extension_status("1000", "Busy")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    assert [event.data["status"] for event in events] == ["Busy"]

    await _heartbeats(hass, freezer, 5)
    assert pbx.stats.login_attempts == 2


async def _set_up_together(
    hass: HomeAssistant, stack: AsyncExitStack, ha_port: int, count: int
) -> list[SimulatedPBX]:
    """Start `count` PBXs and set up their entries at once, as Home Assistant's start does."""
    pbxs = [
        await stack.enter_async_context(
            SimulatedPBX(password=PASSWORD, serial=f"36936483520{index}")
        )
        for index in range(count)
    ]
    for index, pbx in enumerate(pbxs):
        MockConfigEntry(
            domain=DOMAIN,
            title=f"PBX {index}",
            unique_id=pbx.serial,
            data=entry_data(pbx, **{CONF_WEBHOOK_ID: f"{WEBHOOK_ID[:-1]}{index}"}),
            options={CONF_CALLBACK_HOST: "127.0.0.1", CONF_CALLBACK_PORT: ha_port},
        ).add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await _settle(hass)
    assert [pbx.stats.heartbeats for pbx in pbxs] == [1] * count
    return pbxs


async def _heartbeat_seconds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbxs: list[SimulatedPBX],
    intervals: int,
) -> list[list[int]]:
    """Move the clock a second at a time; say at which seconds each PBX got a heartbeat."""
    seen: list[list[int]] = [[] for _ in pbxs]
    for second in range(1, intervals * int(HEARTBEAT.total_seconds()) + 1):
        counts = [pbx.stats.heartbeats for pbx in pbxs]
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass, dt_util.utcnow())
        await _settle(hass)
        for index, pbx in enumerate(pbxs):
            if pbx.stats.heartbeats > counts[index]:
                seen[index].append(second)
    return seen


async def test_pbxs_set_up_together_take_turns_to_heartbeat(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, ha_port: int
) -> None:
    """Four PBXs set up as Home Assistant starts heartbeat a quarter interval apart.

    Without the offset they would all heartbeat in the same second, every interval.
    No PBX gets more heartbeats than the interval asks for.
    """
    async with AsyncExitStack() as stack:
        pbxs = await _set_up_together(hass, stack, ha_port, 4)
        seen = await _heartbeat_seconds(hass, freezer, pbxs, 3)

    # The first entry's first heartbeat comes after the interval, the others' a quarter
    # interval later each, then one every interval. Each is within 2 s of that: the
    # coordinator rounds its schedule to the second, and the test clock fires timers
    # up to half a second early, so a heartbeat can come a second early each time.
    assert all(len(seconds) >= 2 for seconds in seen), seen
    interval = HEARTBEAT.total_seconds()
    firsts = [seconds[0] for seconds in seen]
    assert all(
        abs(first - interval * (1 + place / 4)) <= 2
        for place, first in enumerate(firsts)
    ), seen
    gaps = [later - earlier for seconds in seen for earlier, later in pairwise(seconds)]
    assert all(abs(gap - interval) <= 2 for gap in gaps), seen
    assert all(pbx.stats.successful_logins == 1 for pbx in pbxs)


async def test_pbxs_down_together_retry_in_different_seconds(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    ha_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four PBXs gone at once: their quick retries keep the heartbeats' turns."""
    tries: list[list[int]] = [[] for _ in range(4)]
    second = [0]
    async with AsyncExitStack() as stack:
        pbxs = await _set_up_together(hass, stack, ha_port, 4)
        for index, entry in enumerate(hass.config_entries.async_entries(DOMAIN)):
            client = entry.runtime_data.coordinator.client
            request = client._request

            async def _noted(
                *args: Any, _index: int = index, _request: Any = request, **kwargs: Any
            ) -> Any:
                tries[_index].append(second[0])
                return await _request(*args, **kwargs)

            monkeypatch.setattr(client, "_request", _noted)
        for pbx in pbxs:
            await pbx.go_down()
        for second[0] in range(1, 121):
            freezer.tick(timedelta(seconds=1))
            async_fire_time_changed(hass, dt_util.utcnow())
            await _settle(hass)

    assert all(
        len(seconds) > 120 // int(HEARTBEAT.total_seconds()) for seconds in tries
    )
    # Each PBX finds the outage at its own heartbeat; from then on, the retries
    # of the PBXs never fall in the same second.
    retries = [seconds[1:] for seconds in tries]
    busiest = max(
        sum(second in seconds for seconds in retries) for second in range(1, 121)
    )
    assert busiest == 1, tries


async def test_stop_before_the_pbxs_take_their_turns(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, ha_port: int
) -> None:
    """Home Assistant stops before the offset heartbeats: none comes after the logout."""
    async with AsyncExitStack() as stack:
        pbxs = await _set_up_together(hass, stack, ha_port, 4)
        hass.set_state(CoreState.stopping)
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await _settle(hass)
        seen = await _heartbeat_seconds(hass, freezer, pbxs, 2)

    assert seen == [[], [], [], []]
    assert all(pbx.stats.logouts == 1 and pbx.sessions == [] for pbx in pbxs)
    assert all(pbx.stats.login_attempts == 1 for pbx in pbxs)


async def test_reboot_logs_in_again_without_waiting(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """The BootUp report makes the integration log in again at once."""
    heartbeats = pbx.stats.heartbeats
    await pbx.reboot()
    assert pbx.sessions == []
    await pbx.wait_delivered()
    # Time is frozen: no heartbeat interval passes, only the report can cause a login.
    await _settle(hass)

    assert pbx.stats.login_attempts == 2
    assert pbx.stats.successful_logins == 2
    assert pbx.stats.heartbeats == heartbeats + 1
    assert len(pbx.sessions) == 1
    assert _state(hass, CONNECTION) == "connected"

    # A later reboot is not taken for a re-sent copy of the first BootUp.
    await _minutes(hass, freezer, 3)
    await pbx.reboot()
    await pbx.wait_delivered()
    await _settle(hass)

    assert pbx.stats.login_attempts == 3
    assert len(pbx.sessions) == 1
    assert _state(hass, CONNECTION) == "connected"


# Refused logins


async def test_refused_password_survives_restarts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    loaded: MockConfigEntry,
) -> None:
    """After a refusal, restarts try no login until the user signs in again.

    Five restarts that each tried the refused password once would lock Home
    Assistant's address out at the PBX.
    """
    pbx.password = "changed"
    pbx.forget_tokens()
    await _heartbeats(hass, freezer, 1)
    assert pbx.stats.failed_logins == 1

    for _ in range(5):
        await hass.config_entries.async_reload(loaded.entry_id)
        await _settle(hass)

    assert pbx.stats.login_attempts == 2
    assert not pbx.is_locked()
    assert _entry_state(loaded) is ConfigEntryState.SETUP_ERROR
    assert len(_reauth_flows(hass, loaded)) == 1

    # The user answers the reauth flow: one login tests the password, one session opens.
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"username": "api", "password": "changed"}
    )
    await _settle(hass)
    assert result["reason"] == "reauth_successful"
    assert _entry_state(loaded) is ConfigEntryState.LOADED
    assert pbx.stats.failed_logins == 1
    assert _state(hass, CONNECTION) == "connected"


# Unreachable or misbehaving PBX


# Reports over HTTPS


@pytest.mark.parametrize("use_ssl", [True, False])
async def test_https_only_home_assistant_raises_a_repair_issue(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    use_ssl: bool,
) -> None:
    """The PBX posts reports in plain HTTP: an HTTPS-only HA gets a repair issue."""
    assert hass.config.api is not None
    hass.config.api.use_ssl = use_ssl
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.LOADED
    assert _state(hass, CONNECTION) == "connected"
    assert pbx.stats.successful_logins == 1
    issue = issue_registry.async_get_issue(DOMAIN, HTTPS_ISSUE_ID)
    assert (issue is not None) is use_ssl


async def test_https_issue_goes_away_when_home_assistant_serves_http(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Once HA serves HTTP again, the next setup deletes the issue."""
    assert hass.config.api is not None
    hass.config.api.use_ssl = True
    await setup_entry(hass, config_entry)
    assert issue_registry.async_get_issue(DOMAIN, HTTPS_ISSUE_ID) is not None

    hass.config.api.use_ssl = False
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()

    assert issue_registry.async_get_issue(DOMAIN, HTTPS_ISSUE_ID) is None
    assert pbx.stats.successful_logins == 2
    assert pbx.stats.logouts == 1
