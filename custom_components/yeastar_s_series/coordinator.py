"""The PBX session as Home Assistant sees it: states, reauth, lockout, inventory.

The coordinator's update is the heartbeat (the client keeps the session itself).
Event reports never go through the update (`async_set_updated_data` would reset
the heartbeat timer): they reach the entities through dispatcher signals, and
the coordinator reacts to the ones that concern the session or the inventory.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
import re
from typing import Any, Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api import (
    DEFAULT_TCP_PORT,
    TOKEN_LIFETIME,
    ApiVersion,
    ExtensionStatus,
    Party,
    Report,
    ReportMethod,
    ReportTarget,
    YeastarApiUnavailableError,
    YeastarCertificateChangedError,
    YeastarClient,
    YeastarConnectionError,
    YeastarError,
    YeastarEventLink,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarRequestError,
    YeastarTlsError,
)
from .api.calls import CallEvent, CallTracker
from .api.names import NameBook
from .api.settings import ExtensionSettings
from .call_history import CallHistory
from .const import (
    CONF_AUTH_REFUSED,
    CONF_HEARTBEAT_INTERVAL,
    CONF_TCP_PORT,
    CONF_TRUNK_INTERVAL,
    DEFAULT_HEARTBEAT_INTERVAL,
    DOMAIN,
    LOCKOUT_DURATION,
    LOGGER,
    RETRY_DELAYS,
    ConnectionState,
    retry_delay,
    signal_call,
    signal_calls,
    signal_extension,
)
from .devices import extension_number, trunk_name
from .event_link import EventLinkRunner, LinkState
from .inventory import DEFAULT_TRUNK_INTERVAL, Inventory, Part, PbxData
from .receiver import ReportReceiver
from .repairs import (
    async_create_certificate_issue,
    async_create_lockout_issue,
    async_delete_entry_issues,
)
from .report_target import (
    ReportAddressUnknownError,
    async_report_target,
    async_resolve_host,
)
from .settings_writer import SettingsWriter
from .sms_results import SmsResults

# What a ConfigChange report of each type asks to read again (others: everything).
CHANGED_PARTS: Final = {
    "extension": (Part.EXTENSIONS, Part.SETTINGS),
    "trunk": (Part.TRUNKS,),
}
# CallFailed reasons that say a line may be down: the trunks are read again.
LINE_TROUBLE: Final = re.compile(r"line unreachable|congestion", re.IGNORECASE)
# Extension states of the list that mean a call is on.
IN_CALL: Final = frozenset(
    {ExtensionStatus.RINGING, ExtensionStatus.BUSY, ExtensionStatus.HOLD}
)

# Reauth data that asks for the password the TCP report method needs.
TCP_PASSWORD_NEEDED: Final = "tcp_password_needed"

# When a lockout ends, per config entry. Kept outside the coordinator so that a
# failed setup retried by Home Assistant still waits the 10 minutes out.
LOCKOUTS: HassKey[dict[str, datetime]] = HassKey(f"{DOMAIN}_lockouts")


@dataclass(frozen=True, slots=True)
class Failure:
    """How an API error shows: connection state, exception text, config form error."""

    state: ConnectionState
    translation_key: str
    form_error: str


# Looked up along the error's class hierarchy, most specific class first.
FAILURES: Final[dict[type[YeastarError], Failure]] = {
    YeastarInvalidAuthError: Failure(
        ConnectionState.AUTH_FAILED, "invalid_auth", "invalid_auth"
    ),
    YeastarLockedOutError: Failure(
        ConnectionState.LOCKED_OUT, "locked_out", "locked_out"
    ),
    YeastarCertificateChangedError: Failure(
        ConnectionState.CERTIFICATE_CHANGED, "certificate_changed", "tls_error"
    ),
    YeastarTlsError: Failure(ConnectionState.TLS_ERROR, "tls_error", "tls_error"),
    YeastarConnectionError: Failure(
        ConnectionState.DISCONNECTED, "cannot_connect", "cannot_connect"
    ),
    YeastarApiUnavailableError: Failure(
        ConnectionState.API_UNAVAILABLE, "api_unavailable", "api_unavailable"
    ),
    YeastarError: Failure(ConnectionState.DISCONNECTED, "unexpected_answer", "unknown"),
}


def failure_for(err: YeastarError) -> Failure:
    """Return how an API error shows to the user."""
    return next(FAILURES[cls] for cls in type(err).__mro__ if cls in FAILURES)


@dataclass(slots=True)
class YeastarRuntimeData:
    """What a loaded entry holds: the session, the report receiver, what reports keep."""

    coordinator: YeastarCoordinator
    receiver: ReportReceiver
    history: CallHistory
    sms_results: SmsResults


type YeastarConfigEntry = ConfigEntry[YeastarRuntimeData]


class YeastarCoordinator(DataUpdateCoordinator[PbxData]):
    """Keep one API session with the PBX alive and say why when it is not."""

    config_entry: YeastarConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: YeastarConfigEntry,
        client: YeastarClient,
        receiver: ReportReceiver,
        names: NameBook,
    ) -> None:
        """Set the heartbeat interval from the entry's options."""
        interval = timedelta(
            seconds=entry.options.get(
                CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL
            )
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=interval,
        )
        self.client = client
        self.receiver = receiver
        self.names = names
        self.calls = CallTracker(names.name, self._extension_numbers)
        self.heartbeat_interval = interval
        # A password the PBX refused stays refused across restarts: no login until
        # the user answers the reauth flow (five refusals lock the address out).
        self.connection_state = (
            ConnectionState.AUTH_FAILED
            if entry.data.get(CONF_AUTH_REFUSED)
            else ConnectionState.DISCONNECTED
        )
        self.token_expires: datetime | None = None
        self.report_target: ReportTarget | None = None
        self.pbx_addresses: set[str] = set()
        self.device_id: str | None = None  # of the PBX device, once registered
        self.event_link: EventLinkRunner | None = None  # with the TCP report method
        self._failures = 0  # failed heartbeats in a row, for the retry back-off
        self._share = 0.0  # this PBX's place among the integration's, from 0 to 1
        self.writer = SettingsWriter(client)
        self.inventory = Inventory(
            client,
            names,
            timedelta(
                seconds=entry.options.get(
                    CONF_TRUNK_INTERVAL, DEFAULT_TRUNK_INTERVAL.total_seconds()
                )
            ),
        )

    @property
    def serial(self) -> str:
        """The PBX serial number: the entry's unique id."""
        assert self.config_entry.unique_id is not None
        return self.config_entry.unique_id

    @override
    async def _async_update_data(self) -> PbxData:
        """Send the heartbeat (the client logs in when it must), then the inventory."""
        entry = self.config_entry
        # Back to the interval itself after the offset first one (async_offset_heartbeats).
        self.update_interval = self.heartbeat_interval
        if self.connection_state is ConnectionState.AUTH_FAILED:
            # Only the user's answer to the reauth flow may lead to another login.
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            )
        lockouts = self.hass.data.setdefault(LOCKOUTS, {})
        if (until := lockouts.get(entry.entry_id)) is not None:
            if dt_util.utcnow() < until:
                self.connection_state = ConnectionState.LOCKED_OUT
                raise _locked_out_error(until)
            del lockouts[entry.entry_id]
        try:
            self.pbx_addresses = await async_resolve_host(self.hass, self.client.host)
            target = await async_report_target(
                self.hass,
                self.pbx_addresses,
                self.client.host,
                entry.data[CONF_WEBHOOK_ID],
                entry.options,
            )
            data = await self._async_keep_alive(target)
            self.report_target = target
            await self._async_follow_report_method()
            await self._async_reconcile_calls(data)
        except ReportAddressUnknownError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="report_address_unknown"
            ) from err
        except YeastarError as err:
            raise self._async_failed(err) from err
        self.connection_state = ConnectionState.CONNECTED
        self._failures = 0
        self.token_expires = dt_util.utcnow() + timedelta(seconds=TOKEN_LIFETIME)
        async_delete_entry_issues(self.hass, entry.entry_id)
        return data

    def _async_failed(self, err: YeastarError) -> ConfigEntryAuthFailed | UpdateFailed:
        """Show why the PBX cannot be used, and ask the user where only they can help."""
        entry = self.config_entry
        failure = failure_for(err)
        self.connection_state = failure.state
        if isinstance(err, YeastarInvalidAuthError):
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_AUTH_REFUSED: True}
            )
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=failure.translation_key
            )
        if isinstance(err, YeastarLockedOutError):
            until = dt_util.utcnow() + LOCKOUT_DURATION
            self.hass.data.setdefault(LOCKOUTS, {})[entry.entry_id] = until
            self.client.forget_token()
            async_create_lockout_issue(self.hass, entry)
            return _locked_out_error(until)
        if isinstance(err, YeastarCertificateChangedError):
            async_create_certificate_issue(self.hass, entry)
        retry_after = None
        if failure.state in (
            ConnectionState.DISCONNECTED,
            ConnectionState.API_UNAVAILABLE,
        ):
            # Gone, or garbling: try again soon, so that reports resume quickly.
            self._failures += 1
            retry_after = self._retry_in_turn(
                retry_delay(self._failures, self.heartbeat_interval.total_seconds())
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=failure.translation_key,
            translation_placeholders={"error": str(err)},
            retry_after=retry_after,
        )

    @property
    def link_state(self) -> LinkState | None:
        """The TCP event link's state; None with the HTTP report method."""
        if self.client.report_method is not ReportMethod.TCP:
            return None
        if self.event_link is None:
            return LinkState.PASSWORD_NEEDED
        return self.event_link.state

    async def _async_follow_report_method(self) -> None:
        """Keep the TCP event link up while the PBX reports over TCP, else none.

        The link needs the plaintext password, which is kept only for it: when the
        PBX switched to TCP after the entry was made, the user is asked for it.
        """
        entry = self.config_entry
        if self.client.report_method is ReportMethod.HTTP:
            await self.async_stop_event_link()
            return
        if self.event_link is None:
            if (password := entry.data.get(CONF_PASSWORD)) is None:
                entry.async_start_reauth(self.hass, data={TCP_PASSWORD_NEEDED: True})
                return
            host = self.client.host
            port = entry.options.get(CONF_TCP_PORT, DEFAULT_TCP_PORT)
            username = entry.data[CONF_USERNAME]
            self.event_link = EventLinkRunner(
                self.hass,
                entry.entry_id,
                self.receiver,
                connect=lambda: YeastarEventLink(
                    host, port, username=username, password=password
                ),
                longest_wait=self.heartbeat_interval.total_seconds(),
                on_refused=self._async_event_link_refused,
            )
        self.event_link.async_start()

    async def async_stop_event_link(self) -> None:
        """Close the TCP event link, if there is one (unload, back to HTTP)."""
        if (link := self.event_link) is not None:
            self.event_link = None
            await link.async_stop()

    @callback
    def _async_event_link_refused(self) -> None:
        """Take a refused event-port login for a refused password: stop, ask the user."""
        self.connection_state = ConnectionState.AUTH_FAILED
        self.hass.config_entries.async_update_entry(
            self.config_entry, data={**self.config_entry.data, CONF_AUTH_REFUSED: True}
        )
        self.config_entry.async_start_reauth(self.hass)
        self.async_update_listeners()

    def _retry_in_turn(self, delay: float) -> float:
        """Wait at least `delay`, to this PBX's own second of the retry period.

        PBXs that went away together (Home Assistant's network, say) then try
        again in turns, not in the same second. Whole seconds: the coordinator
        schedules from the current whole second, plus its own fraction of one.
        """
        period = int(min(RETRY_DELAYS[-1], self.heartbeat_interval.total_seconds()))
        now = int(self.hass.loop.time())
        earliest = now + math.ceil(delay)
        turn = int(self._share * period)
        return float(earliest + (turn - earliest) % period - now)

    async def _async_keep_alive(self, target: ReportTarget) -> PbxData:
        """Keep the session, and read what is due: one request on a quiet heartbeat.

        A due read takes the heartbeat's place (it keeps the token alive too)
        while the session and the report address stay as they are; should the
        PBX have forgotten the session, the client logs in again during the read,
        and a heartbeat then tells the PBX the report address.
        """
        now = dt_util.utcnow()
        inventory = self.inventory
        previous: PbxData | None = self.data
        if (
            previous is not None
            and not inventory.forced
            and self.connection_state is ConnectionState.CONNECTED
            and self.client.logged_in
            and target == self.report_target
            and (part := inventory.next_due(now)) is not None
        ):
            logins = self.client.logins
            data = await inventory.async_read(part, previous, now)
            if self.client.logins != logins:
                await self.client.keep_alive(target)
        else:
            await self.client.keep_alive(target)
            if inventory.forced or previous is None:
                data = await inventory.async_read_forced(previous, now)
            else:
                data = previous
        if previous is not None and data.extensions is not previous.extensions:
            for number, extension in data.extensions.items():
                if self.extension_status(number) not in (None, extension.status):
                    # Changed without a report (a reboot, say): the same report again is news.
                    self.receiver.async_forget_extension(number)
        if (
            previous is None
            or data.extensions is not previous.extensions
            or data.trunks is not previous.trunks
        ):
            self._async_remove_stale_devices(data)
        return data

    def _extension_numbers(self) -> Iterable[str]:
        """Return the PBX's extension numbers, as last read."""
        data: PbxData | None = self.data
        return () if data is None else data.extensions.keys()

    async def _async_reconcile_calls(self, data: PbxData) -> None:
        """While calls are on, check them against the PBX's own list once a heartbeat.

        Ends the calls whose BYE was lost (no phantom "talking"), and picks up the
        calls already on when Home Assistant started. v2 lists the calls; v1 has
        only the extensions' states, which end the calls of idle extensions.
        """
        busy = {
            number
            for number, extension in data.extensions.items()
            if extension.status in IN_CALL
        }
        if not busy and not self.calls.live_calls:
            return
        if self.client.api_version is ApiVersion.V2_0_0:
            try:
                observed = await self.client.extension_calls()
            except YeastarRequestError as err:
                # The calls still follow the reports; only the check is lost.
                LOGGER.debug("The PBX refused to list its calls: %s", err)
                return
        else:
            if data is self.data:  # the list was not read this heartbeat
                data.extensions = {
                    ext.number: ext for ext in await self.client.extensions()
                }
            observed = {
                call.callid: ()
                for call in self.calls.live_calls
                if any(
                    (ext := data.extensions.get(leg.number or "")) is not None
                    and ext.status in IN_CALL
                    for leg in call.extension_legs()
                )
            }
        self.async_reconcile_calls(observed)

    @callback
    def async_reconcile_calls(self, observed: Mapping[str, Iterable[Party]]) -> None:
        """Take the PBX's own list of its calls, and tell the extensions what changed."""
        self._async_dispatch_call_events(self.calls.reconcile(observed))

    @callback
    def async_calls_gone(self, callids: Iterable[str]) -> None:
        """End calls the PBX says it does not have (an action's errno 10005, 10007)."""
        self._async_dispatch_call_events(self.calls.lose(callids))

    @callback
    def _async_dispatch_call_events(self, events: Iterable[CallEvent]) -> None:
        """Tell each extension's entities, and the PBX's, what happened in its calls."""
        entry_id = self.config_entry.entry_id
        for event in events:
            async_dispatcher_send(
                self.hass, signal_call(entry_id, event.extension), event
            )
        async_dispatcher_send(self.hass, signal_calls(entry_id))

    def _async_remove_stale_devices(self, data: PbxData) -> None:
        """Drop the devices of extensions and trunks the PBX no longer has."""
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        devices: list[dr.AnyDeviceEntry] = [
            *dr.async_entries_for_config_entry(registry, entry_id),
            *dr.async_child_entries_for_config_entry(registry, entry_id),
        ]
        for device in devices:
            number = extension_number(device, self.serial)
            trunk = trunk_name(device, self.serial)
            if (number is not None and number not in data.extensions) or (
                trunk is not None and trunk not in data.trunks
            ):
                registry.async_remove_device(device.id)

    @callback
    def async_offset_heartbeats(self) -> None:
        """Give this PBX its own share of the heartbeat interval; call before the entities.

        The coordinator schedules its heartbeats from when the first entity listens, so
        the PBXs that Home Assistant sets up together when it starts would send them in
        the same second, every interval, for good. The entry's place among the
        integration's enabled entries picks its share: the first heartbeat after set-up
        comes that much later than the interval, the next ones at the interval.
        """
        entry_ids = [
            entry.entry_id
            for entry in self.hass.config_entries.async_entries(
                DOMAIN, include_ignore=False, include_disabled=False
            )
        ]
        self._share = entry_ids.index(self.config_entry.entry_id) / len(entry_ids)
        self.update_interval = self.heartbeat_interval * (1 + self._share)

    @callback
    def async_handle_report(self, report: Report, data: dict[str, Any]) -> None:
        """React to the reports that concern the session or the inventory."""
        if report.name == "ExtensionStatus":
            number = report.fields.get("extension")
            status = ExtensionStatus.parse(report.fields.get("status"))
            if isinstance(number, str) and status is not None:
                self._async_set_extension_status(number, status)
        elif report.name == "BootUp":
            # The PBX forgot every token when it rebooted: log in again at once.
            self.client.forget_token()
            self._async_refresh_soon(Part)
        elif report.name == "ConfigChange":
            changed = str(report.fields.get("type", ""))
            self._async_refresh_soon(CHANGED_PARTS.get(changed, Part))
        elif report.name == "CallFailed" and LINE_TROUBLE.search(
            str(report.fields.get("reason", ""))
        ):
            self._async_refresh_soon([Part.TRUNKS])
        if report.call_id is not None:
            self._async_dispatch_call_events(self.calls.handle(report))

    @callback
    def _async_refresh_soon(self, parts: Iterable[Part]) -> None:
        """Read these parts again at the next (debounced) refresh."""
        self.inventory.force(parts)
        self.config_entry.async_create_background_task(
            self.hass, self.async_request_refresh(), "yeastar_s_series_inventory"
        )

    async def async_change_settings(
        self,
        number: str,
        expected: ExtensionSettings | None,
        body: Mapping[str, str],
    ) -> None:
        """Write an extension's settings, then show them until the PBX says otherwise.

        The ConfigChange the PBX echoes reads the settings again, and so does the
        next scheduled read: either confirms what is shown, or puts it right.
        `expected` is None when the settings are not known well enough to guess.
        """
        await self.writer.async_update_extension(body)
        if expected is not None:
            self.data.settings[number] = expected
            self.async_update_listeners()

    def extension_status(self, number: str) -> ExtensionStatus | None:
        """Return the last known status of an extension, None if unknown."""
        data: PbxData | None = self.data
        if data is None or (extension := data.extensions.get(number)) is None:
            return None
        return extension.status

    @callback
    def _async_set_extension_status(self, number: str, status: ExtensionStatus) -> None:
        """Apply an ExtensionStatus report to one extension without a full update."""
        data: PbxData | None = self.data
        if data is None:
            return  # a report that came before the first heartbeat
        if (extension := data.extensions.get(number)) is None:
            # An extension we have not seen yet: the list is out of date.
            self._async_refresh_soon([Part.EXTENSIONS, Part.SETTINGS])
            return
        data.extensions[number] = replace(extension, status=status)
        async_dispatcher_send(
            self.hass, signal_extension(self.config_entry.entry_id, number)
        )

    async def async_logout(self) -> None:
        """Release the token at the PBX (unload, Home Assistant stop)."""
        try:
            await self.client.logout()
        except YeastarError as err:
            LOGGER.debug("Logout from the PBX failed: %s", err)


def _locked_out_error(until: datetime) -> UpdateFailed:
    """Say until when no login is tried."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="locked_out",
        translation_placeholders={"until": dt_util.as_local(until).strftime("%H:%M")},
    )
