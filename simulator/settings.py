"""Extension settings and configuration changes: `extension/query`, `extension/update`, trunks.

`extension/query` answers every setting of an extension as the 2017 guide's example
shows it, secrets in plain text included (`registerpassword`, `loginpassword` as an
MD5, `vmsecret`), and `moblie` misspelt. A forwarding destination is written in one of
two forms, a PBX setting here since the documents show both: ``long`` (the kind in
`…transferto`, the number in `…transferext` or `…transferprefix` + `…transfernum`) or
``compact`` (`voicemail`, `ext1000`, `mobile1399999999`, `number95923333`).

Each `extension/update` the PBX applies is echoed as a `ConfigChange` report; one that
comes too soon after the last is refused with 10025. Changes an administrator makes on
the PBX's own pages (`Configuration.change`) send no report: the documents show the
echo for API updates only. Adding or deleting a trunk sends `ConfigChange` type `trunk`.
"""

from collections.abc import Callable, Mapping
import copy
from dataclasses import dataclass, field
import functools
import hashlib
from typing import Any, Final, Literal, Self

from .clock import SimClock
from .inventory import SimExtension, SimTrunk
from .reports import ConfigChange, Report
from .switchboard import Refused

type Json = dict[str, Any]
type ForwardingForm = Literal["long", "compact"]

FORWARDING_FORMS: Final = ("long", "compact")
# The documents do not say how often the PBX may apply its configuration, only that it
# refuses applies that come too often (10025): one a second, a guess. Tests change it.
APPLY_GAP: Final = 1.0
# The forwarding modes: the prefix of their destination fields, and their on/off field.
MODES: Final = {"a": "alwaysforward", "n": "noanswerforward", "b": "busyforward"}
VOICEMAIL: Final = "Voicemail"
EXTENSION: Final = "Extension"
MOBILE: Final = "Mobile Number"
CUSTOM: Final = "Custom Number"
_COMPACT = {
    VOICEMAIL: "voicemail",
    EXTENSION: "ext",
    MOBILE: "mobile",
    CUSTOM: "number",
}
RING_TIMEOUTS: Final = ("15", "30", "60", "120", "300")
# The documents name no errno for a value out of range: "configuration failed".
_INVALID = "10017"
_BLANK = "10004"
_NO_EXTENSION = "10006"
_APPLIED_TOO_OFTEN = "10025"


@dataclass(slots=True)
class SimForwarding:
    """One forwarding mode; ``to`` is the kind (``Voicemail``...), empty when never set."""

    enabled: bool = False
    to: str = ""
    ext: str = ""
    prefix: str = ""
    num: str = ""

    def fields(self, prefix: str, form: ForwardingForm, mobile: str) -> Json:
        """Return the mode's fields as `extension/query` writes them."""
        item: Json = {MODES[prefix]: _on_off(self.enabled)}
        if not self.to:
            return item
        if form == "compact":
            # A mobile without a number of its own is the extension's mobile.
            number = (self.num or mobile) if self.to == MOBILE else self.num
            detail = {VOICEMAIL: "", EXTENSION: self.ext}.get(
                self.to, self.prefix + number
            )
            item[f"{prefix}transferto"] = _COMPACT[self.to] + detail
            return item
        item[f"{prefix}transferto"] = self.to
        if self.to == EXTENSION:
            item[f"{prefix}transferext"] = self.ext
        item[f"{prefix}transferprefix"] = self.prefix
        if self.to in (MOBILE, CUSTOM):
            item[f"{prefix}transfernum"] = self.num
        return item

    def complete(self, mobile: str) -> bool:
        """Whether the mode, if on, has everywhere it needs to send calls."""
        if not self.to:
            return not self.enabled
        if self.to == EXTENSION:
            return bool(self.ext)
        if self.to == CUSTOM:
            return bool(self.num)
        return self.to == VOICEMAIL or bool(self.num or mobile)


@dataclass(slots=True)
class SimSettings:
    """An extension's settings: the everyday ones, and the secrets the answer shows."""

    registerpassword: str
    loginpassword: str
    vmsecret: str
    dnd: bool = False
    ringtimeout: str = "30"
    mobile: str = ""
    forwarding: dict[str, SimForwarding] = field(default_factory=dict)

    @classmethod
    def default(cls, number: str) -> Self:
        """Return a new extension's settings, like the example's: no answer and busy to voicemail."""
        digest = hashlib.sha256(f"extension {number}".encode()).hexdigest()
        return cls(
            registerpassword=f"Sp{digest[:8]}",
            loginpassword=hashlib.md5(digest[8:16].encode()).hexdigest(),
            vmsecret=str(int(digest[16:24], 16))[-6:],
            forwarding={
                "a": SimForwarding(),
                "n": SimForwarding(True, VOICEMAIL),
                "b": SimForwarding(True, VOICEMAIL),
            },
        )

    def item(
        self, extension: SimExtension, api_version: str, form: ForwardingForm
    ) -> Json:
        """Return the `extinfos` item, fields in the example's order.

        v2 names the number `number` and leaves out `agentid`, as its extension list
        does (the v2 page shows no example: inferred).
        """
        v2 = api_version == "v2.0.0"
        item: Json = {
            "number" if v2 else "extnumber": extension.number,
            "username": extension.name,
            "status": extension.status,
            "type": extension.type,
        }
        if extension.port:
            item["port"] = extension.port
        item |= {
            "callerid": extension.number,
            "registername": extension.number,
            "registerpassword": self.registerpassword,
            "maxregistrations": "1",
            "loginpassword": self.loginpassword,
            "email": "",
            "moblie": self.mobile,  # sic
            "language": "System Default",
            "hasvoicemail": "on",
            "enablevmtoemail": "off",
            "vmsecret": self.vmsecret,
        }
        for prefix, forwarding in self.forwarding.items():
            item |= forwarding.fields(prefix, form, self.mobile)
        item |= {
            "ringsimultaneous": "off",
            "mobileprefix": "",
            "enablemobile": "off",
            "allowbeingmonitored": "off",
            "monitormode": "Disabled",
            "ringtimeout": self.ringtimeout,
            "maxduration": "Follow System",
            "dnd": _on_off(self.dnd),
            "callrestriction": _on_off(not extension.outbound),
        }
        if not v2:
            item["agentid"] = ""
        return item


class Configuration:
    """What the PBX's settings pages hold beyond its lists: extension settings, trunks.

    It shares the PBX's extension and trunk tables and sends reports through ``emit``.
    """

    def __init__(
        self,
        extensions: Mapping[str, SimExtension],
        trunks: dict[str, SimTrunk],
        clock: SimClock,
        emit: Callable[[Report], None],
    ) -> None:
        """Start with default settings for every extension, the long form, no apply yet."""
        self._extensions = extensions
        self._trunks = trunks
        self._clock = clock
        self._emit = emit
        self._settings: dict[str, SimSettings] = {}
        self._applied_at: float | None = None
        self.forwarding_form: ForwardingForm = "long"
        self.apply_gap = APPLY_GAP

    def handlers(self, version: str) -> dict[str, Callable[[Json], Json]]:
        """Return the endpoints, for every API version (v1 key `extid`, v2 `number`)."""
        return {
            "extension/query": functools.partial(self._query, version),
            "extension/update": functools.partial(self._update, version),
        }

    def settings(self, number: str) -> SimSettings:
        """Return an extension's settings; KeyError for an unknown extension."""
        if number not in self._extensions:
            raise KeyError(number)
        return self._settings.setdefault(number, SimSettings.default(number))

    def item(self, number: str, api_version: str = "v2.0.0") -> Json:
        """Return an extension's `extinfos` item; KeyError for an unknown extension."""
        settings = self.settings(number)
        return settings.item(
            self._extensions[number], api_version, self.forwarding_form
        )

    def change(self, number: str, fields: Mapping[str, object]) -> SimSettings:
        """Change settings as an administrator on the PBX's pages: no report, no gap.

        ``fields`` are named as `extension/update` names them. KeyError for an
        unknown extension, ``Refused`` (10017) for a value the PBX would not take.
        """
        current = self.settings(number)
        changed = _applied(current, fields, self._extensions)
        self._settings[number] = changed
        return changed

    async def add_trunk(
        self, name: str, type: str, status: str = "Registered", port: str = ""
    ) -> SimTrunk:
        """Create a trunk (the administrator did) and report it; ValueError if it exists.

        Awaitable because the report leaves from the running loop. The documents show
        only `del`; `add` for a new trunk is inferred.
        """
        if name in self._trunks:
            raise ValueError(f"trunk {name} exists")
        trunk = self._trunks[name] = SimTrunk(name, type, status, port)
        self._emit(ConfigChange(type="trunk", name=name, operation="add"))
        return trunk

    async def delete_trunk(self, name: str) -> None:
        """Delete a trunk and report it; KeyError when there is none."""
        del self._trunks[name]
        self._emit(ConfigChange(type="trunk", name=name, operation="del"))

    def _query(self, version: str, body: Json) -> Json:
        """`extension/query`: some extensions (`1000,1001`), or all.

        v1 asks for all with no parameter (the guide), v2 with `all`; an unknown
        extension answers 10006, as `extension/query_call` does.
        """
        wanted = _text(body, "number" if version == "v2.0.0" else "extid")
        if not wanted and version == "v2.0.0":
            raise Refused(_BLANK)
        if not wanted or wanted.lower() == "all":
            numbers = list(self._extensions)
        else:
            numbers = [n.strip() for n in wanted.split(",") if n.strip()]
            if any(number not in self._extensions for number in numbers):
                raise Refused(_NO_EXTENSION)
        return {
            "status": "Success",
            "extinfos": [self.item(number, version) for number in numbers],
        }

    def _update(self, version: str, body: Json) -> Json:
        """`extension/update`: apply the fields, echo a ConfigChange; 10025 when too soon."""
        number = _text(body, "number" if version == "v2.0.0" else "extid")
        if not number:
            raise Refused(_BLANK)
        if number not in self._extensions:
            raise Refused(_NO_EXTENSION)
        now = self._clock.now()
        # Measured from the last apply: a refused request applies nothing.
        if self._applied_at is not None and now - self._applied_at < self.apply_gap:
            raise Refused(_APPLIED_TOO_OFTEN)
        self.change(number, body)
        self._applied_at = now
        self._emit(ConfigChange(type="extension", name=number, operation="update"))
        return {"status": "Success"}


def _applied(
    settings: SimSettings,
    fields: Mapping[str, object],
    extensions: Mapping[str, SimExtension],
) -> SimSettings:
    """Return the settings with the fields applied; Refused unless all of them are valid."""
    new = copy.deepcopy(settings)
    if (dnd := _switch(fields, "dnd")) is not None:
        new.dnd = dnd
    if (timeout := _field(fields, "ringtimeout")) is not None:
        new.ringtimeout = _valid(timeout, timeout in RING_TIMEOUTS)
    if (mobile := _field(fields, "mobile")) is not None:
        new.mobile = _digits(mobile, 31)
    for prefix, switch_key in MODES.items():
        forwarding = new.forwarding[prefix]
        if (enabled := _switch(fields, switch_key)) is not None:
            forwarding.enabled = enabled
        if (to := _field(fields, f"{prefix}transferto")) is not None:
            kinds = {kind.lower(): kind for kind in _COMPACT}
            forwarding.to = _valid(kinds.get(to.lower(), ""), to.lower() in kinds)
        if (ext := _field(fields, f"{prefix}transferext")) is not None:
            forwarding.ext = _valid(ext, not ext or ext in extensions)
        if (dial_prefix := _field(fields, f"{prefix}transferprefix")) is not None:
            forwarding.prefix = _digits(dial_prefix, 7)
        if (num := _field(fields, f"{prefix}transfernum")) is not None:
            forwarding.num = _digits(num, 15)
        if not forwarding.complete(new.mobile):
            raise Refused(_INVALID)
    return new


def _field(fields: Mapping[str, object], key: str) -> str | None:
    """Return a field's text, None when absent; Refused when it is no text."""
    value = fields.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused(_INVALID)
    return value.strip()


def _switch(fields: Mapping[str, object], key: str) -> bool | None:
    """Read an on/off field (the documents write it `on` or `On`)."""
    if (value := _field(fields, key)) is None:
        return None
    return _valid(value.lower(), value.lower() in ("on", "off")) == "on"


def _digits(value: str, longest: int) -> str:
    """Check a number field: digits (or nothing), at most ``longest`` of them."""
    return _valid(value, not value or (value.isdigit() and len(value) <= longest))


def _valid[T](value: T, ok: bool) -> T:
    """Return the value if ``ok``, else refuse the change."""
    if not ok:
        raise Refused(_INVALID)
    return value


def _text(body: Json, key: str) -> str:
    """Return a body field as text, blank when absent."""
    return str(body.get(key, "")).strip()


def _on_off(on: bool) -> str:
    """Write a switch as the PBX does."""
    return "on" if on else "off"
