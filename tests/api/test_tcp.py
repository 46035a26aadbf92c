"""The TCP report method's event link: login answers of every style, and the framing."""

import asyncio
import json

import pytest

from custom_components.yeastar_s_series.api import (
    EventSplitter,
    YeastarConnectionError,
    YeastarConnectionRefusedError,
    YeastarEventLink,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarLoginUnansweredError,
)
from custom_components.yeastar_s_series.api.tcp import MAX_EVENT_SIZE, login_block
from simulator.tcp_events import LoginAnswer, LoginCheck, TcpEventServer

from .common import PASSWORD

EVENT = b'{"event":"CallStatus","callid":"1.1","members":[],"sn":"1"}'


def check(errno: str | None = None) -> LoginCheck:
    """Return a login check: `api` with PASSWORD gets `errno` (None: accepted), else 20003."""

    def _check(source_ip: str, username: str, secret: str) -> str | None:
        if (username, secret) == ("api", PASSWORD):
            return errno
        return "20003"

    return _check


async def _server(answer: LoginAnswer, errno: str | None = None) -> TcpEventServer:
    server = TcpEventServer(check(errno), answer=answer)
    await server.start()
    return server


def link(server: TcpEventServer, password: str = PASSWORD) -> YeastarEventLink:
    """Return a link to a simulated event port."""
    return YeastarEventLink(
        "127.0.0.1", server.port, username="api", password=password, answer_wait=0.2
    )


def test_login_block_is_the_documented_one() -> None:
    """Four lines, CRLF each, then a blank line; the secret is the plaintext password."""
    assert login_block("api", "p@ss") == (
        b"Action: login\r\nUsername: api\r\nSecret: p@ss\r\nVersion: 2.0.0\r\n\r\n"
    )


@pytest.mark.parametrize("answer", list(LoginAnswer))
async def test_events_flow_after_any_login_answer(answer: LoginAnswer) -> None:
    """An AMI-style, a JSON or no answer at all: the link is up and events arrive."""
    server = await _server(answer)
    try:
        async with link(server) as events:
            while not server.clients:
                await asyncio.sleep(0.01)
            await server.send(EVENT)
            await server.send(EVENT.replace(b"1.1", b"1.2"))
            received = []
            async for body in events.events():
                received.append(json.loads(body)["callid"])
                if len(received) == 2:
                    break
    finally:
        await server.stop()

    assert received == ["1.1", "1.2"]


@pytest.mark.parametrize(
    ("answer", "errno", "error"),
    [
        (LoginAnswer.AMI, None, YeastarInvalidAuthError),
        (LoginAnswer.JSON, None, YeastarInvalidAuthError),
        (LoginAnswer.JSON, "20002", YeastarLockedOutError),
        # No answer and a closed connection: perhaps a refusal, perhaps not.
        (LoginAnswer.SILENT, None, YeastarLoginUnansweredError),
    ],
)
async def test_refused_login(
    answer: LoginAnswer, errno: str | None, error: type[Exception]
) -> None:
    """A wrong password, in each style of answer, raises; the link sends it once."""
    server = await _server(answer, errno)
    try:
        with pytest.raises(error):
            async with link(server, "wrong" if errno is None else PASSWORD):
                pass
    finally:
        await server.stop()

    assert server.logins == 1


async def test_a_closed_connection_ends_the_events() -> None:
    """When the PBX drops the link (a reboot), reading raises a connection error."""
    server = await _server(LoginAnswer.AMI)
    try:
        async with link(server) as events:
            while not server.clients:
                await asyncio.sleep(0.01)
            server.drop_clients()
            with pytest.raises(YeastarConnectionError):
                async for _ in events.events():
                    pass
    finally:
        await server.stop()


async def test_nothing_listening() -> None:
    """No event port: a refused connection, nothing sent."""
    server = await _server(LoginAnswer.AMI)
    port = server.port
    await server.stop()

    with pytest.raises(YeastarConnectionRefusedError):
        async with YeastarEventLink("127.0.0.1", port, username="api", password="x"):
            pass


def test_splitter_cuts_objects_out_of_any_stream() -> None:
    """Split across pieces, several in one, lines between, braces in strings: each once."""
    tricky = b'{"event":"DTMF","info":"} {\\" ]","sn":"1"}'
    stream = b"Event: x\r\n" + EVENT + b"\r\n\r\n" + tricky + b"  " + EVENT + b"\n"
    for size in (1, 2, 7, len(stream)):
        splitter = EventSplitter()
        found = [
            body
            for start in range(0, len(stream), size)
            for body in splitter.feed(stream[start : start + size])
        ]
        assert found == [EVENT, tricky, EVENT], size


def test_splitter_skips_an_oversized_object() -> None:
    """An object over the limit is read to its end and dropped, with what it nests."""
    huge = b'{"event":"X","pad":[' + b'{"a":1},' * (MAX_EVENT_SIZE // 8) + b"{}]}"
    splitter = EventSplitter()

    found = [*splitter.feed(huge[:1000]), *splitter.feed(huge[1000:] + EVENT)]

    assert found == [EVENT]
