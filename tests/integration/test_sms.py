"""The send_sms action against the simulated PBX: what it sends, refuses and answers.

The PBX accepts a message at once (its `smsid`); whether it went out comes two
seconds later in an `sms-send` report. Tests that wait for it move time on by
the PBX's delay, or by the action's timeout.
"""

import asyncio
from datetime import timedelta
import json
from typing import Any

from homeassistant.auth.models import User
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.api import ApiVersion, parse_report
from custom_components.yeastar_s_series.const import DOMAIN
from custom_components.yeastar_s_series.sms_results import KEPT_RESULTS, SmsResults
from simulator import SimTrunk, SimulatedPBX, SmsOutcome
from simulator.sms import RESULT_DELAY
from tests.common import ENTRY_ID, PASSWORD, SERIAL, load_entry

GSM = "GSM2-7"
NUMBER = "+8613912345678"
HELLO = "仓库的警报响了，请尽快查看。"


async def _load(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    version: ApiVersion = ApiVersion.V2_0_0,
) -> MockConfigEntry:
    """Set the entry up against a PBX whose GSM module is idle."""
    pbx.set_trunk_status(GSM, "Idle")
    return await load_entry(hass, pbx, ha_port, version)


@pytest.fixture
async def loaded(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> MockConfigEntry:
    """Set the entry up (API v2.0.0)."""
    return await _load(hass, pbx, ha_port)


def device(hass: HomeAssistant, trunk: str | None = None) -> str:
    """Return the device id of a trunk (a child device), or of the PBX."""
    registry = dr.async_get(hass)
    found = (
        registry.async_get_device_by_identifier((DOMAIN, SERIAL), ENTRY_ID)
        if trunk is None
        else registry.async_get_child_device_by_identifier(
            (DOMAIN, f"{SERIAL}_trunk_{trunk}"), ENTRY_ID
        )
    )
    assert found is not None, trunk
    return found.id


async def send_sms(
    hass: HomeAssistant, *, context: Context | None = None, **data: Any
) -> Any:
    """Run send_sms as a user would (the GSM trunk's device unless told) and return its answer."""
    data.setdefault(ATTR_DEVICE_ID, device(hass, GSM))
    data.setdefault("number", NUMBER)
    data.setdefault("message", HELLO)
    return await hass.services.async_call(
        DOMAIN,
        "send_sms",
        data,
        blocking=True,
        context=context,
        return_response=True,
    )


async def wait_for_result(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    pbx: SimulatedPBX,
    seconds: float,
    **data: Any,
) -> Any:
    """Send, waiting for the result; once the action waits, let `seconds` pass."""
    sending = asyncio.create_task(send_sms(hass, wait_for_result=True, **data))
    results: SmsResults = entry.runtime_data.sms_results
    async with asyncio.timeout(5):
        while not results._waiting:  # noqa: SLF001  # the action waits now
            await asyncio.sleep(0.01)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    return await sending


def sent(pbx: SimulatedPBX) -> list[tuple[str, str, str]]:
    """Return what the PBX sent: (trunk, number, message decoded)."""
    return [(sms.trunk, sms.number, sms.message) for sms in pbx.sms.messages]


@pytest.mark.usefixtures("loaded")
async def test_chinese_message_arrives_intact(
    hass: HomeAssistant, pbx: SimulatedPBX
) -> None:
    """Through the GSM trunk's device: the PBX gets the very text; the answer is its smsid."""
    response = await send_sms(hass)

    assert sent(pbx) == [(GSM, NUMBER, HELLO)]
    assert response == {"smsid": pbx.sms.messages[0].smsid, "status": None}


@pytest.mark.parametrize(
    "data", [{"trunk": GSM}, {}], ids=["trunk_named", "the_only_gsm_trunk"]
)
@pytest.mark.usefixtures("loaded")
async def test_the_pbx_device_sends_through_the_gsm_trunk(
    hass: HomeAssistant, pbx: SimulatedPBX, data: dict[str, Any]
) -> None:
    """Targeting the PBX, the trunk is the one named, else its only GSM trunk."""
    await send_sms(hass, device_id=device(hass), **data)

    assert sent(pbx) == [(GSM, NUMBER, HELLO)]


@pytest.mark.usefixtures("loaded")
async def test_a_trunk_the_pbx_lacks_is_refused(
    hass: HomeAssistant, pbx: SimulatedPBX
) -> None:
    """A trunk name the PBX does not list is refused in words, nothing sent."""
    with pytest.raises(ServiceValidationError) as caught:
        await send_sms(hass, device_id=device(hass), trunk="GSM9-9")

    assert str(caught.value) == "The PBX has no trunk named GSM9-9"
    assert pbx.stats.requests["sms/send"] == 0


async def test_two_gsm_trunks_need_one_named(hass: HomeAssistant, ha_port: int) -> None:
    """With two GSM trunks and none named, the action asks which, nothing sent."""
    trunks = [
        SimTrunk(GSM, "GSM", "Idle", "Span2-Port7"),
        SimTrunk("4G1-1", "4G", "Idle"),
    ]
    async with SimulatedPBX(password=PASSWORD, serial=SERIAL, trunks=trunks) as pbx:
        await _load(hass, pbx, ha_port)

        with pytest.raises(ServiceValidationError) as caught:
            await send_sms(hass, device_id=device(hass))

        assert caught.value.translation_key == "trunk_needed"
        assert pbx.stats.requests["sms/send"] == 0
        await hass.config_entries.async_unload(ENTRY_ID)


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("警报 🚨", "The PBX cannot send emoji in a text message: remove them"),
        ("a" * 2001, "The message is too long: at most 2,000 characters, or 1,000"),
        ("警" * 1001, "The message is too long: at most 2,000 characters, or 1,000"),
        ("   ", "The message is empty"),
    ],
    ids=["emoji", "too_long", "too_long_chinese", "blank"],
)
@pytest.mark.usefixtures("loaded")
async def test_a_message_the_pbx_cannot_send_is_refused_first(
    hass: HomeAssistant, pbx: SimulatedPBX, message: str, words: str
) -> None:
    """Emoji, too long, blank: refused in words before the PBX gets any request."""
    with pytest.raises(ServiceValidationError) as caught:
        await send_sms(hass, message=message)

    assert str(caught.value).startswith(words)
    assert pbx.stats.requests["sms/send"] == 0


@pytest.mark.usefixtures("loaded")
async def test_for_administrators_only(
    hass: HomeAssistant, pbx: SimulatedPBX, hass_read_only_user: User
) -> None:
    """A message costs money: a user who is no administrator may not send one."""
    with pytest.raises(Unauthorized):
        await send_sms(hass, context=Context(user_id=hass_read_only_user.id))

    assert pbx.stats.requests["sms/send"] == 0


@pytest.mark.parametrize(
    ("errno", "words"),
    [
        ("10026", "The PBX has no such GSM module"),
        ("10027", "The GSM module is busy (no idle module): try again shortly"),
        ("10028", "The PBX says the phone number is blank"),
        ("10029", "The PBX could not store the message"),
        ("10030", "The PBX says the message is blank"),
    ],
)
@pytest.mark.usefixtures("loaded")
async def test_pbx_refusals_in_words(
    hass: HomeAssistant, pbx: SimulatedPBX, errno: str, words: str
) -> None:
    """Whatever the PBX refuses a message with becomes the error that says why."""
    pbx.faults.refuse_next(errno, endpoint="sms/send")

    with pytest.raises(HomeAssistantError) as caught:
        await send_sms(hass)

    assert str(caught.value) == words
    assert pbx.sms.messages == []


@pytest.mark.parametrize("version", list(ApiVersion), ids=str)
async def test_wait_for_the_result_sent(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, version: ApiVersion
) -> None:
    """The report comes after the PBX's delay: the action answers sent (v1: "Succeed")."""
    entry = await _load(hass, pbx, ha_port, version)

    response = await wait_for_result(hass, entry, pbx, RESULT_DELAY)

    assert response == {"smsid": pbx.sms.messages[0].smsid, "status": "sent"}


async def test_wait_for_the_result_failed(
    hass: HomeAssistant, pbx: SimulatedPBX, loaded: MockConfigEntry
) -> None:
    """The PBX reports the message failed: the action answers failed."""
    pbx.sms.next_outcomes.append(SmsOutcome.FAILED)

    response = await wait_for_result(hass, loaded, pbx, RESULT_DELAY)

    assert response["status"] == "failed"


async def test_no_result_within_the_timeout_is_pending(
    hass: HomeAssistant, pbx: SimulatedPBX, loaded: MockConfigEntry
) -> None:
    """No report before the timeout: the action answers pending, with the smsid."""
    pbx.sms.next_outcomes.append(SmsOutcome.SILENT)

    response = await wait_for_result(hass, loaded, pbx, 10, timeout=10)

    assert response == {"smsid": pbx.sms.messages[0].smsid, "status": "pending"}


# The results kept for the actions that wait (no PBX needed).


def result_report(results: SmsResults, smsid: object, status: object) -> None:
    """Hand the results an `sms-send` report as the webhook would."""
    body = json.dumps({"event": "sms-send", "status": status, "smsid": smsid})
    results.async_handle_report(parse_report(body), {})


async def test_a_result_that_came_first_is_answered_at_once() -> None:
    """The PBX was quicker than the action: its result is kept for the wait."""
    results = SmsResults()
    result_report(results, "1-2", "Succeed")

    assert await results.async_wait("1-2", timeout=0.01) == "sent"


@pytest.mark.parametrize(
    ("smsid", "status"),
    [("1-2", "Delivered"), ("1-2", 1), (None, "Success")],
    ids=["unknown_status", "status_no_text", "no_smsid"],
)
async def test_a_report_the_documents_do_not_show_is_no_result(
    smsid: object, status: object
) -> None:
    """A status the documents do not spell, or no smsid: the wait goes on."""
    results = SmsResults()
    result_report(results, smsid, status)

    assert await results.async_wait("1-2", timeout=0.01) is None


async def test_only_the_latest_results_are_kept() -> None:
    """Past the kept number, the oldest result is forgotten."""
    results = SmsResults()
    for number in range(KEPT_RESULTS + 1):
        result_report(results, f"{number}-2", "Success")

    assert await results.async_wait("0-2", timeout=0.01) is None
    assert await results.async_wait("1-2", timeout=0.01) == "sent"


async def test_a_wait_that_timed_out_leaves_the_others() -> None:
    """Two actions wait for one message: one gives up, the other still gets the result."""
    results = SmsResults()
    patient = asyncio.create_task(results.async_wait("1-2", timeout=5))
    assert await results.async_wait("1-2", timeout=0.01) is None

    result_report(results, "1-2", "Failed")

    assert await patient == "failed"
