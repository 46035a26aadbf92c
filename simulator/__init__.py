"""A simulated Yeastar S-Series PBX for tests, development and demos."""

from .certificate import (
    SimCertificate,
    generate_certificate,
    load_or_create_certificate,
)
from .clock import SimClock
from .control import ControlAPI
from .control_client import ControlClient, ControlError
from .delivery import ReportDelivery
from .faults import Faults
from .pbx import SimExtension, SimSession, SimStats, SimulatedPBX
from .reports import (
    BootUp,
    CallFailed,
    CallStatus,
    ExtensionStatus,
    ExtMember,
    NewCdr,
    Report,
    ReportFormat,
    TrunkMember,
    render,
)
from .scenarios import Scenario

__all__ = [
    "BootUp",
    "CallFailed",
    "CallStatus",
    "ControlAPI",
    "ControlClient",
    "ControlError",
    "ExtMember",
    "ExtensionStatus",
    "Faults",
    "NewCdr",
    "Report",
    "ReportDelivery",
    "ReportFormat",
    "Scenario",
    "SimCertificate",
    "SimClock",
    "SimExtension",
    "SimSession",
    "SimStats",
    "SimulatedPBX",
    "TrunkMember",
    "generate_certificate",
    "load_or_create_certificate",
    "render",
]
