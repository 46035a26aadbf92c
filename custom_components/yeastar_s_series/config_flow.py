"""Config flow: find the PBX, test the credentials with one real login, store only the hash."""

from collections.abc import Mapping
import logging
from typing import Any, NamedTuple, override

from homeassistant.components.webhook import async_generate_id
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
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
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .api import (
    DEFAULT_PORT,
    DEFAULT_TCP_PORT,
    ApiVersion,
    DeviceInfo,
    ReportMethod,
    YeastarAuthenticationError,
    YeastarClient,
    YeastarConnectionError,
    YeastarError,
    YeastarEventLink,
    YeastarLoginUnansweredError,
    fetch_certificate_fingerprint,
    hash_password,
)
from .const import (
    API_VERSION_AUTO,
    CONF_API_VERSION,
    CONF_AUTH_REFUSED,
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
    DEFAULT_USERNAME,
    DOMAIN,
    MAX_HEARTBEAT_INTERVAL,
    MIN_HEARTBEAT_INTERVAL,
)
from .coordinator import LOCKOUTS, TCP_PASSWORD_NEEDED, YeastarConfigEntry, failure_for
from .inventory import DEFAULT_TRUNK_INTERVAL, MAX_TRUNK_INTERVAL, MIN_TRUNK_INTERVAL
from .report_target import (
    ReportAddressUnknownError,
    async_report_target,
    async_resolve_host,
    is_host,
)

_LOGGER = logging.getLogger(__name__)

PORT_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
)
PASSWORD_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _choice(version: str) -> str:
    """Name an API version in the form: translation keys allow no dots (v2.0.0 -> v2_0_0)."""
    return version.replace(".", "_")


def _chosen_version(choice: str) -> ApiVersion | None:
    """Read the form's API version back; None asks for detection."""
    if choice == API_VERSION_AUTO:
        return None
    return ApiVersion(choice.replace("_", "."))


API_VERSION_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[API_VERSION_AUTO, *(_choice(version) for version in ApiVersion)],
        mode=SelectSelectorMode.DROPDOWN,
        translation_key=CONF_API_VERSION,
    )
)


def _connection_schema(defaults: Mapping[str, Any]) -> dict[probatio.Marker, Any]:
    """Fields that say where the PBX is and how to talk to it."""
    return {
        probatio.Required(
            CONF_HOST, default=defaults.get(CONF_HOST, probatio.UNDEFINED)
        ): str,
        probatio.Required(
            CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)
        ): PORT_SELECTOR,
        probatio.Required(CONF_SSL, default=defaults.get(CONF_SSL, True)): bool,
        probatio.Required(
            CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, False)
        ): bool,
        probatio.Required(
            CONF_API_VERSION,
            default=_choice(defaults.get(CONF_API_VERSION, API_VERSION_AUTO)),
        ): API_VERSION_SELECTOR,
    }


def _user_schema(defaults: Mapping[str, Any]) -> probatio.Schema:
    """Build the first form: connection plus credentials."""
    return probatio.Schema(
        {
            **_connection_schema(defaults),
            probatio.Required(
                CONF_USERNAME, default=defaults.get(CONF_USERNAME, DEFAULT_USERNAME)
            ): str,
            probatio.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
        }
    )


def _without_refusal(data: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data without the mark of a refused password: the user just signed in."""
    return {key: value for key, value in data.items() if key != CONF_AUTH_REFUSED}


def _without_password(data: Mapping[str, Any]) -> dict[str, Any]:
    """Form input or entry data without the plaintext password."""
    return {key: value for key, value in data.items() if key != CONF_PASSWORD}


async def _async_speaks_tls(settings: Mapping[str, Any]) -> bool:
    """Say whether plain HTTP failed because the port serves HTTPS (a common slip)."""
    if settings[CONF_SSL]:
        return False
    try:
        await fetch_certificate_fingerprint(
            settings[CONF_HOST], int(settings[CONF_PORT]), timeout=5
        )
    except YeastarError:
        return False
    return True


class TestedPbx(NamedTuple):
    """What one successful test login learned about the PBX."""

    api_version: ApiVersion
    device: DeviceInfo
    fingerprint: str | None
    report_method: ReportMethod


class YeastarConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Yeastar S-Series PBX."""

    VERSION = 1
    # Between the user step and the TCP step: what the entry will hold.
    _title: str
    _data: dict[str, Any]
    _password: str

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: YeastarConfigEntry) -> YeastarOptionsFlow:
        """Options: heartbeat interval and the report address override."""
        return YeastarOptionsFlow()

    async def _async_test_login(
        self, settings: Mapping[str, Any], password_hash: str, webhook_id: str
    ) -> TestedPbx:
        """Log in once (detecting the API version first if asked), read the device, log out.

        Detection sends no credentials, so one submission never costs more than
        one failed login at the PBX. Over HTTPS without CA verification, the
        certificate seen now is pinned (unless `settings` already carries a pin)
        and the login goes through that pin.
        """
        host = settings[CONF_HOST]
        port = int(settings[CONF_PORT])
        fingerprint: str | None = settings.get(CONF_FINGERPRINT)
        if fingerprint is None and settings[CONF_SSL] and not settings[CONF_VERIFY_SSL]:
            fingerprint = await fetch_certificate_fingerprint(host, port)
        chosen = _chosen_version(settings[CONF_API_VERSION])
        client = YeastarClient(
            async_get_clientsession(self.hass),
            host,
            username=settings[CONF_USERNAME],
            password_hash=password_hash,
            port=port,
            https=settings[CONF_SSL],
            verify_tls=settings[CONF_VERIFY_SSL],
            fingerprint=fingerprint,
            api_version=chosen or ApiVersion.V2_0_0,
        )
        addresses = await async_resolve_host(self.hass, host)
        target = await async_report_target(self.hass, addresses, host, webhook_id, {})
        if chosen is None:
            await client.detect_api_version()
        await client.login(target)
        try:
            device = await client.device_info()
        finally:
            try:
                await client.logout()
            except YeastarError as err:
                _LOGGER.debug("Logout after the connection test failed: %s", err)
        return TestedPbx(client.api_version, device, fingerprint, client.report_method)

    async def _async_validate(
        self, settings: Mapping[str, Any], password_hash: str, webhook_id: str
    ) -> tuple[dict[str, str], TestedPbx | None]:
        """Run the login test and turn its failure into a form error."""
        try:
            result = await self._async_test_login(settings, password_hash, webhook_id)
        except ReportAddressUnknownError:
            return {"base": "report_address_unknown"}, None
        except YeastarError as err:
            form_error = failure_for(err).form_error
            if form_error == "unknown":
                _LOGGER.exception("Unexpected answer from the PBX")
            elif form_error == "cannot_connect" and await _async_speaks_tls(settings):
                form_error = "https_required"
            return {"base": form_error}, None
        return {}, result

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the PBX is and for its API credentials."""
        errors: dict[str, str] = {}
        if user_input is not None:
            password_hash = hash_password(user_input[CONF_PASSWORD])
            webhook_id = async_generate_id()
            errors, result = await self._async_validate(
                user_input, password_hash, webhook_id
            )
            if result is not None:
                await self.async_set_unique_id(result.device.serial)
                self._abort_if_unique_id_configured()
                self._title = f"{result.device.model} ({user_input[CONF_HOST]})"
                self._data = {
                    **_without_password(user_input),
                    CONF_PORT: int(user_input[CONF_PORT]),
                    CONF_API_VERSION: result.api_version.value,
                    CONF_FINGERPRINT: result.fingerprint,
                    CONF_PASSWORD_HASH: password_hash,
                    CONF_WEBHOOK_ID: webhook_id,
                }
                if result.report_method is ReportMethod.TCP:
                    self._password = user_input[CONF_PASSWORD]
                    return await self.async_step_tcp()
                return self.async_create_entry(title=self._title, data=self._data)
            user_input = _without_password(user_input)
        return self.async_show_form(
            step_id="user", data_schema=_user_schema(user_input or {}), errors=errors
        )

    async def async_step_tcp(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the PBX's event port, and test it: the PBX reports over TCP.

        That report method needs the API password itself, so the entry keeps it.
        """
        errors: dict[str, str] = {}
        port = DEFAULT_TCP_PORT
        if user_input is not None:
            port = int(user_input[CONF_TCP_PORT])
            link = YeastarEventLink(
                self._data[CONF_HOST],
                port,
                username=self._data[CONF_USERNAME],
                password=self._password,
            )
            try:
                async with link:
                    pass
            except YeastarAuthenticationError, YeastarLoginUnansweredError:
                errors["base"] = "tcp_refused"
            except YeastarConnectionError:
                errors["base"] = "tcp_cannot_connect"
            else:
                return self.async_create_entry(
                    title=self._title,
                    data={**self._data, CONF_PASSWORD: self._password},
                    options={CONF_TCP_PORT: port},
                )
        return self.async_show_form(
            step_id="tcp",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_TCP_PORT, default=port): PORT_SELECTOR}
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask for the password: refused by the PBX, or needed for the TCP report method."""
        if entry_data.get(TCP_PASSWORD_NEEDED):
            return await self.async_step_reauth_tcp()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_tcp(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password the PBX's TCP report method needs (the PBX switched to it)."""
        return await self.async_step_reauth_confirm(user_input, step_id="reauth_tcp")

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None, step_id: str = "reauth_confirm"
    ) -> ConfigFlowResult:
        """Test the password with one login before storing its hash.

        The password itself is kept only when the PBX reports over TCP.
        """
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            password_hash = hash_password(user_input[CONF_PASSWORD])
            settings = {**entry.data, CONF_USERNAME: user_input[CONF_USERNAME]}
            errors, result = await self._async_validate(
                settings, password_hash, entry.data[CONF_WEBHOOK_ID]
            )
            if result is not None:
                await self.async_set_unique_id(result.device.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                self.hass.data.get(LOCKOUTS, {}).pop(entry.entry_id, None)
                kept = (
                    {CONF_PASSWORD: user_input[CONF_PASSWORD]}
                    if result.report_method is ReportMethod.TCP
                    else {}
                )
                return self.async_update_reload_and_abort(
                    entry,
                    data={
                        **_without_refusal(entry.data),
                        CONF_USERNAME: user_input[CONF_USERNAME],
                        CONF_PASSWORD_HASH: password_hash,
                        **kept,
                    },
                )
        return self.async_show_form(
            step_id=step_id,
            data_schema=probatio.Schema(
                {
                    probatio.Required(
                        CONF_USERNAME, default=entry.data[CONF_USERNAME]
                    ): str,
                    probatio.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
                }
            ),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change host, port, TLS or API version of the same PBX."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            # A new address may show a new certificate: pin it afresh.
            settings = {**entry.data, **user_input, CONF_FINGERPRINT: None}
            errors, result = await self._async_validate(
                settings, entry.data[CONF_PASSWORD_HASH], entry.data[CONF_WEBHOOK_ID]
            )
            if result is not None:
                await self.async_set_unique_id(result.device.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                data = _without_refusal(entry.data)
                if result.report_method is ReportMethod.HTTP:
                    data = _without_password(data)  # kept for the TCP method only
                return self.async_update_reload_and_abort(
                    entry,
                    data={
                        **data,
                        **user_input,
                        CONF_PORT: int(user_input[CONF_PORT]),
                        CONF_API_VERSION: result.api_version.value,
                        CONF_FINGERPRINT: result.fingerprint,
                    },
                )
        defaults = user_input or entry.data
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(_connection_schema(defaults)),
            errors=errors,
        )


class YeastarOptionsFlow(OptionsFlowWithReload):
    """Tune the heartbeat and where the PBX sends reports; name the door stations."""

    def _extension_choices(self) -> list[SelectOptionDict]:
        """List the PBX's extensions to pick door stations from (none while not loaded)."""
        entry: YeastarConfigEntry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return []
        extensions = entry.runtime_data.coordinator.data.extensions.values()
        return [
            SelectOptionDict(
                value=ext.number,
                label=f"{ext.name} ({ext.number})" if ext.name else ext.number,
            )
            for ext in sorted(extensions, key=lambda ext: ext.number)
        ]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the options; the entry reloads with them.

        The report address is told to the PBX as it is: anything but an IP address
        or a host name would make it post nowhere while the session looks fine.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            data: dict[str, Any] = {
                CONF_HEARTBEAT_INTERVAL: int(user_input[CONF_HEARTBEAT_INTERVAL]),
                CONF_TRUNK_INTERVAL: int(user_input[CONF_TRUNK_INTERVAL]),
            }
            if host := user_input.get(CONF_CALLBACK_HOST, "").strip():
                if is_host(host):
                    data[CONF_CALLBACK_HOST] = host
                else:
                    errors[CONF_CALLBACK_HOST] = "invalid_callback_host"
            if port := user_input.get(CONF_CALLBACK_PORT):
                # The selector hands over a float, and checks the range in the UI only.
                if port == int(port) and 0 < port < 65536:
                    data[CONF_CALLBACK_PORT] = int(port)
                else:
                    errors[CONF_CALLBACK_PORT] = "invalid_callback_port"
            if tcp_port := user_input.get(CONF_TCP_PORT):
                data[CONF_TCP_PORT] = int(tcp_port)
            if door_stations := user_input.get(CONF_DOOR_STATIONS):
                data[CONF_DOOR_STATIONS] = list(door_stations)
            if user_input.get(CONF_RECORDINGS):
                data[CONF_RECORDINGS] = True
            if not errors:
                return self.async_create_entry(data=data)
        values = user_input or self.config_entry.options
        schema = probatio.Schema(
            {
                probatio.Required(
                    CONF_HEARTBEAT_INTERVAL,
                    default=values.get(
                        CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL
                    ),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_HEARTBEAT_INTERVAL,
                        max=MAX_HEARTBEAT_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                probatio.Required(
                    CONF_TRUNK_INTERVAL,
                    default=values.get(
                        CONF_TRUNK_INTERVAL, int(DEFAULT_TRUNK_INTERVAL.total_seconds())
                    ),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_TRUNK_INTERVAL.total_seconds(),
                        max=MAX_TRUNK_INTERVAL.total_seconds(),
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                probatio.Optional(
                    CONF_RECORDINGS, default=values.get(CONF_RECORDINGS, False)
                ): BooleanSelector(),
                probatio.Optional(
                    CONF_CALLBACK_HOST,
                    description={"suggested_value": values.get(CONF_CALLBACK_HOST)},
                ): str,
                probatio.Optional(
                    CONF_CALLBACK_PORT,
                    description={"suggested_value": values.get(CONF_CALLBACK_PORT)},
                ): PORT_SELECTOR,
            }
        )
        if extensions := self._extension_choices():
            schema = schema.extend(
                {
                    probatio.Optional(
                        CONF_DOOR_STATIONS,
                        default=list(values.get(CONF_DOOR_STATIONS, [])),
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=extensions,
                            multiple=True,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    )
                }
            )
        if CONF_PASSWORD in self.config_entry.data:  # the PBX reports over TCP
            schema = schema.extend(
                {
                    probatio.Required(
                        CONF_TCP_PORT,
                        default=values.get(CONF_TCP_PORT, DEFAULT_TCP_PORT),
                    ): PORT_SELECTOR
                }
            )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)
