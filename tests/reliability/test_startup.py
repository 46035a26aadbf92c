"""Home Assistant starts while the PBX is down."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.const import DOMAIN
from tests.common import WEBHOOK_ID, setup_entry

from .common import (
    CONNECTION,
    JAYSON,
    InstrumentedPBX,
    LoopLagProbe,
    RequestLog,
    advance,
    assert_events_resume,
    assert_no_lockout,
    reauth_flows,
    state,
)

STEP = timedelta(seconds=30)


def _entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    """Read the entry's state afresh (keeps mypy from narrowing it across awaits)."""
    return entry.state


async def test_home_assistant_starts_while_the_pbx_is_down(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    config_entry: MockConfigEntry,
    client_requests: RequestLog,
    issue_registry: ir.IssueRegistry,
    loop_lag: LoopLagProbe,
) -> None:
    """SETUP_RETRY for 20 minutes, one refused request per try; back: one login.

    Home Assistant retries the setup after 5, 10, 20, ... seconds (at most 10
    minutes apart); each try asks the PBX once and never reaches a login.
    """
    await pbx.go_down()
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.reason == "Could not connect to the PBX"
    assert hass.states.get(CONNECTION) is None
    assert WEBHOOK_ID not in hass.data.get(webhook.DOMAIN, {})

    for _ in range(40):  # 20 minutes down
        await advance(hass, freezer, STEP)
        assert _entry_state(config_entry) is ConfigEntryState.SETUP_RETRY

    # Tries at about 0, 30, 60, 90, 150, 240, 420 and 750 s (HA's back-off, in 30 s steps).
    assert client_requests.clients == 8
    assert client_requests.calls == {"login": 8}  # each refused at the closed port
    assert client_requests.peak_in_flight == 1
    assert pbx.stats.login_attempts == 0
    assert reauth_flows(hass, config_entry) == []
    assert not [i for i in issue_registry.issues.values() if i.domain == DOMAIN]

    await pbx.come_up()
    for _ in range(25):  # the next try is at most 10 minutes away
        await advance(hass, freezer, STEP)
        if _entry_state(config_entry) is ConfigEntryState.LOADED:
            break

    assert _entry_state(config_entry) is ConfigEntryState.LOADED
    assert pbx.stats.login_attempts == 1
    assert pbx.stats.successful_logins == 1
    assert len(pbx.sessions) == 1
    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert WEBHOOK_ID in hass.data.get(webhook.DOMAIN, {})
    await advance(hass, freezer, timedelta(minutes=5))
    assert pbx.stats.login_attempts == 1
    await assert_events_resume(hass, pbx, config_entry)
    assert_no_lockout(pbx)
    loop_lag.assert_responsive()
