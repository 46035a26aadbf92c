"""Extension settings and configuration changes: query, update, ConfigChange, trunks."""

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.api.settings import (
    ExtensionSettings,
    ForwardDestination,
    ForwardMode,
    dnd_update,
    forwarding_update,
    query_all,
)
from simulator import ControlAPI, ControlClient, SimClock, SimulatedPBX
from simulator.settings import APPLY_GAP, ForwardingForm

from .conftest import Receiver, call, login

# The 2017 guide's example answer, field by field (v1: `extnumber`, `agentid`).
EXAMPLE_FIELDS = [
    "extnumber", "username", "status", "type", "callerid", "registername",
    "registerpassword", "maxregistrations", "loginpassword", "email", "moblie",
    "language", "hasvoicemail", "enablevmtoemail", "vmsecret", "alwaysforward",
    "noanswerforward", "ntransferto", "ntransferprefix", "busyforward", "btransferto",
    "btransferprefix", "ringsimultaneous", "mobileprefix", "enablemobile",
    "allowbeingmonitored", "monitormode", "ringtimeout", "maxduration", "dnd",
    "callrestriction", "agentid",
]  # fmt: skip


@pytest.fixture
def simulated_pbx(simulated_pbx: SimulatedPBX) -> SimulatedPBX:
    """Attach the control API to the PBX before it starts."""
    simulated_pbx.extend_app(ControlAPI(simulated_pbx).install)
    return simulated_pbx


class Api:
    """One session's requests, and the reports its receiver got."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        pbx: SimulatedPBX,
        receiver: Receiver,
        version: ApiVersion,
    ) -> None:
        """Use ``version``'s endpoints and report format."""
        self.http, self.pbx, self.receiver = http, pbx, receiver
        self.version = version
        self.token = ""

    async def login(self) -> None:
        """Log in with the version's own report format."""
        report_format = "2.0.0" if self.version is ApiVersion.V2_0_0 else "1.0.2"
        self.token = await login(
            self.http,
            self.pbx,
            api_version=self.version.value,
            port=self.receiver.port,
            version=report_format,
        )

    async def __call__(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send one request with the session's token."""
        return await call(
            self.http,
            self.pbx,
            endpoint,
            body,
            token=self.token,
            api_version=self.version.value,
        )

    async def settings(self, number: str) -> dict[str, Any]:
        """Return one extension's `extinfos` item."""
        key = "number" if self.version is ApiVersion.V2_0_0 else "extid"
        [item] = (await self("extension/query", {key: number}))["extinfos"]
        result: dict[str, Any] = item
        return result

    async def reports(self) -> list[dict[str, Any]]:
        """Return the reports received so far, decoded."""
        await self.pbx.wait_delivered()
        return [json.loads(body) for body in self.receiver.bodies]


@pytest.fixture(params=[ApiVersion.V2_0_0, ApiVersion.V1_1_0], ids=str)
async def api(
    request: pytest.FixtureRequest,
    pbx: SimulatedPBX,
    http: aiohttp.ClientSession,
    receiver: Receiver,
) -> Api:
    """Log in with v2.0.0 (reports 2.0.0) or v1.1.0 (reports 1.0.2)."""
    api = Api(http, pbx, receiver, request.param)
    await api.login()
    return api


async def test_query_answers_the_example_fields(api: Api) -> None:
    """Every setting, secrets in plain text and `moblie` (sic); v1 asks for all with nothing."""
    answer = await api("extension/query", query_all(api.version))
    assert answer["status"] == "Success"
    items = answer["extinfos"]
    first = items[0]
    if api.version is ApiVersion.V2_0_0:
        assert [item["number"] for item in items] == ["1000", "1001", "1002", "1003"]
        assert list(first) == ["number", *EXAMPLE_FIELDS[1:-1]]
    else:
        assert [item["extnumber"] for item in items] == ["1000", "1001", "1002", "1003"]
        assert list(first) == EXAMPLE_FIELDS
    assert first["registerpassword"]
    assert len(first["loginpassword"]) == 32  # "displayed in MD5 cipher text"
    assert first["vmsecret"].isdigit()
    assert items[2]["port"] == "Span1_Port3"
    assert {item["registerpassword"] for item in items} != {first["registerpassword"]}


async def test_query_some_extensions(api: Api) -> None:
    """`1000,1002` answers those two; an unknown extension 10006."""
    key = "number" if api.version is ApiVersion.V2_0_0 else "extid"
    answer = await api("extension/query", {key: "1000, 1002"})
    assert [item["username"] for item in answer["extinfos"]] == ["Jayson", "Kitchen"]
    assert (await api("extension/query", {key: "1000,1009"}))["errno"] == "10006"


async def test_v2_query_needs_its_number(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """v2 names the number it asks for (10004 without); `all` answers every extension."""
    token = await login(http, pbx)
    blank = await call(http, pbx, "extension/query", {}, token=token)
    assert blank == {"status": "Failed", "errno": "10004"}
    every = await call(http, pbx, "extension/query", {"number": "ALL"}, token=token)
    assert len(every["extinfos"]) == 4


async def test_update_applies_and_echoes_config_change(api: Api) -> None:
    """An update shows in the next query and is echoed as ConfigChange, once per update."""
    body = {
        **dnd_update(api.version, "1001", on=True),
        "ringtimeout": "60",
        "mobile": "1399999999",
    }
    assert await api("extension/update", body) == {"status": "Success"}

    settings = await api.settings("1001")
    assert (settings["dnd"], settings["ringtimeout"], settings["moblie"]) == (
        "on",
        "60",
        "1399999999",
    )
    [report] = await api.reports()
    name = "event" if api.version is ApiVersion.V2_0_0 else "action"
    assert report == {
        name: "ConfigChange",
        "type": "extension",
        "extid": "1001",
        "operation": "update",
        "sn": api.pbx.serial,
    }


async def test_update_too_often(api: Api, clock: SimClock) -> None:
    """A second update within the gap is refused (10025) and applies nothing."""
    number = "1000"
    assert (await api("extension/update", dnd_update(api.version, number, on=True)))[
        "status"
    ] == "Success"
    clock.advance(APPLY_GAP / 2)
    refused = await api("extension/update", dnd_update(api.version, number, on=False))
    assert refused == {"status": "Failed", "errno": "10025"}
    assert (await api.settings(number))["dnd"] == "on"
    clock.advance(APPLY_GAP / 2)
    again = await api("extension/update", dnd_update(api.version, number, on=False))
    assert again["status"] == "Success"
    assert len(await api.reports()) == 2


async def test_configuration_failed_on_demand(api: Api) -> None:
    """The errno fault makes the next update fail with 10017; nothing is applied."""
    api.pbx.faults.refuse_next("10017", "extension/update")
    body = dnd_update(api.version, "1000", on=True)
    assert (await api("extension/update", body))["errno"] == "10017"
    assert (await api.settings("1000"))["dnd"] == "off"
    assert (await api("extension/update", body))["status"] == "Success"


@pytest.mark.parametrize(
    ("fields", "errno"),
    [
        ({}, "10004"),
        ({"key": "1009", "dnd": "on"}, "10006"),
        ({"dnd": "maybe"}, "10017"),
        ({"dnd": True}, "10017"),
        ({"ringtimeout": "45"}, "10017"),
        ({"mobile": "+49"}, "10017"),
        ({"atransferto": "Fax"}, "10017"),
        ({"atransferto": "Extension", "atransferext": "1009"}, "10017"),
        ({"atransferto": "Custom Number", "atransferprefix": "12345678"}, "10017"),
        ({"atransferto": "Custom Number", "atransfernum": "1" * 16}, "10017"),
        # On with nowhere to go: no destination, a custom number or a mobile without one.
        ({"alwaysforward": "on"}, "10017"),
        ({"busyforward": "on", "btransferto": "Custom Number"}, "10017"),
        ({"noanswerforward": "on", "ntransferto": "Mobile Number"}, "10017"),
        ({"busyforward": "on", "btransferto": "Extension"}, "10017"),
    ],
)
async def test_update_refusals(api: Api, fields: dict[str, object], errno: str) -> None:
    """Blank key 10004, unknown extension 10006, a value the PBX cannot take 10017."""
    key = "number" if api.version is ApiVersion.V2_0_0 else "extid"
    extension = fields.get("key", "1000")
    named = {k: v for k, v in fields.items() if k != "key"}
    body = {key: extension, **named} if fields else {}
    before = await api.settings("1000")
    assert await api("extension/update", body) == {"status": "Failed", "errno": errno}
    assert await api.settings("1000") == before
    assert await api.reports() == []
    # Refused updates apply nothing: the next one is not too soon.
    ok = await api("extension/update", dnd_update(api.version, "1000", on=True))
    assert ok["status"] == "Success"


@pytest.mark.parametrize(
    ("destination", "target", "long", "compact", "seen"),
    [
        (ForwardDestination.VOICEMAIL, None, {"atransferto": "Voicemail"}, "voicemail", None),
        (
            ForwardDestination.EXTENSION,
            "1001",
            {"atransferto": "Extension", "atransferext": "1001"},
            "ext1001",
            "1001",
        ),
        (
            ForwardDestination.MOBILE,
            "1399999999",
            {"atransferto": "Mobile Number", "atransfernum": "1399999999"},
            "mobile1399999999",
            "1399999999",
        ),
        (
            ForwardDestination.NUMBER,
            "95923333",
            {"atransferto": "Custom Number", "atransfernum": "95923333"},
            "number95923333",
            "95923333",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("form", ["long", "compact"])
async def test_forwarding_destination_forms(
    api: Api,
    form: ForwardingForm,
    destination: ForwardDestination,
    target: str | None,
    long: dict[str, str],
    compact: str,
    seen: str | None,
) -> None:
    """Each destination reads in either documented form, and the integration reads both."""
    api.pbx.configuration.forwarding_form = form
    body = forwarding_update(
        api.version,
        "1000",
        ForwardMode.ALWAYS,
        enabled=True,
        destination=destination,
        target=target,
    )
    assert (await api("extension/update", body))["status"] == "Success"

    item = await api.settings("1000")
    assert item["alwaysforward"] == "on"
    fields = {key: value for key, value in item.items() if key[1:9] == "transfer"}
    if form == "long":
        assert {k: v for k, v in fields.items() if k.startswith("a")} == {
            "atransferprefix": "",
            **long,
        }
    else:
        assert {k: v for k, v in fields.items() if k.startswith("a")} == {
            "atransferto": compact
        }
    settings = ExtensionSettings.from_api(item)
    assert settings is not None
    forwarding = settings.forwarding[ForwardMode.ALWAYS]
    assert (forwarding.enabled, forwarding.destination, forwarding.number) == (
        True,
        destination,
        seen,
    )


@pytest.mark.parametrize("form", ["long", "compact"])
async def test_forwarding_to_the_extensions_own_mobile(
    api: Api, form: ForwardingForm
) -> None:
    """Mobile Number without a number of its own goes to the extension's mobile."""
    api.pbx.configuration.forwarding_form = form
    api.pbx.configuration.change("1000", {"mobile": "13988887777"})
    body = forwarding_update(
        api.version,
        "1000",
        ForwardMode.BUSY,
        enabled=True,
        destination=ForwardDestination.MOBILE,
    )
    assert (await api("extension/update", body))["status"] == "Success"
    settings = ExtensionSettings.from_api(await api.settings("1000"))
    assert settings is not None
    assert settings.forwarding[ForwardMode.BUSY].number == "13988887777"


async def test_admin_change_on_the_pbx_sends_no_report(
    api: Api, http: aiohttp.ClientSession
) -> None:
    """The administrator's change (control API, its client) shows, without a report."""
    pbx = api.pbx
    url = f"{pbx.base_url}/__simulator__/extension_settings"
    async with http.post(url, json={"number": "1001", "dnd": "on"}) as response:
        assert response.status == 200
        assert (await response.json())["dnd"] == "on"
    client = ControlClient(pbx.base_url)
    changed = await asyncio.to_thread(
        client.extension_settings,
        "1002",
        noanswerforward="on",
        ntransferto="Extension",
        ntransferext="1000",
    )
    assert changed["ntransferext"] == "1000"
    read = await asyncio.to_thread(client.extension_settings, "1002")
    assert read == changed

    assert (await api.settings("1001"))["dnd"] == "on"
    assert (await api.settings("1002"))["ntransferext"] == "1000"
    assert await api.reports() == []
    # Not an apply through the API: an update may follow at once.
    body = dnd_update(api.version, "1001", on=False)
    assert (await api("extension/update", body))["status"] == "Success"


async def test_trunks_added_and_deleted_are_reported(
    api: Api, http: aiohttp.ClientSession
) -> None:
    """A trunk added or deleted on the PBX is in its list or not, and ConfigChange says so."""
    client = ControlClient(api.pbx.base_url)
    added = await asyncio.to_thread(
        client.add_trunk, "GSM3-1", "GSM", status="Idle", port="Span3-Port1"
    )
    assert added == {
        "trunkname": "GSM3-1",
        "status": "Idle",
        "type": "GSM",
        "port": "Span3-Port1",
    }
    assert await asyncio.to_thread(client.delete_trunk, "SIP-142") == {
        "name": "SIP-142",
        "deleted": True,
    }
    endpoint = "trunk/list" if api.version is ApiVersion.V2_0_0 else "trunklist/query"
    names = [t["trunkname"] for t in (await api(endpoint, {}))["trunklist"]]
    assert names == ["sip-143", "FXO2-3", "DIGIT1", "GSM2-7", "GSM3-1"]
    name = "event" if api.version is ApiVersion.V2_0_0 else "action"
    assert [
        (r[name], r["type"], r["trunkname"], r["operation"])
        for r in await api.reports()
    ] == [
        ("ConfigChange", "trunk", "GSM3-1", "add"),
        ("ConfigChange", "trunk", "SIP-142", "del"),
    ]


async def test_old_format_config_change(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """The old v1.0.0 format carries no serial number."""
    await login(http, pbx, api_version="v1.0.0", port=receiver.port)
    await pbx.configuration.add_trunk("SIP-200", "SIP")
    await pbx.wait_delivered()
    assert receiver.bodies == [
        b'{"action":"ConfigChange","type":"trunk","trunkname":"SIP-200","operation":"add"}'
    ]


async def test_forms_and_gap_are_settings(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """The control API's settings pick the destination form and the gap between applies."""
    client = ControlClient(pbx.base_url)
    answer = await asyncio.to_thread(
        client.settings, forwarding_form="compact", apply_gap=0
    )
    assert (answer["forwarding_form"], answer["apply_gap"]) == ("compact", 0)
    token = await login(http, pbx)
    for on in (True, False):
        body = dnd_update(ApiVersion.V2_0_0, "1000", on=on)
        answer = await call(http, pbx, "extension/update", body, token=token)
        assert answer["status"] == "Success"
    item = pbx.configuration.item("1000")
    assert item["ntransferto"] == "voicemail"
