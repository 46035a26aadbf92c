"""Sensors: the session with the PBX, its reports, each extension's calls, each trunk's state."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import ExtensionStatus, Report
from .api.calls import Call, CallEvent, CallEventType, CallState
from .api.trunks import TrunkStatus
from .const import (
    DOMAIN,
    LOGGER,
    ConnectionState,
    signal_call,
    signal_calls,
    signal_extension,
    signal_link,
    signal_missed_cleared,
    signal_report,
)
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import (
    YeastarEntity,
    YeastarExtensionEntity,
    YeastarTrunkEntity,
    async_add_extension_entities,
    async_add_trunk_entities,
)
from .receiver import ReportReceiver

# Entities only read what the coordinator and the webhook already hold.
PARALLEL_UPDATES = 0
# Seconds between two state writes of the report counters.
REPORT_SENSOR_COOLDOWN = 5
# Seconds between two state writes of the Active calls sensor.
ACTIVE_CALLS_COOLDOWN = 1
# Calls the Active calls sensor lists (its attributes stay small).
MAX_LISTED_CALLS = 10
# The call state sensor's attributes: the current call.
CALL_ATTRIBUTES = ("callid", "direction", "peer_number", "peer_name")
# An extension's status when no call report says more (a call on at start-up).
STATUS_CALL_STATES = {
    ExtensionStatus.RINGING: CallState.RINGING,
    ExtensionStatus.BUSY: CallState.TALKING,
    ExtensionStatus.HOLD: CallState.ON_HOLD,
}


@dataclass(frozen=True, kw_only=True)
class YeastarReportSensorDescription(SensorEntityDescription):
    """A sensor about the event reports the webhook received."""

    value_fn: Callable[[ReportReceiver], int | datetime | None]


# Both change with every report: enabled, they would fill the logbook and the
# recorder with what only matters when reports stop arriving.
REPORT_SENSORS = (
    YeastarReportSensorDescription(
        key="last_report",
        translation_key="last_report",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda receiver: receiver.stats.last_received,
    ),
    YeastarReportSensorDescription(
        key="reports_received",
        translation_key="reports_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda receiver: receiver.stats.accepted,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX sensors now and an extension sensor whenever an extension appears."""
    coordinator = entry.runtime_data.coordinator
    receiver = entry.runtime_data.receiver
    _async_remove_session_expiry(hass, coordinator.serial)
    async_add_entities(
        [
            YeastarConnectionSensor(coordinator),
            YeastarActiveCallsSensor(coordinator),
            *(
                YeastarReportSensor(coordinator, receiver, description)
                for description in REPORT_SENSORS
            ),
        ]
    )
    async_add_extension_entities(
        entry,
        async_add_entities,
        lambda coordinator, number: (
            YeastarExtensionStatusSensor(coordinator, number),
            YeastarCallStateSensor(coordinator, number),
            YeastarMissedCallsSensor(coordinator, number),
        ),
    )
    async_add_trunk_entities(
        entry,
        async_add_entities,
        lambda coordinator, name: (YeastarTrunkStatusSensor(coordinator, name),),
    )


@callback
def _async_remove_session_expiry(hass: HomeAssistant, serial: str) -> None:
    """Drop the Session expiry sensor of earlier versions (a new state every heartbeat)."""
    registry = er.async_get(hass)
    if entity_id := registry.async_get_entity_id(
        Platform.SENSOR, DOMAIN, f"{serial}_token_expiry"
    ):
        registry.async_remove(entity_id)


class YeastarConnectionSensor(YeastarEntity, SensorEntity):
    """Whether the session works, and why not; stays available to say so.

    Its attributes tell where the PBX is told to send reports: the first thing to
    check when calls do not show up.
    """

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [state.value for state in ConnectionState]
    _attr_translation_key = "connection_state"

    def __init__(self, coordinator: YeastarCoordinator) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, "connection_state")

    @property
    @override
    def available(self) -> bool:
        """Always available: a failed session is exactly what it reports."""
        return True

    @property
    @override
    def native_value(self) -> str:
        """Return the connection state."""
        return self.coordinator.connection_state.value

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """How reports arrive: by HTTP to an address (its path is a secret), or by TCP."""
        coordinator = self.coordinator
        target = coordinator.report_target
        link = coordinator.link_state
        return {
            "report_method": coordinator.client.report_method.value,
            "report_address": (
                None if target is None else f"{target.ipaddr}:{target.port}"
            ),
            "event_link": None if link is None else link.value,
        }

    @override
    async def async_added_to_hass(self) -> None:
        """Also show the TCP event link going down and coming back."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_link(self.coordinator.config_entry.entry_id),
                self.async_write_ha_state,
            )
        )


class YeastarReportSensor(YeastarEntity, SensorEntity):
    """When reports last arrived and how many: updated by each report."""

    entity_description: YeastarReportSensorDescription
    _writer: Debouncer[None]

    def __init__(
        self,
        coordinator: YeastarCoordinator,
        receiver: ReportReceiver,
        description: YeastarReportSensorDescription,
    ) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._receiver = receiver

    @property
    @override
    def available(self) -> bool:
        """Always available: reports keep their history when the session fails."""
        return True

    @property
    @override
    def native_value(self) -> int | datetime | None:
        """Return the value from the report counters."""
        return self.entity_description.value_fn(self._receiver)

    @override
    async def async_added_to_hass(self) -> None:
        """Update after accepted reports, at most once per cooldown.

        A busy PBX sends several reports a second; a state (and a recorder row) for
        each would cost more than the report itself. The first report of a quiet
        spell shows at once, the last of a burst when the cooldown ends.
        """
        await super().async_added_to_hass()
        self._writer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=REPORT_SENSOR_COOLDOWN,
            immediate=True,
            function=self.async_write_ha_state,
        )
        self.async_on_remove(self._writer.async_shutdown)
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_report(self.coordinator.config_entry.entry_id),
                self._async_report_received,
            )
        )

    @callback
    def _async_report_received(self, _report: Report, _data: dict[str, Any]) -> None:
        """Show the new counters, now or when the cooldown ends."""
        self._writer.async_schedule_call()


class YeastarExtensionStatusSensor(YeastarExtensionEntity, SensorEntity):
    """The status of one extension: from the extension list and ExtensionStatus reports."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [status.value for status in ExtensionStatus]
    _attr_translation_key = "extension_status"

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the sensor of one extension."""
        super().__init__(coordinator, number, "status")

    @property
    @override
    def native_value(self) -> str | None:
        """Return the extension's last known status."""
        extension = self.coordinator.data.extensions.get(self.number)
        if extension is None or extension.status is None:
            return None
        return extension.status.value

    @override
    async def async_added_to_hass(self) -> None:
        """Update on this extension's status reports."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_extension(self.coordinator.config_entry.entry_id, self.number),
                self.async_write_ha_state,
            )
        )


class YeastarCallStateSensor(YeastarExtensionEntity, SensorEntity):
    """Where an extension stands in its calls, and with whom.

    Follows the call reports. Without a call it reads the extension's status, but
    only as the extension list gives it (a phone that rings or talks while Home
    Assistant started shows so): a status report comes just before or after the
    call's own reports, and read alone it would show "ringing" before anyone knows
    who calls, or "talking" after the call ended.
    """

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [state.value for state in CallState]
    _attr_translation_key = "call_state"
    # A new id every call: a row in the recorder each time, and no use in history.
    _unrecorded_attributes = frozenset({"callid"})

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the sensor of one extension."""
        super().__init__(coordinator, number, "call_state")
        self._attr_native_value, self._attr_extra_state_attributes = self._current(
            by_status=True
        )

    def _current(self, *, by_status: bool) -> tuple[str, dict[str, Any]]:
        """Return the extension's call state, and its current call's attributes."""
        calls = self.coordinator.calls
        if current := calls.calls_of(self.number):
            event = calls.view(current[-1], self.number).as_dict()
            return calls.state_of(self.number).value, {
                key: event[key] for key in CALL_ATTRIBUTES
            }
        state = CallState.IDLE
        extension = self.coordinator.data.extensions.get(self.number)
        if by_status and extension is not None and extension.status is not None:
            state = STATUS_CALL_STATES.get(extension.status, CallState.IDLE)
        return state.value, dict.fromkeys(CALL_ATTRIBUTES)

    @override
    async def async_added_to_hass(self) -> None:
        """Update on this extension's call events and status reports."""
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id
        for signal in (
            signal_call(entry_id, self.number),
            signal_extension(entry_id, self.number),
        ):
            self.async_on_remove(
                async_dispatcher_connect(self.hass, signal, self._async_update)
            )

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Follow the extension list too (a status read without a report)."""
        self._attr_native_value, self._attr_extra_state_attributes = self._current(
            by_status=True
        )
        super()._handle_coordinator_update()

    @callback
    def _async_update(self, *_: object) -> None:
        """Write the state when it or the current call changed."""
        current = self._current(by_status=False)
        if current != (self._attr_native_value, self._attr_extra_state_attributes):
            self._attr_native_value, self._attr_extra_state_attributes = current
            self.async_write_ha_state()


class YeastarMissedCallsSensor(YeastarExtensionEntity, RestoreSensor):
    """How many calls rang this extension and were answered by nobody.

    Kept across restarts; the extension's *Clear missed calls* button resets it.
    """

    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_translation_key = "missed_calls"
    _available_without_session = True
    _attr_native_value: int = 0

    def __init__(self, coordinator: YeastarCoordinator, number: str) -> None:
        """Describe the sensor of one extension."""
        super().__init__(coordinator, number, "missed_calls")

    @override
    async def async_added_to_hass(self) -> None:
        """Take the count from before the restart, then follow missed calls."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None and isinstance(
            last.native_value, int | float
        ):
            self._attr_native_value = int(last.native_value)
        entry_id = self.coordinator.config_entry.entry_id
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_call(entry_id, self.number), self._async_call_event
            )
        )
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_missed_cleared(entry_id, self.number),
                self._async_clear,
            )
        )

    @callback
    def _async_call_event(self, event: CallEvent) -> None:
        """Count a missed call."""
        if event.type is CallEventType.MISSED:
            self._attr_native_value += 1
            self.async_write_ha_state()

    @callback
    def _async_clear(self) -> None:
        """Start counting again from zero."""
        self._attr_native_value = 0
        self.async_write_ha_state()


class YeastarActiveCallsSensor(YeastarEntity, SensorEntity):
    """How many calls the PBX has in progress, with a short list of them."""

    _attr_translation_key = "active_calls"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, coordinator: YeastarCoordinator) -> None:
        """Describe the sensor."""
        super().__init__(coordinator, "active_calls")

    @property
    @override
    def native_value(self) -> int:
        """Return the number of calls in progress."""
        return len(self._calls())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """The calls, newest first, no more than MAX_LISTED_CALLS."""
        return {
            "calls": [
                {
                    "callid": call.callid,
                    "direction": call.direction.value,
                    "parties": [leg.number for leg in call.legs.values() if leg.number],
                }
                for call in reversed(self._calls()[-MAX_LISTED_CALLS:])
            ]
        }

    def _calls(self) -> list[Call]:
        """Return the live calls someone is still in."""
        return self.coordinator.calls.active_calls

    @override
    async def async_added_to_hass(self) -> None:
        """Update when the PBX's calls change, at most once per cooldown.

        The first change of a quiet spell shows at once; a burst of calls (a ring
        group, a busy hour) shows its last count when the cooldown ends.
        """
        await super().async_added_to_hass()
        writer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=ACTIVE_CALLS_COOLDOWN,
            immediate=True,
            function=self.async_write_ha_state,
        )
        self.async_on_remove(writer.async_shutdown)
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_calls(self.coordinator.config_entry.entry_id),
                writer.async_schedule_call,
            )
        )


class YeastarTrunkStatusSensor(YeastarTrunkEntity, SensorEntity):
    """A trunk's state, as the trunk list tells it (read with the heartbeat).

    A state the documents do not list shows as `unknown`, with the PBX's own word
    in an attribute, and is logged once.
    """

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [status.value for status in TrunkStatus]
    _attr_translation_key = "trunk_status"
    _unrecorded_attributes = frozenset({"type", "port"})

    def __init__(self, coordinator: YeastarCoordinator, name: str) -> None:
        """Describe the sensor of one trunk."""
        super().__init__(coordinator, name, "status")
        self._logged: set[str] = set()

    @property
    @override
    def native_value(self) -> str | None:
        """Return the trunk's state."""
        if (trunk := self.trunk) is None or trunk.reported_status is None:
            return None
        if trunk.status is None:
            if trunk.reported_status not in self._logged:
                self._logged.add(trunk.reported_status)
                LOGGER.warning(
                    "Trunk %s reports a state the API documents do not list: %r",
                    self.trunk_name,
                    trunk.reported_status,
                )
            return TrunkStatus.UNKNOWN.value
        return trunk.status.value

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """The trunk's type and port, and the PBX's word for a state it does not list."""
        trunk = self.trunk
        if trunk is None:
            return {}
        attributes: dict[str, Any] = {"type": trunk.type, "port": trunk.port}
        if trunk.status is None:
            attributes["reported_status"] = trunk.reported_status
        return attributes
