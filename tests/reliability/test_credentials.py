"""Refused logins: the password changed on the PBX, an IP lockout caused by someone else."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.yeastar_s_series.const import DOMAIN, EVENT_YEASTAR
from custom_components.yeastar_s_series.repairs import LOCKED_OUT, issue_id
from tests.common import SERIAL, WEBHOOK_ID

from .common import (
    CALLS,
    CONNECTION,
    JAYSON,
    UNAVAILABLE,
    InstrumentedPBX,
    LoopLagProbe,
    RequestLog,
    assert_events_resume,
    assert_no_lockout,
    extension_states,
    heartbeats,
    lock_out,
    post_report,
    reauth_flows,
    report_body,
    settle,
    state,
)

NEW_PASSWORD = "n3w-Pa55word"
MINUTE = timedelta(minutes=1)


def _entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    """Read the entry's state afresh (keeps mypy from narrowing it across awaits)."""
    return entry.state


async def test_password_changed_on_the_pbx(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    client_requests: RequestLog,
    ha_port: int,
    loop_lag: LoopLagProbe,
) -> None:
    """auth_failed, one reauth flow, and no login for two hours until the user answers.

    BootUp and ConfigChange reports, which otherwise make the integration log in
    or read the PBX again, send nothing either. The user's answer, a typo first,
    costs one failed login each; then the entry connects again.
    """
    pbx.password = NEW_PASSWORD
    pbx.forget_tokens()
    await heartbeats(hass, freezer, 1)

    assert state(hass, CONNECTION) == "auth_failed"
    assert extension_states(hass) == {UNAVAILABLE}
    assert state(hass, CALLS) != UNAVAILABLE
    assert len(reauth_flows(hass, loaded)) == 1
    assert pbx.stats.login_attempts == 2
    assert pbx.stats.failed_logins == 1

    # Two hours of heartbeat intervals; the PBX reboots twice and changes its config.
    events = async_capture_events(hass, EVENT_YEASTAR)
    requests = client_requests.total
    news = {30: "BootUp", 60: "ConfigChange", 90: "BootUp"}
    for minute in range(1, 121):
        await heartbeats(hass, freezer, 1)
        if (name := news.get(minute)) is not None:
            assert (
                await post_report(ha_port, WEBHOOK_ID, report_body(name, SERIAL)) == 200
            )
            await settle(hass)

    assert [event.data["event"] for event in events] == list(news.values())
    assert client_requests.total == requests  # not a single request to the PBX
    assert pbx.stats.login_attempts == 2
    assert pbx.stats.failed_logins == 1
    assert state(hass, CONNECTION) == "auth_failed"
    assert len(reauth_flows(hass, loaded)) == 1
    assert_no_lockout(pbx, failed_by_test=1)

    # The user answers the reauth flow: a typo first, then the new password.
    (flow,) = reauth_flows(hass, loaded)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_USERNAME: "api", CONF_PASSWORD: "n3w-Pa55wrod"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert pbx.stats.failed_logins == 2

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_USERNAME: "api", CONF_PASSWORD: NEW_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await settle(hass)

    assert _entry_state(loaded) is ConfigEntryState.LOADED
    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert reauth_flows(hass, loaded) == []
    # The flow's test login (then logout), and the reloaded entry's login.
    assert pbx.stats.login_attempts == 2 + 1 + 2
    assert pbx.stats.successful_logins == 1 + 2
    assert pbx.stats.logouts == 1
    assert len(pbx.sessions) == 1
    await heartbeats(hass, freezer, 3)
    assert pbx.stats.login_attempts == 5
    await assert_events_resume(hass, pbx, loaded)
    assert_no_lockout(pbx, failed_by_test=2)
    loop_lag.assert_responsive()


async def test_lockout_caused_by_someone_else(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    loaded: MockConfigEntry,
    client_requests: RequestLog,
    ha_port: int,
    issue_registry: ir.IssueRegistry,
    loop_lag: LoopLagProbe,
) -> None:
    """Someone else locks 127.0.0.1 out while the integration's token is lost.

    One refused login shows locked_out and a repair issue; for 10 minutes nothing
    is tried, not even after BootUp or ConfigChange reports; then one login works.
    The integration adds no failed login to the five the other client caused.
    """
    lockout = issue_id(LOCKED_OUT, loaded.entry_id)
    await lock_out(pbx)
    pbx.forget_tokens()
    attempts = pbx.stats.login_attempts
    await heartbeats(hass, freezer, 1)

    assert pbx.stats.login_attempts == attempts + 1
    assert pbx.stats.locked_refusals == 1
    assert state(hass, CONNECTION) == "locked_out"
    assert extension_states(hass) == {UNAVAILABLE}
    assert issue_registry.async_get_issue(DOMAIN, lockout) is not None
    assert reauth_flows(hass, loaded) == []

    events = async_capture_events(hass, EVENT_YEASTAR)
    requests = client_requests.total
    news = {3: "BootUp", 6: "ConfigChange"}
    for minute in range(1, 10):
        await heartbeats(hass, freezer, 1, MINUTE)
        if (name := news.get(minute)) is not None:
            assert (
                await post_report(ha_port, WEBHOOK_ID, report_body(name, SERIAL)) == 200
            )
            await settle(hass)
        assert state(hass, CONNECTION) == "locked_out"

    assert [event.data["event"] for event in events] == list(news.values())
    assert client_requests.total == requests
    assert pbx.stats.login_attempts == attempts + 1
    assert issue_registry.async_get_issue(DOMAIN, lockout) is not None

    # Ten minutes after the refused login: one login, and it works.
    await heartbeats(hass, freezer, 1, MINUTE)

    assert not pbx.is_locked()
    assert pbx.stats.login_attempts == attempts + 2
    assert pbx.stats.locked_refusals == 1
    assert pbx.stats.failed_logins == 5  # all of them the other client's
    assert state(hass, CONNECTION) == "connected"
    assert state(hass, JAYSON) == "registered"
    assert issue_registry.async_get_issue(DOMAIN, lockout) is None
    await heartbeats(hass, freezer, 3)
    assert pbx.stats.login_attempts == attempts + 2
    await assert_events_resume(hass, pbx, loaded)
    assert_no_lockout(pbx, failed_by_test=5)
    loop_lag.assert_responsive()
