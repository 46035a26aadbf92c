"""Neither the token nor the password hash ever shows in errors, reprs or logs."""

import asyncio
from collections.abc import Awaitable, Iterator
import logging
import traceback
from typing import Any

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import YeastarClient, YeastarError
from simulator import SimulatedPBX, generate_certificate

from .common import PASSWORD, PASSWORD_HASH, TARGET, make_client


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """Yield the error and everything reachable through __cause__ and __context__."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(
            linked
            for linked in (current.__cause__, current.__context__)
            if linked is not None
        )


async def capture(errors: list[YeastarError], call: Awaitable[object]) -> None:
    """Await a call that must fail, and keep its error."""
    try:
        await call
    except YeastarError as err:
        errors.append(err)
    else:
        pytest.fail("the call was expected to fail")


def assert_no_secret(text: str, *secrets: str) -> None:
    """Fail naming which secret leaked (0 token, 1 hash), without printing it."""
    for index, secret in enumerate(secrets):
        if secret in text:
            pytest.fail(f"secret #{index} leaked into a text of {len(text)} characters")


async def _hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def test_secrets_stay_out_of_errors_reprs_and_logs(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Every failure path the client has, with a live token, leaks nothing."""
    caplog.set_level(logging.DEBUG)
    errors: list[YeastarError] = []
    certificate = generate_certificate()
    hangup_server = await asyncio.start_server(_hang_up, "127.0.0.1", 0)
    hangup_port = hangup_server.sockets[0].getsockname()[1]

    async with SimulatedPBX(
        username="api", password=PASSWORD, certificate=certificate, port=0
    ) as pbx:
        client = YeastarClient(
            session,
            "127.0.0.1",
            username="api",
            password_hash=PASSWORD_HASH,
            port=pbx.port,
            request_timeout=0.3,
        )
        await client.login(TARGET)
        token = client._token
        assert token
        secrets = (token, PASSWORD_HASH)
        assert_no_secret(repr(client), *secrets)

        pbx.faults.garbage = True
        await capture(errors, client.device_info())
        pbx.faults.garbage = False
        pbx.faults.slow = 2.0
        await capture(errors, client.extensions())
        pbx.faults.slow = 0.0

        https: dict[str, Any] = {
            "username": "api",
            "password_hash": PASSWORD_HASH,
            "port": pbx.port,
        }
        for other in (
            # The PBX's certificate changed after login (a pin), or is checked against CAs.
            YeastarClient(session, "127.0.0.1", fingerprint="00" * 32, **https),
            YeastarClient(session, "127.0.0.1", verify_tls=True, **https),
            # Something else answers on the port, then hangs up.
            make_client(session, hangup_port),
        ):
            other._token = token
            await capture(errors, other.keep_alive(TARGET))
            assert_no_secret(repr(other), *secrets)

        # A wrong password, twice (the second is refused without a request).
        wrong = YeastarClient(
            session,
            "127.0.0.1",
            username="api",
            password_hash=secrets[1][::-1],
            port=pbx.port,
        )
        await capture(errors, wrong.login(TARGET))
        await capture(errors, wrong.login(TARGET))
        pbx.forget_tokens()
        pbx.password = "changed"  # the token is gone and the hash no longer works
        await capture(errors, client.keep_alive(TARGET))
        client._token = token  # a token the PBX no longer knows
        await capture(errors, client.logout())
        await pbx.go_down()
        client._token = token
        await capture(errors, client.device_info())

    hangup_server.close()
    await hangup_server.wait_closed()

    assert {type(error).__name__ for error in errors} >= {
        "YeastarResponseError",
        "YeastarTimeoutError",
        "YeastarTlsError",
        "YeastarConnectionError",
        "YeastarInvalidAuthError",
        "YeastarTokenError",
    }
    for error in errors:
        for linked in exception_chain(error):
            assert_no_secret(str(linked), *secrets)
            assert_no_secret(repr(linked), *secrets)
            assert_no_secret(repr(linked.args), *secrets)
        assert_no_secret("".join(traceback.format_exception(error)), *secrets)
    assert caplog.records, "the client logs refusals at debug level"
    for record in caplog.records:
        assert_no_secret(record.getMessage(), *secrets)
        if record.exc_info:
            assert_no_secret(
                "".join(traceback.format_exception(*record.exc_info)), *secrets
            )
