"""A simulated Yeastar S-Series PBX for tests, development and demos."""

from .calls import LiveCall
from .certificate import (
    SimCertificate,
    generate_certificate,
    load_or_create_certificate,
)
from .clock import SimClock
from .control import ControlAPI
from .control_client import ControlClient, ControlError
from .delivery import ReportDelivery
from .faults import ErrnoFault, Faults
from .inventory import SimContact, SimExtension, SimTrunk
from .pbx import ReceivedRequest, SimSession, SimStats, SimulatedPBX
from .reports import (
    BootUp,
    CallFailed,
    CallStatus,
    CallTransfer,
    ConfigChange,
    ExtensionStatus,
    ExtMember,
    Incoming,
    Invite,
    NewCdr,
    PlayPromptEnd,
    Report,
    ReportFormat,
    SmsSent,
    TrunkMember,
    render,
)
from .scenarios import Scenario
from .settings import Configuration, SimForwarding, SimSettings
from .sms import SimSms, SmsCentre, SmsOutcome
from .switchboard import Refused
from .tcp_events import LoginAnswer

__all__ = [
    "BootUp",
    "CallFailed",
    "CallStatus",
    "CallTransfer",
    "ConfigChange",
    "Configuration",
    "ControlAPI",
    "ControlClient",
    "ControlError",
    "ErrnoFault",
    "ExtMember",
    "ExtensionStatus",
    "Faults",
    "Incoming",
    "Invite",
    "LiveCall",
    "LoginAnswer",
    "NewCdr",
    "PlayPromptEnd",
    "ReceivedRequest",
    "Refused",
    "Report",
    "ReportDelivery",
    "ReportFormat",
    "Scenario",
    "SimCertificate",
    "SimClock",
    "SimContact",
    "SimExtension",
    "SimForwarding",
    "SimSession",
    "SimSettings",
    "SimSms",
    "SimStats",
    "SimTrunk",
    "SimulatedPBX",
    "SmsCentre",
    "SmsOutcome",
    "SmsSent",
    "TrunkMember",
    "generate_certificate",
    "load_or_create_certificate",
    "render",
]
