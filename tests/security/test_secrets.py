"""No password, password hash or session token ever leaves the integration's keeping.

One long test drives every path that touches a credential against the simulated
PBX, with every logger at DEBUG: setup, heartbeats, a forgotten token and the
login after it, garbage answers, an unreachable PBX, a wrong password and the
reauth flow, a lockout, the config flow with a wrong and a right password, the
options and reconfigure flows, diagnostics, and unload (logout). Every token the
PBX issued is recorded as it is issued. Then every text Home Assistant could show
or store is searched for every secret: log records (message, arguments, exception
text, stack), exceptions the coordinator kept, diagnostics, entity states and
attributes, config entries (the hash only under `password_hash`), repair issues
and flow results.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
import json
import logging
import traceback
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)

from custom_components.yeastar_s_series.api import hash_password
from custom_components.yeastar_s_series.const import (
    API_VERSION_AUTO,
    CONF_API_VERSION,
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PASSWORD_HASH,
    DOMAIN,
    LOGGER,
)
from custom_components.yeastar_s_series.coordinator import LOCKOUTS
from simulator import SimulatedPBX
from tests.common import PASSWORD, SERIAL, WEBHOOK_ID, setup_entry

NEW_PASSWORD = "n3w-Pa55w0rd!"
WRONG_PASSWORD = "wr0ng-Guess#1"
OTHER_PASSWORD = "0ther-PBX-pw"
OTHER_SERIAL = "369364835299"
CONNECTION = "sensor.yeastar_s100_connection"


def assert_no_secret(text: str, secrets: dict[str, str], where: str) -> None:
    """Fail, naming the secret and the place but not printing the secret, if one is in text."""
    folded = text.casefold()
    for name, secret in secrets.items():
        if secret.casefold() in folded:
            pytest.fail(f"{name} leaked into {where}")


def exception_texts(error: BaseException) -> Iterator[str]:
    """Yield str, repr and args of an exception and of everything chained to it, and its traceback."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        pending.extend(
            linked
            for linked in (current.__cause__, current.__context__)
            if linked is not None
        )
    yield "".join(traceback.format_exception(error))


def record_texts(record: logging.LogRecord) -> Iterator[str]:
    """Yield everything a log handler could write for a record."""
    yield record.getMessage()
    yield str(record.msg)
    yield repr(record.args)
    if record.exc_info and record.exc_info[1] is not None:
        yield from exception_texts(record.exc_info[1])
    if record.exc_text:
        yield record.exc_text
    if record.stack_info:
        yield record.stack_info


class SecretWatch:
    """The secrets of this test, and every text that must not contain one."""

    def __init__(self) -> None:
        """Start with the passwords typed in this test and their hashes."""
        self.secrets: dict[str, str] = {}
        for name, password in (
            ("password", PASSWORD),
            ("new password", NEW_PASSWORD),
            ("wrong password", WRONG_PASSWORD),
            ("other PBX's password", OTHER_PASSWORD),
        ):
            self.secrets[name] = password
            self.secrets[f"MD5 of the {name}"] = hash_password(password)
        self.tokens: list[str] = []
        self.texts: list[tuple[str, str]] = []

    def watch_logins(self, pbx: SimulatedPBX, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record every token the PBX issues, the moment it issues it."""
        login = pbx._login

        def recording_login(
            source_ip: str, version: str, body: dict[str, Any]
        ) -> dict[str, Any]:
            answer = login(source_ip, version, body)
            if isinstance(token := answer.get("token"), str):
                self.tokens.append(token)
            return answer

        monkeypatch.setattr(pbx, "_login", recording_login)

    def note_sessions(self, pbx: SimulatedPBX) -> None:
        """Record the tokens of the PBX's live sessions (a cross-check on watch_logins)."""
        for session in pbx.sessions:
            if session.token not in self.tokens:
                self.tokens.append(session.token)

    def all_secrets(self) -> dict[str, str]:
        """Return the passwords, their hashes and every token issued so far."""
        return self.secrets | {
            f"token #{number}": token for number, token in enumerate(self.tokens, 1)
        }

    def add(self, where: str, value: object) -> None:
        """Keep a text (or the JSON or repr of a value) to be searched at the end."""
        if not isinstance(value, str):
            try:
                value = json.dumps(value, default=repr)
            except TypeError, ValueError:
                value = repr(value)
        self.texts.append((where, value))

    def add_flow_result(self, where: str, result: Any) -> None:
        """Keep a flow result; a created entry's data may hold the hash, under its key only."""
        shown = dict(result)
        if isinstance(data := shown.get("data"), dict):
            shown["data"] = {k: v for k, v in data.items() if k != CONF_PASSWORD_HASH}
        self.add(f"flow result: {where}", shown)

    def add_exception(self, where: str, error: BaseException | None) -> None:
        """Keep every text of an exception."""
        if error is not None:
            for text in exception_texts(error):
                self.add(where, text)

    def collect(self, hass: HomeAssistant, step: str) -> None:
        """Keep what a user could see now: states, entries, issues, kept exceptions."""
        for state in hass.states.async_all():
            self.add(f"state of {state.entity_id} after {step}", state.as_dict())
        for entry in hass.config_entries.async_entries(DOMAIN):
            self.add(f"entry title after {step}", entry.title)
            self.add(f"entry options after {step}", dict(entry.options))
            self.add(f"entry reason after {step}", entry.reason or "")
            self.add(
                f"entry data without the hash after {step}",
                {k: v for k, v in entry.data.items() if k != CONF_PASSWORD_HASH},
            )
            # The plaintext is nowhere in the entry, not even under the hash's key.
            assert CONF_PASSWORD not in entry.data
            for name, password in self.secrets.items():
                if not name.startswith("MD5"):
                    assert_no_secret(
                        repr(dict(entry.data)), {name: password}, f"entry data ({step})"
                    )
            if (runtime := getattr(entry, "runtime_data", None)) is not None:
                coordinator = runtime.coordinator
                self.add(f"client repr after {step}", repr(coordinator.client))
                self.add_exception(
                    f"coordinator's last exception after {step}",
                    coordinator.last_exception,
                )
        for issue in ir.async_get(hass).issues.values():
            self.add(f"repair issue after {step}", issue.to_json())

    def add_logs(self, records: Iterable[logging.LogRecord]) -> None:
        """Keep every text of every log record."""
        for record in records:
            for text in record_texts(record):
                self.add(f"log record of {record.name} ({record.levelname})", text)

    def assert_clean(self) -> None:
        """Fail if any kept text holds any secret."""
        secrets = self.all_secrets()
        for where, text in self.texts:
            assert_no_secret(text, secrets, where)


async def heartbeat(hass: HomeAssistant) -> None:
    """Fire the next heartbeat of every entry now, and wait for it.

    What runs must finish first: moving the clock would also fire the timeouts of
    requests in flight (a reload's login).
    """
    await hass.async_block_till_done(wait_background_tasks=True)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done(wait_background_tasks=True)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def lock_out(pbx: SimulatedPBX) -> None:
    """Lock loopback out at the PBX with five wrong passwords (not the integration's)."""
    body = {"username": "api", "password": hash_password("attacker"), "port": "1"}
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            async with session.post(
                f"{pbx.base_url}/api/v2.0.0/login", json=body
            ) as response:
                assert (await response.json())["errno"] == "20003"
    assert pbx.is_locked()


def form_input(pbx: SimulatedPBX, password: str) -> dict[str, Any]:
    """Return what a user types into the first form for a PBX."""
    return {
        CONF_HOST: pbx.host,
        CONF_PORT: pbx.port,
        CONF_SSL: False,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: API_VERSION_AUTO,
        CONF_USERNAME: "api",
        CONF_PASSWORD: password,
    }


# The checker must be able to fail


def _fail_with_a_chained_secret() -> None:
    """Raise an error whose cause (not its own message) holds the hash."""
    raise ValueError("cause") from KeyError(hash_password(PASSWORD))


def test_assert_no_secret_finds_a_planted_secret() -> None:
    """The helper fails on a secret anywhere in a text, in any case, and names it."""
    secrets = {"token #1": "48a7c0ffee", "password": PASSWORD}
    assert_no_secret("nothing to see", secrets, "a clean text")
    for text in (
        "heartbeat?token=48a7c0ffee failed",
        "TOKEN=48A7C0FFEE",
        f"login with {PASSWORD!r}",
    ):
        with pytest.raises(pytest.fail.Exception, match="leaked into a planted text"):
            assert_no_secret(text, secrets, "a planted text")


async def test_the_watch_finds_secrets_in_logs_states_and_exceptions(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A token in a log argument, an exception's traceback or an attribute is found."""
    caplog.set_level(logging.DEBUG)
    watch = SecretWatch()
    watch.tokens.append("feedc0de" * 4)
    LOGGER.debug("Heartbeat to %s", f"https://pbx/api?token={'feedc0de' * 4}")
    watch.add_logs(caplog.records)
    with pytest.raises(pytest.fail.Exception, match="token #1 leaked into log record"):
        watch.assert_clean()

    watch = SecretWatch()
    try:
        _fail_with_a_chained_secret()
    except ValueError as err:
        watch.add_exception("an exception", err)
    with pytest.raises(pytest.fail.Exception, match="MD5 of the password leaked"):
        watch.assert_clean()

    watch = SecretWatch()
    hass.states.async_set("sensor.planted", "ok", {"secret": NEW_PASSWORD})
    watch.collect(hass, "planting")
    with pytest.raises(pytest.fail.Exception, match="new password leaked into state"):
        watch.assert_clean()


# The real thing


async def test_no_secret_escapes_any_credential_path(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    ha_port: int,
    hass_client: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Drive every credential path; no secret shows anywhere a user or a log could see it."""
    caplog.set_level(logging.DEBUG)
    watch = SecretWatch()
    watch.watch_logins(pbx, monkeypatch)
    flows: list[tuple[str, Any]] = []

    async def step(name: str, action: Callable[[], Any] | None = None) -> None:
        if action is not None:
            result = action()
            if hasattr(result, "__await__"):
                await result
        await heartbeat(hass)
        watch.note_sessions(pbx)
        watch.collect(hass, name)

    # Setup, heartbeats.
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    watch.collect(hass, "setup")
    await step("a heartbeat")
    await step("another heartbeat")
    assert state_of(hass, CONNECTION) == "connected"

    # The PBX forgets the token: a token error, then a new login.
    logins = pbx.stats.successful_logins
    await step("a token error", pbx.forget_tokens)
    assert pbx.stats.successful_logins == logins + 1
    assert state_of(hass, CONNECTION) == "connected"

    # A garbage answer, then an unreachable PBX.
    pbx.faults.garbage = True
    await step("a garbage answer")
    assert state_of(hass, CONNECTION) == "disconnected"
    pbx.faults.garbage = False
    await step("recovery from garbage")
    await step("the PBX going down", pbx.go_down)
    assert state_of(hass, CONNECTION) == "disconnected"
    await step("the PBX coming back", pbx.come_up)
    assert state_of(hass, CONNECTION) == "connected"

    # Diagnostics of the entry, the PBX and an extension.
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, config_entry
    )
    watch.add("entry diagnostics", diagnostics)
    assert WEBHOOK_ID not in json.dumps(diagnostics, default=str)
    devices = dr.async_entries_for_config_entry(
        dr.async_get(hass), config_entry.entry_id
    )
    assert len(devices) > 1
    for device in devices:
        watch.add(
            f"device diagnostics of {device.name}",
            await get_diagnostics_for_device(hass, hass_client, config_entry, device),
        )

    # Options (the entry reloads: logout, login).
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    flows.append(("options form", result))
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_HEARTBEAT_INTERVAL: 30,
            CONF_CALLBACK_HOST: "127.0.0.1",
            CONF_CALLBACK_PORT: ha_port,
        },
    )
    flows.append(("options result", result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await step("the options flow")

    # Reconfigure to the same PBX (a test login and logout, then a reload).
    result = await config_entry.start_reconfigure_flow(hass)
    flows.append(("reconfigure form", result))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            key: value
            for key, value in form_input(pbx, PASSWORD).items()
            if key not in (CONF_USERNAME, CONF_PASSWORD)
        }
        | {CONF_API_VERSION: API_VERSION_AUTO},
    )
    flows.append(("reconfigure result", result))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await step("the reconfigure flow")
    assert state_of(hass, CONNECTION) == "connected"

    # The password changes on the PBX: auth_failed, a reauth flow; a wrong try, then the right one.
    pbx.password = NEW_PASSWORD
    await step("a refused password", pbx.forget_tokens)
    assert state_of(hass, CONNECTION) == "auth_failed"
    (reauth,) = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    flows.append(("reauth progress", reauth))
    result = await hass.config_entries.flow.async_configure(
        reauth["flow_id"], {CONF_USERNAME: "api", CONF_PASSWORD: WRONG_PASSWORD}
    )
    flows.append(("reauth with a wrong password", result))
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        reauth["flow_id"], {CONF_USERNAME: "api", CONF_PASSWORD: NEW_PASSWORD}
    )
    flows.append(("reauth with the new password", result))
    assert result["reason"] == "reauth_successful"
    await step("the reauth flow")
    assert state_of(hass, CONNECTION) == "connected"
    assert config_entry.data[CONF_PASSWORD_HASH] == hash_password(NEW_PASSWORD)

    # A lockout: a repair issue, no login; after it, a login again.
    await lock_out(pbx)
    await step("a lockout", pbx.forget_tokens)
    assert state_of(hass, CONNECTION) == "locked_out"
    assert ir.async_get(hass).issues
    pbx.clock.advance(601)
    hass.data[LOCKOUTS].pop(config_entry.entry_id)
    await step("the end of the lockout")
    assert state_of(hass, CONNECTION) == "connected"

    # The config flow for a second PBX: a wrong password, then the right one.
    async with SimulatedPBX(password=OTHER_PASSWORD, serial=OTHER_SERIAL) as other:
        watch.watch_logins(other, monkeypatch)
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        flows.append(("user form", result))
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form_input(other, WRONG_PASSWORD)
        )
        flows.append(("user flow with a wrong password", result))
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form_input(other, OTHER_PASSWORD)
        )
        flows.append(("user flow with the right password", result))
        assert result["type"] is FlowResultType.CREATE_ENTRY
        new_entry = result["result"]
        assert new_entry.data[CONF_PASSWORD_HASH] == hash_password(OTHER_PASSWORD)
        await hass.async_block_till_done()
        assert new_entry.state is ConfigEntryState.LOADED
        watch.note_sessions(other)
        await step("the second PBX's setup")

        # Unload both: logout.
        for entry in hass.config_entries.async_entries(DOMAIN):
            assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        watch.collect(hass, "unload")
        assert pbx.sessions == []
        assert other.sessions == []

    # The hash is stored, by design, and only under password_hash.
    assert config_entry.data[CONF_PASSWORD_HASH] == hash_password(NEW_PASSWORD)
    assert config_entry.unique_id == SERIAL

    for where, flow in flows:
        watch.add_flow_result(where, flow)
    watch.add_logs(caplog.records)
    # The test saw what it looks for: tokens of every login, and a rich log.
    assert len(watch.tokens) >= 8
    assert len(caplog.records) > 100
    assert any(r.name.startswith(LOGGER.name) for r in caplog.records)
    watch.assert_clean()
