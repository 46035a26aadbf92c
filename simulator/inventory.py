"""What the PBX is set up with: extensions, trunks and the company phonebook.

The default tables read like the documents' examples: their status spellings
(`Registered`, lower-case `unavailable`, an FXS extension `Idle` on its port;
trunks `Registered`, lower-case `failure`, `Idle`, `Down`, `No SIM`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Final

type Json = dict[str, Any]


@dataclass(slots=True)
class SimExtension:
    """One extension as the PBX lists it.

    ``port`` is an FXS extension's analog port (``Span1_Port3``); ``outbound`` whether
    the extension may call outside numbers (else errno 10024).
    """

    number: str
    name: str
    status: str = "Registered"
    type: str = "SIP"
    port: str = ""
    outbound: bool = True

    @property
    def idle_status(self) -> str:
        """Return the state the extension reports when a call leaves it free.

        SIP extensions report ``Registered``; ``Idle`` is an FXS port's.
        """
        return "Idle" if self.type == "FXS" else "Registered"

    def list_item(self, api_version: str) -> Json:
        """Return the extension as its version's list has it.

        v1 names the number ``extnumber`` and adds ``agentid``, v2 ``number`` without it.
        """
        v2 = api_version == "v2.0.0"
        item: Json = {
            "number" if v2 else "extnumber": self.number,
            "status": self.status,
            "type": self.type,
        }
        if self.port:
            item["port"] = self.port
        item["username"] = self.name
        if not v2:
            item["agentid"] = ""
        return item


@dataclass(slots=True)
class SimTrunk:
    """One trunk as the PBX lists it; ``port`` only for hardware trunks (FXO, E1, GSM...)."""

    name: str
    type: str
    status: str
    port: str = ""

    def list_item(self) -> Json:
        """Return the trunk as a ``trunklist/query`` item."""
        item: Json = {"trunkname": self.name, "status": self.status, "type": self.type}
        if self.port:
            item["port"] = self.port
        return item


@dataclass(slots=True, kw_only=True)
class SimContact:
    """One company contact (v2 ``companycontacts/query``), fields as the PBX names them."""

    id: str = ""
    lastname: str = ""
    firstname: str = ""
    company: str = ""
    email: str = ""
    businessnum: str = ""
    businessnum2: str = ""
    mobile: str = ""
    mobile2: str = ""
    homenum: str = ""
    homenum2: str = ""
    businessfax: str = ""
    homefax: str = ""
    othernum: str = ""
    zipcode: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    country: str = ""

    def as_item(self) -> Json:
        """Return every field, in the order of the documents' table."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def default_extensions() -> list[SimExtension]:
    """Return the extensions a new simulator has."""
    return [
        SimExtension("1000", "Jayson"),
        SimExtension("1001", "Front Desk"),
        SimExtension("1002", "Kitchen", "Idle", "FXS", port="Span1_Port3"),
        SimExtension("1003", "Garage", "unavailable"),
    ]


# The states an ExtensionStatus report and the extension list use (the v1 and v2 guides
# together; the PBX writes some in lower case).
EXTENSION_STATUSES: Final = frozenset(
    {
        "registered",
        "unregistered",
        "unavailable",
        "ringing",
        "busy",
        "hold",
        "idle",
        "malfunction",
        "fxsnoport",
    }
)


def check_extension_status(status: str) -> None:
    """Refuse a state no PBX reports (ValueError), so a typo is not played as one."""
    if status.lower() not in EXTENSION_STATUSES:
        known = ", ".join(sorted(EXTENSION_STATUSES))
        raise ValueError(f"status must be one of {known} (any case)")


def default_trunks() -> list[SimTrunk]:
    """Return the trunks a new simulator has: one of each kind the documents show."""
    return [
        SimTrunk("SIP-142", "SIP", "Registered"),
        SimTrunk("sip-143", "SIP", "failure"),
        SimTrunk("FXO2-3", "FXO", "Idle", "Span2-Port3"),
        SimTrunk("DIGIT1", "E1", "Down", "Span1-Port1"),
        SimTrunk("GSM2-7", "GSM", "No SIM", "Span2-Port7"),
    ]


def extension_list(extensions: Iterable[SimExtension], api_version: str) -> list[Json]:
    """Return the items of an API version's extension list."""
    return [extension.list_item(api_version) for extension in extensions]


def trunk_list(trunks: Iterable[SimTrunk], api_version: str) -> list[Json]:
    """Return the items of an API version's trunk list: v2 numbers them (``id``)."""
    if api_version != "v2.0.0":
        return [trunk.list_item() for trunk in trunks]
    return [{"id": str(n), **trunk.list_item()} for n, trunk in enumerate(trunks, 1)]
