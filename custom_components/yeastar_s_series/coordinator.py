"""The PBX session: login, heartbeats that keep the token alive, and recovery.

The coordinator's update is the heartbeat. Event reports never go through it
(`async_set_updated_data` would reset the heartbeat timer): they reach the
entities through dispatcher signals.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.const import CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .api import (
    TOKEN_LIFETIME,
    DeviceInfo,
    Extension,
    ExtensionStatus,
    YeastarApiUnavailableError,
    YeastarCertificateChangedError,
    YeastarClient,
    YeastarConnectionError,
    YeastarError,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarTlsError,
    YeastarTokenError,
)
from .const import (
    CONF_AUTH_REFUSED,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PASSWORD_HASH,
    DEFAULT_HEARTBEAT_INTERVAL,
    DOMAIN,
    EXTENSION_REFRESH_INTERVAL,
    LOCKOUT_DURATION,
    LOGGER,
    ConnectionState,
    signal_extension,
)
from .report_target import (
    ReportAddressUnknownError,
    async_report_target,
    async_resolve_host,
)

if TYPE_CHECKING:
    from . import YeastarConfigEntry

# When a lockout ends, per config entry. Kept outside the coordinator so that a
# failed setup retried by Home Assistant still waits the 10 minutes out.
LOCKOUTS: HassKey[dict[str, datetime]] = HassKey(f"{DOMAIN}_lockouts")


# How a failed heartbeat shows: connection state and message. Most specific first
# (a refused connection is also "API unavailable", a changed certificate a TLS error).
FAILURES: Final[tuple[tuple[type[YeastarError], ConnectionState, str], ...]] = (
    (
        YeastarCertificateChangedError,
        ConnectionState.CERTIFICATE_CHANGED,
        "certificate_changed",
    ),
    (YeastarTlsError, ConnectionState.TLS_ERROR, "tls_error"),
    (YeastarConnectionError, ConnectionState.DISCONNECTED, "cannot_connect"),
    (YeastarApiUnavailableError, ConnectionState.API_UNAVAILABLE, "api_unavailable"),
)


def lockout_issue_id(entry_id: str) -> str:
    """Repair issue id of a locked-out entry."""
    return f"locked_out_{entry_id}"


def certificate_issue_id(entry_id: str) -> str:
    """Repair issue id of an entry whose PBX shows a new certificate."""
    return f"certificate_changed_{entry_id}"


def _locked_out_error(until: datetime) -> UpdateFailed:
    """Say until when no login is tried."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="locked_out",
        translation_placeholders={"until": dt_util.as_local(until).strftime("%H:%M")},
    )


@dataclass(slots=True)
class PbxData:
    """What the heartbeat keeps current."""

    device: DeviceInfo
    extensions: dict[str, Extension] = field(default_factory=dict)


class YeastarCoordinator(DataUpdateCoordinator[PbxData]):
    """Keep one API session with the PBX alive and say why when it is not."""

    config_entry: YeastarConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: YeastarConfigEntry, client: YeastarClient
    ) -> None:
        """Set the heartbeat interval from the entry's options."""
        interval = entry.options.get(
            CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=timedelta(seconds=interval),
        )
        self.client = client
        self.heartbeat_interval = timedelta(seconds=interval)
        # A password the PBX refused stays refused across restarts: no login until
        # the user answers the reauth flow (five refusals lock the address out).
        self.connection_state = (
            ConnectionState.AUTH_FAILED
            if entry.data.get(CONF_AUTH_REFUSED)
            else ConnectionState.DISCONNECTED
        )
        self.token_expires: datetime | None = None
        self.pbx_addresses: set[str] = set()
        self.device_id: str | None = None  # of the PBX device, once registered
        self._inventory_read: datetime | None = None

    @property
    def serial(self) -> str:
        """The PBX serial number: the entry's unique id."""
        assert self.config_entry.unique_id is not None
        return self.config_entry.unique_id

    async def _async_update_data(self) -> PbxData:
        """Send the heartbeat, logging in first when there is no valid token."""
        entry_id = self.config_entry.entry_id
        # Back to the interval itself after the offset first one (async_offset_heartbeats).
        self.update_interval = self.heartbeat_interval
        if self.connection_state is ConnectionState.AUTH_FAILED:
            # Only the user's answer to the reauth flow may lead to another login.
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            )
        lockouts = self.hass.data.setdefault(LOCKOUTS, {})
        if (until := lockouts.get(entry_id)) is not None:
            if dt_util.utcnow() < until:
                self.connection_state = ConnectionState.LOCKED_OUT
                raise _locked_out_error(until)
            del lockouts[entry_id]
        try:
            await self._async_keep_session()
            data = await self._async_read_inventory()
        except ReportAddressUnknownError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="report_address_unknown"
            ) from err
        except YeastarInvalidAuthError as err:
            self.connection_state = ConnectionState.AUTH_FAILED
            self.hass.config_entries.async_update_entry(
                self.config_entry,
                data={**self.config_entry.data, CONF_AUTH_REFUSED: True},
            )
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except YeastarLockedOutError as err:
            raise _locked_out_error(self._async_locked_out()) from err
        except YeastarError as err:
            raise self._async_failed(err) from err
        self.connection_state = ConnectionState.CONNECTED
        self.token_expires = dt_util.utcnow() + timedelta(seconds=TOKEN_LIFETIME)
        ir.async_delete_issue(self.hass, DOMAIN, lockout_issue_id(entry_id))
        ir.async_delete_issue(self.hass, DOMAIN, certificate_issue_id(entry_id))
        return data

    def _async_failed(self, err: YeastarError) -> UpdateFailed:
        """Show why the PBX cannot be used; ask the user about a changed certificate."""
        state, translation_key = next(
            (
                (state, key)
                for error_type, state, key in FAILURES
                if isinstance(err, error_type)
            ),
            (ConnectionState.DISCONNECTED, "unexpected_answer"),
        )
        self.connection_state = state
        if state is ConnectionState.CERTIFICATE_CHANGED:
            entry = self.config_entry
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                certificate_issue_id(entry.entry_id),
                is_fixable=True,
                severity=ir.IssueSeverity.ERROR,
                translation_key="certificate_changed",
                translation_placeholders={
                    "title": entry.title,
                    "host": self.client.host,
                },
                data={"entry_id": entry.entry_id},
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"error": str(err)},
        )

    async def _async_keep_session(self) -> None:
        """Heartbeat with the current token; on a token error log in again, once."""
        entry = self.config_entry
        self.pbx_addresses = await async_resolve_host(self.hass, self.client.host)
        target = await async_report_target(
            self.hass, self.client.host, entry.data["webhook_id"], entry.options
        )
        if self.client.logged_in:
            try:
                await self.client.heartbeat(target)
            except YeastarTokenError:
                LOGGER.info("The PBX no longer knows the session, logging in again")
                self.client.forget_token()
            else:
                return
        await self.client.login(
            entry.data[CONF_USERNAME], entry.data[CONF_PASSWORD_HASH], target
        )
        # Login tells the PBX only the port and path; the heartbeat adds the address.
        await self.client.heartbeat(target)

    async def _async_read_inventory(self) -> PbxData:
        """Read device info and extensions when they are due, else keep what we have."""
        now = dt_util.utcnow()
        if (
            self.data is not None
            and self._inventory_read is not None
            and now - self._inventory_read < EXTENSION_REFRESH_INTERVAL
        ):
            return self.data
        device = await self.client.device_info()
        extensions = {ext.number: ext for ext in await self.client.extensions()}
        self._inventory_read = now
        self._async_remove_stale_devices(set(extensions))
        return PbxData(device=device, extensions=extensions)

    def _async_locked_out(self) -> datetime:
        """Record a lockout: no login for 10 minutes, and tell the user how to lift it."""
        entry = self.config_entry
        until = dt_util.utcnow() + LOCKOUT_DURATION
        self.hass.data.setdefault(LOCKOUTS, {})[entry.entry_id] = until
        self.connection_state = ConnectionState.LOCKED_OUT
        self.client.forget_token()
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            lockout_issue_id(entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="locked_out",
            translation_placeholders={"title": entry.title, "host": self.client.host},
        )
        return until

    def _async_remove_stale_devices(self, numbers: set[str]) -> None:
        """Drop the devices of extensions the PBX no longer has."""
        device_registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(
            device_registry, self.config_entry.entry_id
        ):
            number = extension_number(device, self.serial)
            if number is not None and number not in numbers:
                device_registry.async_update_device(
                    device.id, remove_config_entry_id=self.config_entry.entry_id
                )

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
        share = entry_ids.index(self.config_entry.entry_id) / len(entry_ids)
        self.update_interval = self.heartbeat_interval * (1 + share)

    def async_pbx_restarted(self) -> None:
        """Forget the token the PBX forgot when it rebooted, and log in again at once."""
        self.client.forget_token()
        self._inventory_read = None
        self.config_entry.async_create_background_task(
            self.hass, self.async_request_refresh(), "yeastar_s_series_relogin"
        )

    def async_inventory_changed(self) -> None:
        """Read device info and extensions again soon (the PBX said they changed)."""
        self._inventory_read = None
        self.config_entry.async_create_background_task(
            self.hass, self.async_request_refresh(), "yeastar_s_series_inventory"
        )

    def extension_status(self, number: str) -> ExtensionStatus | None:
        """Return the last known status of an extension, None if unknown."""
        data: PbxData | None = self.data
        if data is None or (extension := data.extensions.get(number)) is None:
            return None
        return extension.status

    def async_set_extension_status(self, number: str, status: ExtensionStatus) -> None:
        """Apply an ExtensionStatus report to one extension without a full update."""
        data: PbxData | None = self.data
        if data is None:
            return  # a report that came before the first heartbeat
        if (extension := data.extensions.get(number)) is None:
            # An extension we have not seen yet: the list is out of date.
            self.async_inventory_changed()
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


def extension_device_identifier(serial: str, number: str) -> tuple[str, str]:
    """Device registry identifier of one extension of one PBX."""
    return (DOMAIN, f"{serial}_{number}")


def extension_number(device: dr.DeviceEntry, serial: str) -> str | None:
    """Return the extension number of a device of this entry, None for the PBX itself."""
    prefix = f"{serial}_"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return identifier.removeprefix(prefix)
    return None
