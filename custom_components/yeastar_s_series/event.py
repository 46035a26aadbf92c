"""The call event entity: every call report of the PBX as an event automations can use."""

from typing import Any, Final, override

from homeassistant.components.event import (
    ATTR_EVENT_TYPE,
    ATTR_EVENT_TYPES,
    EventDeviceClass,
    EventEntity,
)
from homeassistant.const import (
    ATTR_ASSUMED_STATE,
    ATTR_ATTRIBUTION,
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_PICTURE,
    ATTR_FRIENDLY_NAME,
    ATTR_ICON,
    ATTR_SUPPORTED_FEATURES,
    ATTR_UNIT_OF_MEASUREMENT,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Report
from .api.calls import CallEvent, CallEventType
from .const import CONF_DOOR_STATIONS, signal_call, signal_report
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .entity import YeastarEntity, YeastarExtensionEntity, async_add_extension_entities

PARALLEL_UPDATES = 0

# v1 report names (`action`) and v2 names (`event`) that are a call event by themselves.
CALL_EVENT_TYPES: Final = {
    "RING": "ringing",
    "ALERT": "ring_back",
    "ANSWER": "answered",
    "ANSWERED": "answered",
    "BYE": "hung_up",
    "CallFailed": "failed",
    "Tranfer": "transferred",  # sic: the PBX's own spelling
    "Transfer": "transferred",
    "Forward": "forwarded",
    "Invite": "inbound_invite",
    "Incoming": "incoming",
    "DTMF": "dtmf",
    "NewCdr": "call_record",
    "PlayPromptEnd": "prompt_played",
    "satisfaction": "survey_result",
}
# uaCSTA calls (answered on Yealink or Fanvil phones through the API) name their step.
UACSTA_EVENT_TYPES: Final = {
    "callstart": "call_started",
    "callanswer": "answered",
    "callover": "hung_up",
}
# v2 `CallStatus` reports carry a status per party; the most decisive one names the event.
MEMBER_STATUS_PRIORITY: Final = (
    ("BYE", "hung_up"),
    ("ANSWERED", "answered"),
    ("ANSWER", "answered"),
    ("HOLD", "held"),
    ("RING", "ringing"),
    ("ALERT", "ring_back"),
)
EVENT_TYPES: Final = sorted(
    {*CALL_EVENT_TYPES.values(), *UACSTA_EVENT_TYPES.values(), "held"}
)
# Event data already shown by other attributes, or not the call's business, and names
# Home Assistant gives the entity's own attributes (a report must not overwrite them).
_HIDDEN_FIELDS: Final = frozenset(
    {
        "members",
        "call",
        "event",
        "action",
        "sn",
        ATTR_EVENT_TYPE,
        ATTR_EVENT_TYPES,
        ATTR_ASSUMED_STATE,
        ATTR_ATTRIBUTION,
        ATTR_DEVICE_CLASS,
        ATTR_ENTITY_PICTURE,
        ATTR_FRIENDLY_NAME,
        ATTR_ICON,
        ATTR_SUPPORTED_FEATURES,
        ATTR_UNIT_OF_MEASUREMENT,
        "restored",
    }
)


def call_event_type(report: Report) -> str | None:
    """Name the call event a report stands for; None for reports that are not about a call."""
    if report.name == "CallStatus":
        statuses = {party.status for party in report.parties}
        for status, event_type in MEMBER_STATUS_PRIORITY:
            if status in statuses:
                return event_type
        return None
    if report.name == "uacstacall":
        operation = report.fields.get("operation")
        return UACSTA_EVENT_TYPES.get(operation) if isinstance(operation, str) else None
    return CALL_EVENT_TYPES.get(report.name)


# What happens to one extension in its calls; a door station rings instead of dialing.
EXTENSION_EVENT_TYPES: Final = [event_type.value for event_type in CallEventType]
DOOR_STATION_EVENT_TYPES: Final = [*EXTENSION_EVENT_TYPES, "ring"]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: YeastarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX's call event entity, and one for each extension."""
    async_add_entities([YeastarCallEvent(entry.runtime_data.coordinator)])
    door_stations = set(entry.options.get(CONF_DOOR_STATIONS, ()))
    async_add_extension_entities(
        entry,
        async_add_entities,
        lambda coordinator, number: (
            YeastarExtensionCallEvent(coordinator, number, number in door_stations),
        ),
    )


class YeastarCallEvent(YeastarEntity, EventEntity):
    """Fires for ringing, answered, hung-up, failed, ... calls and call records."""

    _attr_translation_key = "call"
    _attr_event_types = EVENT_TYPES
    # New with every report and already in the recorded bus event (the logbook's):
    # recorded here too, each report would add a row of attributes the history
    # never shows, and fill the recorder's attribute cache.
    _unrecorded_attributes = frozenset({"callid", "parties"})

    def __init__(self, coordinator: YeastarCoordinator) -> None:
        """Attach to the PBX device."""
        super().__init__(coordinator, "call")

    @property
    @override
    def available(self) -> bool:
        """Stay available: reports can arrive even while a heartbeat fails."""
        return True

    @override
    async def async_added_to_hass(self) -> None:
        """Listen for the PBX's reports."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_report(self.coordinator.config_entry.entry_id),
                self._async_handle_report,
            )
        )

    @callback
    def _async_handle_report(self, report: Report, data: dict[str, Any]) -> None:
        """Trigger the event a call report stands for, with the bus event's data."""
        if (event_type := call_event_type(report)) is None:
            return
        attributes = {
            key: value for key, value in data.items() if key not in _HIDDEN_FIELDS
        }
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()


class YeastarExtensionCallEvent(YeastarExtensionEntity, EventEntity):
    """What happens to one extension in its calls, with who is on the other end.

    An extension listed as a door station is a doorbell: when someone presses its
    button it calls, and the entity fires `ring`.
    """

    _attr_translation_key = "extension_call"
    _available_without_session = True
    _attr_event_types = EXTENSION_EVENT_TYPES
    # An opaque id, new with every call; who the other party was stays recorded.
    _unrecorded_attributes = frozenset({"callid"})

    def __init__(
        self, coordinator: YeastarCoordinator, number: str, door_station: bool
    ) -> None:
        """Describe the entity of one extension."""
        super().__init__(coordinator, number, "call")
        self._door_station = door_station
        if door_station:
            self._attr_device_class = EventDeviceClass.DOORBELL
            self._attr_translation_key = "door_station"
            self._attr_event_types = DOOR_STATION_EVENT_TYPES

    @override
    async def async_added_to_hass(self) -> None:
        """Listen for this extension's call events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_call(self.coordinator.config_entry.entry_id, self.number),
                self._async_call_event,
            )
        )

    @callback
    def _async_call_event(self, event: CallEvent) -> None:
        """Fire the event, with the call and the other party as attributes."""
        event_type = event.type.value
        if self._door_station and event.type is CallEventType.DIALING:
            event_type = "ring"
        self._trigger_event(event_type, event.as_dict())
        self.async_write_ha_state()
