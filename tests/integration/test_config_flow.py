"""Config, reauth, reconfigure and options flows against the simulated PBX on loopback.

Every login the flows make is a real one at the simulator, so the tests count what
the PBX saw: one submission costs at most one failed login, and the flow logs out.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import socket
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.api import ApiVersion, hash_password
from custom_components.yeastar_s_series.const import (
    API_VERSION_AUTO,
    CONF_API_VERSION,
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_DOOR_STATIONS,
    CONF_FINGERPRINT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PASSWORD_HASH,
    CONF_RECORDINGS,
    CONF_TCP_PORT,
    CONF_TRUNK_INTERVAL,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    DOMAIN,
)
from custom_components.yeastar_s_series.coordinator import LOCKOUTS
from simulator import LoginAnswer, SimCertificate, SimulatedPBX, generate_certificate
from simulator.pbx import DEFAULT_API_VERSIONS, LOCKOUT_SECONDS
from tests.common import PASSWORD, SERIAL, setup_entry

NEW_PASSWORD = "n3w-Pa55w0rd"
OTHER_SERIAL = "369364835299"
TITLE = "Yeastar S100 (127.0.0.1)"

type PbxAction = Callable[[SimulatedPBX], Awaitable[None]]


@pytest.fixture(scope="module")
def certificate() -> SimCertificate:
    """One self-signed certificate for the module, like the one a PBX ships."""
    return generate_certificate()


@pytest.fixture
async def mock_setup_entry(hass: HomeAssistant) -> AsyncIterator[AsyncMock]:
    """Keep the created entry from logging in, so the PBX's counters show the flow alone."""
    with (
        patch(
            "custom_components.yeastar_s_series.async_setup_entry", return_value=True
        ) as mocked,
        patch(
            "custom_components.yeastar_s_series.async_unload_entry", return_value=True
        ),
    ):
        yield mocked
        for entry in hass.config_entries.async_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def second_pbx() -> AsyncIterator[SimulatedPBX]:
    """Run the same PBX (same serial and password) on another port."""
    async with SimulatedPBX(password=PASSWORD, serial=SERIAL) as simulated:
        yield simulated


def simulated_pbx(**kwargs: Any) -> SimulatedPBX:
    """Build a PBX with the test password and serial, unless the test says otherwise."""
    return SimulatedPBX(**{"password": PASSWORD, "serial": SERIAL, **kwargs})


def unused_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def user_input(pbx: SimulatedPBX, **overrides: Any) -> dict[str, Any]:
    """Return what the user types into the first form to reach the simulator."""
    return {
        CONF_HOST: pbx.host,
        CONF_PORT: pbx.port,
        CONF_SSL: pbx.certificate is not None,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: API_VERSION_AUTO,
        CONF_USERNAME: DEFAULT_USERNAME,
        CONF_PASSWORD: PASSWORD,
        **overrides,
    }


def without_password(data: dict[str, Any]) -> dict[str, Any]:
    """Drop the password from form input: what a re-shown form should keep."""
    return {key: value for key, value in data.items() if key != CONF_PASSWORD}


def form_defaults(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the pre-filled values of a form, by field name (fields without one left out)."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(key): key.default()
        for key in schema.schema
        if key.default is not probatio.UNDEFINED
    }


def form_fields(result: ConfigFlowResult) -> list[str]:
    """Return the field names of a form, in order."""
    schema = result["data_schema"]
    assert schema is not None
    return [str(key) for key in schema.schema]


def suggested_values(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the suggested values of a form's optional fields, by field name."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(key): key.description["suggested_value"]
        for key in schema.schema
        if key.description and "suggested_value" in key.description
    }


def assert_no_plaintext(entry: ConfigEntry) -> None:
    """Check the password is nowhere in what Home Assistant stores for the entry."""
    stored = f"{dict(entry.data)!r} {dict(entry.options)!r} {entry.title!r}"
    assert PASSWORD not in stored
    assert NEW_PASSWORD not in stored
    assert CONF_PASSWORD not in entry.data


async def start_user_flow(hass: HomeAssistant) -> ConfigFlowResult:
    """Open the user step and check it shows the empty form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return result


@pytest.fixture
async def tcp_pbx() -> AsyncIterator[SimulatedPBX]:
    """Run a PBX whose Report Method is TCP (its event port answers AMI-style)."""
    async with simulated_pbx(
        report_method="tcp", tcp_answer=LoginAnswer.AMI
    ) as simulated:
        yield simulated


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_tcp_report_method_asks_for_the_event_port(
    hass: HomeAssistant, tcp_pbx: SimulatedPBX
) -> None:
    """A PBX reporting over TCP: the flow asks for its event port and tests it first."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(tcp_pbx)
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "tcp")

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TCP_PORT: unused_port()}
    )
    assert result["errors"] == {"base": "tcp_cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TCP_PORT: tcp_pbx.tcp_port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The TCP method logs in with the password itself: only then is it kept.
    assert result["data"][CONF_PASSWORD] == PASSWORD
    assert result["result"].options == {CONF_TCP_PORT: tcp_pbx.tcp_port}


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_tcp_event_port_refusing_the_login(
    hass: HomeAssistant, tcp_pbx: SimulatedPBX
) -> None:
    """The event port refuses the login (its password was changed meanwhile): one try."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(tcp_pbx)
    )
    tcp_pbx.password = NEW_PASSWORD
    failed = tcp_pbx.stats.failed_logins

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TCP_PORT: tcp_pbx.tcp_port}
    )

    assert (result["type"], result["errors"]) == (
        FlowResultType.FORM,
        {"base": "tcp_refused"},
    )
    assert tcp_pbx.stats.failed_logins == failed + 1


# User step: success


@pytest.mark.usefixtures("ha_port")
async def test_user_form_defaults(hass: HomeAssistant) -> None:
    """The first form asks for host and password and pre-fills the rest."""
    result = await start_user_flow(hass)

    assert result["errors"] == {}
    assert form_fields(result) == [
        CONF_HOST,
        CONF_PORT,
        CONF_SSL,
        CONF_VERIFY_SSL,
        CONF_API_VERSION,
        CONF_USERNAME,
        CONF_PASSWORD,
    ]
    assert form_defaults(result) == {
        CONF_PORT: DEFAULT_PORT,
        CONF_SSL: True,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: API_VERSION_AUTO,
        CONF_USERNAME: DEFAULT_USERNAME,
    }


@pytest.mark.usefixtures("ha_port")
async def test_user_creates_entry(
    hass: HomeAssistant, pbx: SimulatedPBX, mock_setup_entry: AsyncMock
) -> None:
    """One login, device info, one logout; the entry keeps the hash, never the password."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(pbx)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLE
    assert result["result"].unique_id == SERIAL
    data = result["data"]
    webhook_id = data[CONF_WEBHOOK_ID]
    assert isinstance(webhook_id, str) and len(webhook_id) >= 32
    assert data == {
        CONF_HOST: pbx.host,
        CONF_PORT: pbx.port,
        CONF_SSL: False,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: ApiVersion.V2_0_0.value,
        CONF_USERNAME: DEFAULT_USERNAME,
        CONF_PASSWORD_HASH: hash_password(PASSWORD),
        CONF_WEBHOOK_ID: webhook_id,
        CONF_FINGERPRINT: None,  # plain HTTP: no certificate to pin
    }
    entry = result["result"]
    assert entry.options == {}
    assert_no_plaintext(entry)
    # The flow's test login is its own session, and it ends it.
    assert pbx.stats.login_attempts == 1
    assert pbx.stats.successful_logins == 1
    assert pbx.stats.logouts == 1
    assert pbx.sessions == []
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_port_is_stored_as_integer(
    hass: HomeAssistant, pbx: SimulatedPBX
) -> None:
    """The port selector hands over a float; the entry stores an int."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(pbx, **{CONF_PORT: float(pbx.port)})
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert type(result["data"][CONF_PORT]) is int


@pytest.mark.usefixtures("ha_port")
async def test_user_entry_loads_against_the_pbx(
    hass: HomeAssistant, pbx: SimulatedPBX
) -> None:
    """The created entry sets up for real: its session is the only one left at the PBX."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(pbx)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert pbx.stats.successful_logins == 2  # the flow's test, then the entry's session
    assert pbx.stats.logouts == 1  # the flow's
    assert len(pbx.sessions) == 1
    assert entry.runtime_data.coordinator.client.logged_in


@pytest.mark.parametrize(
    ("served", "chosen", "stored"),
    [
        (("v1.0.0",), "v1_0_0", "v1.0.0"),
        (("v1.1.0",), "v1_1_0", "v1.1.0"),
        (DEFAULT_API_VERSIONS, "v1_0_0", "v1.0.0"),
        (("v1.1.0",), API_VERSION_AUTO, "v1.1.0"),
        (("v1.0.0",), API_VERSION_AUTO, "v1.0.0"),
        (DEFAULT_API_VERSIONS, API_VERSION_AUTO, "v2.0.0"),
    ],
    ids=[
        "v1.0.0-chosen",
        "v1.1.0-chosen",
        "v1.0.0-chosen-on-all",
        "v1.1.0-detected",
        "v1.0.0-detected",
        "v2.0.0-detected",
    ],
)
@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_api_version(
    hass: HomeAssistant, served: tuple[str, ...], chosen: str, stored: str
) -> None:
    """A chosen version is used as is; "auto" finds the newest one the PBX serves."""
    async with simulated_pbx(api_versions=served) as pbx:
        result = await start_user_flow(hass)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(pbx, **{CONF_API_VERSION: chosen})
        )

        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_API_VERSION] == stored
        # Versions the PBX lacks answer 404 before any login: still one login.
        assert pbx.stats.login_attempts == 1
        assert pbx.stats.logouts == 1
        assert pbx.sessions == []


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_over_https(
    hass: HomeAssistant, certificate: SimCertificate
) -> None:
    """HTTPS with the PBX's self-signed certificate and verification off (the default)."""
    async with simulated_pbx(certificate=certificate) as pbx:
        result = await start_user_flow(hass)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(pbx)
        )

        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_SSL] is True
        assert result["data"][CONF_VERIFY_SSL] is False
        # Trust on first use: the certificate seen now is the one trusted from now on.
        assert result["data"][CONF_FINGERPRINT] == certificate.fingerprint
        assert pbx.stats.logouts == 1


# User step: errors, each followed by the user fixing the input


async def _go_down(pbx: SimulatedPBX) -> None:
    await pbx.go_down()


async def _come_up(pbx: SimulatedPBX) -> None:
    await pbx.come_up()


async def _send_garbage(pbx: SimulatedPBX) -> None:
    pbx.faults.garbage = True


async def _stop_garbage(pbx: SimulatedPBX) -> None:
    pbx.faults.garbage = False


async def _enable_api(pbx: SimulatedPBX) -> None:
    pbx.api_versions = DEFAULT_API_VERSIONS


async def _restore_serial(pbx: SimulatedPBX) -> None:
    pbx.serial = SERIAL


@dataclass(frozen=True, kw_only=True)
class ErrorCase:
    """A PBX or an input that makes the user step fail, and how the user fixes it."""

    error: str
    pbx: dict[str, Any] = field(default_factory=dict)  # SimulatedPBX arguments
    https: bool = False
    entered: dict[str, Any] = field(default_factory=dict)  # overrides of the input
    breaks: PbxAction | None = None
    fixed: dict[str, Any] = field(default_factory=dict)  # the corrected input
    repairs: PbxAction | None = None
    failed_logins: int = 0
    logouts: int = 0


ERROR_CASES = {
    "wrong-password": ErrorCase(
        error="invalid_auth",
        entered={CONF_PASSWORD: "wrong"},
        fixed={CONF_PASSWORD: PASSWORD},
        failed_logins=1,
    ),
    "wrong-password-chosen-version": ErrorCase(
        error="invalid_auth",
        entered={CONF_PASSWORD: "wrong", CONF_API_VERSION: "v1_1_0"},
        fixed={CONF_PASSWORD: PASSWORD, CONF_API_VERSION: "v1_1_0"},
        failed_logins=1,
    ),
    "wrong-username": ErrorCase(
        error="invalid_auth",
        entered={CONF_USERNAME: "admin"},
        fixed={CONF_USERNAME: DEFAULT_USERNAME},
        failed_logins=1,
    ),
    "pbx-down": ErrorCase(error="cannot_connect", breaks=_go_down, repairs=_come_up),
    "api-off": ErrorCase(
        error="api_unavailable", pbx={"api_versions": ()}, repairs=_enable_api
    ),
    "version-not-served": ErrorCase(
        error="api_unavailable",
        pbx={"api_versions": ("v1.0.0",)},
        entered={CONF_API_VERSION: "v2_0_0"},
        fixed={CONF_API_VERSION: API_VERSION_AUTO},
    ),
    "self-signed-verified": ErrorCase(
        error="tls_error",
        https=True,
        entered={CONF_VERIFY_SSL: True},
        fixed={CONF_VERIFY_SSL: False},
    ),
    "https-to-plain-http": ErrorCase(
        error="tls_error", entered={CONF_SSL: True}, fixed={CONF_SSL: False}
    ),
    "plain-http-to-https": ErrorCase(
        error="https_required",
        https=True,
        entered={CONF_SSL: False},
        fixed={CONF_SSL: True},
    ),
    "garbage": ErrorCase(error="unknown", breaks=_send_garbage, repairs=_stop_garbage),
    "no-serial": ErrorCase(
        error="unknown",
        pbx={"serial": ""},
        repairs=_restore_serial,
        logouts=1,  # the device info failed after the login: the flow still logs out
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
@pytest.mark.usefixtures("ha_port", "mock_setup_entry", "pbx_handshake_log")
async def test_user_error_then_recovery(
    hass: HomeAssistant, certificate: SimCertificate, case: ErrorCase
) -> None:
    """The form comes back with the error and the input minus the password; fixed, it finishes."""
    pbx_options = {**case.pbx, "certificate": certificate if case.https else None}
    async with simulated_pbx(**pbx_options) as pbx:
        if case.breaks is not None:
            await case.breaks(pbx)
        result = await start_user_flow(hass)
        entered = user_input(pbx, **case.entered)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], entered
        )

        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "user"
        assert result["errors"] == {"base": case.error}
        assert form_defaults(result) == without_password(entered)
        assert pbx.stats.failed_logins == case.failed_logins
        assert pbx.stats.logouts == case.logouts
        assert pbx.sessions == []
        assert not hass.config_entries.async_entries(DOMAIN)

        if case.repairs is not None:
            await case.repairs(pbx)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**entered, **case.fixed}
        )

        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == SERIAL
        assert pbx.stats.failed_logins == case.failed_logins
        assert pbx.sessions == []


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_nothing_listening(hass: HomeAssistant) -> None:
    """A port where nothing listens is a connection problem, not a missing API."""
    result = await start_user_flow(hass)
    entered = {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: unused_port(),
        CONF_SSL: False,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: API_VERSION_AUTO,
        CONF_USERNAME: DEFAULT_USERNAME,
        CONF_PASSWORD: PASSWORD,
    }

    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert form_defaults(result) == without_password(entered)


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_locked_out(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Five wrong passwords lock the address; the sixth submission says so, even with the right one."""
    result = await start_user_flow(hass)
    flow_id = result["flow_id"]
    wrong = user_input(pbx, **{CONF_PASSWORD: "wrong"})

    for attempt in range(1, 6):
        result = await hass.config_entries.flow.async_configure(flow_id, wrong)
        assert result["errors"] == {"base": "invalid_auth"}
        assert pbx.stats.failed_logins == attempt
    assert pbx.is_locked()

    result = await hass.config_entries.flow.async_configure(flow_id, user_input(pbx))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "locked_out"}
    assert form_defaults(result) == without_password(user_input(pbx))
    assert pbx.stats.locked_refusals == 1
    assert pbx.stats.failed_logins == 5

    # Ten minutes later the PBX takes the right password again.
    pbx.clock.advance(LOCKOUT_SECONDS)
    result = await hass.config_entries.flow.async_configure(flow_id, user_input(pbx))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert pbx.stats.login_attempts == 7


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_logout_failure_still_creates_entry(
    hass: HomeAssistant, pbx: SimulatedPBX, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PBX restarts its API service right after the device info: the test still passed."""
    answer_device_info = pbx._deviceinfo

    def device_info_then_restart(*args: Any) -> dict[str, Any]:
        answer = answer_device_info(*args)
        pbx.forget_tokens()  # the logout that follows gets errno 20004
        return answer

    monkeypatch.setattr(pbx, "_deviceinfo", device_info_then_restart)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(pbx)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert pbx.stats.requests["logout"] == 1  # tried
    assert pbx.stats.logouts == 0  # and refused


@pytest.mark.usefixtures("ha_port", "mock_setup_entry")
async def test_user_already_configured(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    second_pbx: SimulatedPBX,
) -> None:
    """The same serial, even on another port, aborts; the existing entry is untouched."""
    config_entry.add_to_hass(hass)
    stored = dict(config_entry.data)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(second_pbx)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [config_entry]
    assert dict(config_entry.data) == stored
    assert second_pbx.stats.logouts == 1
    assert second_pbx.sessions == []


# Reauth


async def start_reauth(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    """Open the reauth flow and check it asks for the password."""
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["title"] == entry.title
    assert form_fields(result) == [CONF_USERNAME, CONF_PASSWORD]
    assert form_defaults(result) == {CONF_USERNAME: DEFAULT_USERNAME}
    return result


async def test_reauth_with_changed_password(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """A wrong password costs one failed login; the new one is stored as its hash and the entry reloads."""
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    pbx.password = NEW_PASSWORD
    result = await start_reauth(hass, config_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: DEFAULT_USERNAME, CONF_PASSWORD: PASSWORD}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    assert pbx.stats.failed_logins == 1
    assert config_entry.data[CONF_PASSWORD_HASH] == hash_password(PASSWORD)

    logins = pbx.stats.successful_logins
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: DEFAULT_USERNAME, CONF_PASSWORD: NEW_PASSWORD},
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data[CONF_PASSWORD_HASH] == hash_password(NEW_PASSWORD)
    assert config_entry.data[CONF_USERNAME] == DEFAULT_USERNAME
    assert_no_plaintext(config_entry)
    assert pbx.stats.failed_logins == 1
    # Reloaded: a new coordinator logged in with the new hash.
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.coordinator is not coordinator
    assert config_entry.runtime_data.coordinator.client.logged_in
    assert pbx.stats.successful_logins == logins + 2  # the flow's test, the reload's


async def test_reauth_clears_a_recorded_lockout(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """After a successful reauth the reload logs in at once instead of waiting the lockout out."""
    await setup_entry(hass, config_entry)
    hass.data[LOCKOUTS][config_entry.entry_id] = dt_util.utcnow() + timedelta(
        minutes=10
    )
    result = await start_reauth(hass, config_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: DEFAULT_USERNAME, CONF_PASSWORD: PASSWORD}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.entry_id not in hass.data[LOCKOUTS]
    assert config_entry.state is ConfigEntryState.LOADED


async def test_reauth_pbx_down(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """Reauth against an unreachable PBX shows the error and stores nothing."""
    await setup_entry(hass, config_entry)
    result = await start_reauth(hass, config_entry)
    await pbx.go_down()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: DEFAULT_USERNAME, CONF_PASSWORD: NEW_PASSWORD},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert config_entry.data[CONF_PASSWORD_HASH] == hash_password(PASSWORD)


async def test_reauth_wrong_device(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """Another PBX now answers at the address: abort, keep the stored hash."""
    await setup_entry(hass, config_entry)
    stored = dict(config_entry.data)
    pbx.serial = OTHER_SERIAL
    pbx.password = NEW_PASSWORD
    result = await start_reauth(hass, config_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_USERNAME: DEFAULT_USERNAME, CONF_PASSWORD: NEW_PASSWORD},
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert dict(config_entry.data) == stored
    assert config_entry.unique_id == SERIAL


# Reconfigure


def reconfigure_input(pbx: SimulatedPBX, **overrides: Any) -> dict[str, Any]:
    """Return the reconfigure form's fields pointing at the simulator."""
    return {
        key: value
        for key, value in user_input(pbx, **overrides).items()
        if key not in (CONF_USERNAME, CONF_PASSWORD)
    }


async def start_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry
) -> ConfigFlowResult:
    """Open the reconfigure flow; it shows the stored connection."""
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert form_defaults(result) == {
        **{
            key: entry.data[key]
            for key in (CONF_HOST, CONF_PORT, CONF_SSL, CONF_VERIFY_SSL)
        },
        # The form names versions without dots (translation keys allow none).
        CONF_API_VERSION: entry.data[CONF_API_VERSION].replace(".", "_"),
    }
    return result


@pytest.mark.parametrize(
    ("served", "chosen", "stored"),
    [
        (("v1.1.0",), API_VERSION_AUTO, "v1.1.0"),
        (DEFAULT_API_VERSIONS, "v1_0_0", "v1.0.0"),
    ],
    ids=["detected", "chosen"],
)
async def test_reconfigure_to_another_port(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    served: tuple[str, ...],
    chosen: str,
    stored: str,
) -> None:
    """The same PBX on a new port: data updated, version detected or as chosen, entry reloaded."""
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    before = dict(config_entry.data)
    async with simulated_pbx(api_versions=served) as moved:
        result = await start_reconfigure(hass, config_entry)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            reconfigure_input(moved, **{CONF_PORT: float(moved.port)})
            | {CONF_API_VERSION: chosen},
        )
        await hass.async_block_till_done()

        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert dict(config_entry.data) == {
            **before,
            CONF_PORT: moved.port,
            CONF_API_VERSION: stored,
            CONF_FINGERPRINT: None,  # plain HTTP: nothing to pin
        }
        assert type(config_entry.data[CONF_PORT]) is int
        assert moved.stats.logouts == 1  # the flow's test session
        # Reloaded against the moved PBX, with the stored hash.
        assert config_entry.state is ConfigEntryState.LOADED
        assert config_entry.runtime_data.coordinator is not coordinator
        assert config_entry.runtime_data.coordinator.client.port == moved.port
        assert len(moved.sessions) == 1
        await hass.config_entries.async_unload(config_entry.entry_id)


@dataclass(frozen=True, kw_only=True)
class ReconfigureErrorCase:
    """A PBX at the new address that the reconfigure step must refuse."""

    error: str
    pbx: dict[str, Any] = field(default_factory=dict)
    https: bool = False
    entered: dict[str, Any] = field(default_factory=dict)
    down: bool = False
    garbage: bool = False
    failed_logins: int = 0


RECONFIGURE_ERRORS = {
    "pbx-down": ReconfigureErrorCase(error="cannot_connect", down=True),
    "api-off": ReconfigureErrorCase(error="api_unavailable", pbx={"api_versions": ()}),
    "self-signed-verified": ReconfigureErrorCase(
        error="tls_error", https=True, entered={CONF_VERIFY_SSL: True}
    ),
    "password-differs": ReconfigureErrorCase(
        error="invalid_auth", pbx={"password": NEW_PASSWORD}, failed_logins=1
    ),
    "garbage": ReconfigureErrorCase(error="unknown", garbage=True),
}


@pytest.mark.parametrize(
    "case", RECONFIGURE_ERRORS.values(), ids=RECONFIGURE_ERRORS.keys()
)
@pytest.mark.usefixtures("pbx_handshake_log")
async def test_reconfigure_error_then_recovery(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    second_pbx: SimulatedPBX,
    certificate: SimCertificate,
    case: ReconfigureErrorCase,
) -> None:
    """The form comes back with the error and the entered values; the right port then works."""
    await setup_entry(hass, config_entry)
    before = dict(config_entry.data)
    pbx_options = {**case.pbx, "certificate": certificate if case.https else None}
    async with simulated_pbx(**pbx_options) as broken:
        if case.down:
            await broken.go_down()
        broken.faults.garbage = case.garbage
        result = await start_reconfigure(hass, config_entry)
        entered = reconfigure_input(broken, **case.entered)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], entered
        )

        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "reconfigure"
        assert result["errors"] == {"base": case.error}
        assert form_defaults(result) == entered
        assert dict(config_entry.data) == before
        assert broken.stats.failed_logins == case.failed_logins
        assert broken.sessions == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], reconfigure_input(second_pbx)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.data[CONF_PORT] == second_pbx.port
    assert config_entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_reconfigure_wrong_device(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Another PBX (another serial) at the new port: abort, keep the stored connection."""
    await setup_entry(hass, config_entry)
    before = dict(config_entry.data)
    async with simulated_pbx(serial=OTHER_SERIAL) as other:
        result = await start_reconfigure(hass, config_entry)

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], reconfigure_input(other)
        )

        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_device"
        assert dict(config_entry.data) == before
        assert other.stats.logouts == 1


# Options


@pytest.mark.parametrize(
    ("entered", "stored"),
    [
        (
            {
                CONF_HEARTBEAT_INTERVAL: 120.0,
                CONF_TRUNK_INTERVAL: 600.0,
                CONF_CALLBACK_HOST: "192.0.2.10",
                CONF_CALLBACK_PORT: 8300.0,
                CONF_DOOR_STATIONS: ["1003"],
                CONF_RECORDINGS: True,
            },
            {
                CONF_HEARTBEAT_INTERVAL: 120,
                CONF_TRUNK_INTERVAL: 600,
                CONF_CALLBACK_HOST: "192.0.2.10",
                CONF_CALLBACK_PORT: 8300,
                CONF_DOOR_STATIONS: ["1003"],
                CONF_RECORDINGS: True,
            },
        ),
        (
            {CONF_HEARTBEAT_INTERVAL: 30.0, CONF_CALLBACK_HOST: ""},
            {CONF_HEARTBEAT_INTERVAL: 30, CONF_TRUNK_INTERVAL: 120},
        ),
    ],
    ids=["override", "empty-fields-dropped"],
)
async def test_options(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    ha_port: int,
    entered: dict[str, Any],
    stored: dict[str, Any],
) -> None:
    """The form shows the current options; submitted ones are stored and the entry reloads."""
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    result = await hass.config_entries.options.async_init(config_entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert form_defaults(result) == {
        CONF_HEARTBEAT_INTERVAL: DEFAULT_HEARTBEAT_INTERVAL,
        CONF_TRUNK_INTERVAL: 120,
        CONF_RECORDINGS: False,
        CONF_DOOR_STATIONS: [],
    }
    assert suggested_values(result) == {
        CONF_CALLBACK_HOST: "127.0.0.1",
        CONF_CALLBACK_PORT: ha_port,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], entered
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options == stored
    assert all(
        type(config_entry.options[key]) is type(value) for key, value in stored.items()
    )
    # Reloaded with the new heartbeat interval.
    assert config_entry.state is ConfigEntryState.LOADED
    new_coordinator = config_entry.runtime_data.coordinator
    assert new_coordinator is not coordinator
    assert new_coordinator.update_interval == timedelta(
        seconds=stored[CONF_HEARTBEAT_INTERVAL]
    )


@pytest.mark.parametrize(
    ("entered", "errors"),
    [
        (
            {CONF_CALLBACK_HOST: "not an address!"},
            {CONF_CALLBACK_HOST: "invalid_callback_host"},
        ),
        (
            {CONF_CALLBACK_HOST: "ha-.local"},
            {CONF_CALLBACK_HOST: "invalid_callback_host"},
        ),
        (
            {CONF_CALLBACK_HOST: "a" * 64 + ".local"},
            {CONF_CALLBACK_HOST: "invalid_callback_host"},
        ),
        ({CONF_CALLBACK_PORT: 8123.5}, {CONF_CALLBACK_PORT: "invalid_callback_port"}),
    ],
)
async def test_options_refuse_a_report_address_the_pbx_cannot_use(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    entered: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A report address that is no IP address or host name is refused; nothing is stored."""
    await setup_entry(hass, config_entry)
    before = dict(config_entry.options)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_HEARTBEAT_INTERVAL: 45, **entered}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert form_defaults(result)[CONF_HEARTBEAT_INTERVAL] == 45  # what was typed stays
    assert config_entry.options == before


async def test_options_take_a_host_name_or_an_ipv6_address(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """Host names and IPv6 addresses are addresses the PBX can post to."""
    await setup_entry(hass, config_entry)
    for host in ("homeassistant.local", "fd00::10"):
        result = await hass.config_entries.options.async_init(config_entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_HEARTBEAT_INTERVAL: 30, CONF_CALLBACK_HOST: host}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert config_entry.options[CONF_CALLBACK_HOST] == host
